"""A link checker over a published folder: every internal href/src of every page resolves."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path
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
    parser = _Links()
    parser.feed(html)
    return parser.links


def resolve(root: Path, page_key: str, link: str, base_url: str) -> str | None:
    """The store key an internal link points at, or None for an external link."""
    if link.startswith(base_url + "/"):
        return unquote(urlsplit(link[len(base_url) + 1 :]).path)
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith("#"):
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page_key), unquote(parts.path)))
    return target


def exists(root: Path, key: str) -> bool:
    path = root / key
    return path.is_file() or (path.is_dir() and (path / "index.html").is_file())


def broken_links(root: Path, base_url: str) -> list[tuple[str, str]]:
    """(page, link) for every internal link of every HTML page that resolves to nothing."""
    broken = []
    for page in sorted(root.rglob("*.html")):
        key = page.relative_to(root).as_posix()
        for link in page_links(page.read_text(encoding="utf-8")):
            target = resolve(root, key, link, base_url)
            if target is not None and (target.startswith("..") or not exists(root, target)):
                broken.append((key, link))
    return broken
