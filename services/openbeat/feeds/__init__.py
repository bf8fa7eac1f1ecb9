"""Alert feeds: alert rules, the alerter's state, and RSS 2.0 / Atom / JSON Feed rendering.

Pure code: the alerter service feeds public records into an `AlertState`, calls `feed_objects`
and writes the objects whose bytes changed.
"""

from openbeat.feeds.alerts import AlertInputError, AlertState, AlertStateError
from openbeat.feeds.items import FeedItem, FeedItems
from openbeat.feeds.objects import FeedObject, feed_objects
from openbeat.feeds.render import FeedMeta, render_atom, render_json_feed, render_rss
from openbeat.feeds.rules import AlertRules, AlertRulesError, load_alert_rules

__all__ = [
    "AlertInputError",
    "AlertRules",
    "AlertRulesError",
    "AlertState",
    "AlertStateError",
    "FeedItem",
    "FeedItems",
    "FeedMeta",
    "FeedObject",
    "feed_objects",
    "load_alert_rules",
    "render_atom",
    "render_json_feed",
    "render_rss",
]
