"""The residents' transparency site: static pages, charts, calendars and map data.

`build_site(inputs)` is pure (plain data in, `{key: bytes}` out); `read_inputs` reads the
public store; `SitePublisher` writes what changed; `SiteRebuilder` runs it off the hot path.
"""

from openbeat.site.build import build_site, content_type
from openbeat.site.inputs import SiteInputs, read_inputs
from openbeat.site.publisher import SitePublisher, SiteRebuilder

__all__ = [
    "SiteInputs",
    "SitePublisher",
    "SiteRebuilder",
    "build_site",
    "content_type",
    "read_inputs",
]
