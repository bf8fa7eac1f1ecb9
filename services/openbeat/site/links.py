"""Internal links of the site's pages: which store key each points at, and which resolve.

One link checker for the tests and for `openbeat verify`: every href and src of every HTML page
under the public root, relative or under the public base URL, must name an object (or a folder
with an index.html) that exists.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def page_links(html: str) -> list[str]:
    """Every href and src of an HTML page, in document order."""
    parser = _Links()
    parser.feed(html)
    return parser.links


def resolve(page_key: str, link: str, base_url: str | None = None) -> str | None:
    """The store key an internal link points at; None for an external link or a fragment."""
    if base_url and link.startswith(base_url.rstrip("/") + "/"):
        return unquote(urlsplit(link[len(base_url.rstrip("/")) + 1 :]).path)
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith("#") or not parts.path:
        return None
    joined = posixpath.join(posixpath.dirname(page_key), unquote(parts.path))
    target = posixpath.normpath(joined)
    return target + "/" if parts.path.endswith("/") else target


def exists(keys: frozenset[str] | set[str], key: str) -> bool:
    if key.startswith("../") or key == "..":
        return False
    return key in keys or f"{key.rstrip('/')}/index.html" in keys


def broken_links(
    pages: Mapping[str, str], keys: Iterable[str], base_url: str | None = None
) -> list[tuple[str, str]]:
    """(page key, link) of every internal link that resolves to nothing."""
    known = frozenset(keys)
    broken = []
    for key in sorted(pages):
        for link in page_links(pages[key]):
            target = resolve(key, link, base_url)
            if target is not None and not exists(known, target):
                broken.append((key, link))
    return broken
