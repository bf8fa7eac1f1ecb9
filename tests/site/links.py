"""The site's link checker (openbeat.site.links) over a published folder."""

from __future__ import annotations

from pathlib import Path

from openbeat.site.links import broken_links as broken_in
from openbeat.site.links import resolve as resolve_key


def resolve(root: Path, page_key: str, link: str, base_url: str) -> str | None:
    return resolve_key(page_key, link, base_url)


def broken_links(root: Path, base_url: str) -> list[tuple[str, str]]:
    keys = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    pages = {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*.html")
    }
    return broken_in(pages, keys, base_url)
