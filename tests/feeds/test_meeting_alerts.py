"""Meeting items: the next 14 days of public events; cancellations and new times update in place."""

from __future__ import annotations

from datetime import datetime

from feed_records import NOW, D, H, engagement, new_state, rules

from openbeat.feeds.alerts import AlertState
from openbeat.feeds.items import FeedItem, item_guid


def _meetings(state: AlertState, now: datetime = NOW) -> list[FeedItem]:
    return list(state.items(now, rules()).meetings)


def test_horizon_is_the_next_14_days() -> None:
    state = new_state()
    state.absorb_engagement(engagement("soon", NOW + 2 * D))
    state.absorb_engagement(engagement("edge", NOW + 14 * D))
    state.absorb_engagement(engagement("far", NOW + 15 * D))
    state.absorb_engagement(engagement("past", NOW - H))
    guids = {m.guid for m in _meetings(state)}
    assert guids == {item_guid("meeting", "soon"), item_guid("meeting", "edge")}
    # A week on, the far one has come into range and the soon one has passed.
    assert {m.guid for m in _meetings(state, NOW + 7 * D)} == {
        item_guid("meeting", "edge"),
        item_guid("meeting", "far"),
    }


def test_cancellation_updates_the_same_item_until_its_start_passes() -> None:
    state = new_state()
    start = NOW + 3 * D
    state.absorb_engagement(engagement("m", start))
    [before] = _meetings(state)
    assert not before.title.startswith("Cancelled")
    state.absorb_engagement(engagement("m", start, revision=2, status="cancelled"))
    [after] = _meetings(state)
    assert after.guid == before.guid
    assert after.title.startswith("Cancelled: ")
    assert "cancelled" in after.description
    assert [m.guid for m in _meetings(state, start - H)] == [before.guid]
    assert _meetings(state, start + H) == []


def test_time_change_keeps_the_guid_and_moves_the_date() -> None:
    state = new_state()
    state.absorb_engagement(engagement("m", NOW + 3 * D))
    [before] = _meetings(state)
    state.absorb_engagement(engagement("m", NOW + 5 * D, revision=2))
    [after] = _meetings(state)
    assert after.guid == before.guid
    assert after.published == NOW + 5 * D
    assert after.title != before.title  # the title shows the new local time


def test_out_of_order_revisions_settle_on_the_latest() -> None:
    state = new_state()
    state.absorb_engagement(engagement("m", NOW + 3 * D, revision=2, status="cancelled"))
    state.absorb_engagement(engagement("m", NOW + 3 * D, revision=1))
    [item] = _meetings(state)
    assert item.title.startswith("Cancelled: ")


def test_withdrawn_event_disappears() -> None:
    state = new_state()
    state.absorb_engagement(engagement("m", NOW + 3 * D))
    state.absorb_engagement(engagement("m", NOW + 3 * D, revision=2, withdrawn=True))
    assert _meetings(state) == []


def test_meeting_text_shows_local_time_and_district_name() -> None:
    state = new_state()
    # 00:30 UTC on March 8 is 18:30 on March 7 in Riverton (CST).
    state.absorb_engagement(engagement("m", datetime.fromisoformat("2024-03-08T00:30:00+00:00")))
    names = {"D2": "Northside"}
    [item] = state.items(NOW, rules(), names).meetings
    assert "2024-03-07 18:30 CST" in item.title
    assert "Northside" in item.description
    assert item.district == "D2"
    assert item.categories == ("meeting", "community_meeting")


def test_meeting_items_read_as_words_in_the_jurisdictions_language() -> None:
    from openbeat.messages import load_messages

    state = new_state()
    state.absorb_engagement(engagement("m1", NOW + 2 * D, topics=("cyber_safety", "drugs")))
    english = state.items(NOW, rules()).meetings[0]
    assert "Topics: Online safety, Drugs." in english.description
    assert "cyber_safety" not in english.description + english.title
    spanish = state.items(NOW, rules(), messages=load_messages("es")).meetings[0]
    assert "Temas: Seguridad en internet, Drogas." in spanish.description


def test_meeting_items_are_dated_by_their_announcement_not_their_start() -> None:
    state = new_state()
    announced = NOW - D
    state.absorb_engagement(engagement("m1", NOW + 5 * D), seen=announced.timestamp())
    # A later version (new time) keeps the first announcement as the item's date.
    later = engagement("m1", NOW + 6 * D, revision=2)
    state.absorb_engagement(later, seen=NOW.timestamp())
    item = state.items(NOW, rules()).meetings[0]
    assert item.published == announced
    assert item.updated == NOW
