"""The residents' transparency site: static pages, charts, calendars and map data.

`build_site(inputs)` is pure (plain data in, `{key: bytes}` out); `read_inputs` reads the
public store; `SitePublisher` writes what changed; `SiteRebuilder` runs it off the hot path.
Imported lazily: services that only request rebuilds do not load the builder until a build runs.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SiteInputs",
    "SitePublisher",
    "SiteRebuilder",
    "build_site",
    "content_type",
    "read_inputs",
]

_HOMES = {
    "SiteInputs": "openbeat.site.inputs",
    "read_inputs": "openbeat.site.inputs",
    "build_site": "openbeat.site.build",
    "content_type": "openbeat.site.build",
    "SitePublisher": "openbeat.site.publisher",
    "SiteRebuilder": "openbeat.site.publisher",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
