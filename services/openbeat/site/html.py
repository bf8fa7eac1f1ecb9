"""HTML building blocks of the site: escaping, the page frame, tables, links.

Every value is escaped here (`esc`), never pasted into markup, so a venue called `<script>`
shows as text. Links inside the site are relative (`rel`), so the same bytes work under any
base URL, from a file:// folder, and behind `openbeat serve`. The pages use semantic HTML
(landmarks, headings in order, table captions and header cells, a skip link, a language) and a
small inline style sheet: no JavaScript, no external request.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from openbeat.messages import Messages

STYLE = """
:root{--fg:#1b1b1b;--muted:#4a4a4a;--bg:#fff;--accent:#0b5394;--line:#d0d0d0}
*{box-sizing:border-box}
body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg)}
a{color:var(--accent)}a:focus{outline:3px solid #ffbf47}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
header,main,footer{max-width:64rem;margin:0 auto;padding:1rem}
header{border-bottom:1px solid var(--line)}header p{margin:.2rem 0;color:var(--muted)}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem 1.2rem}
h1{font-size:1.6rem;margin:.3rem 0}h2{font-size:1.25rem;margin-top:2rem}
.cards{display:flex;flex-wrap:wrap;gap:1rem}
.card{border:1px solid var(--line);border-radius:.4rem;padding:.8rem 1rem;min-width:12rem}
.card strong{display:block;font-size:1.8rem}
figure{margin:1rem 0}figure img{max-width:100%;height:auto}
table{border-collapse:collapse;margin:.5rem 0;max-width:100%}
.scroll{overflow-x:auto}
th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
caption{text-align:left;font-weight:600;padding:.3rem 0}
td.n{text-align:right;font-variant-numeric:tabular-nums}
footer{border-top:1px solid var(--line);color:var(--muted);font-size:.9rem}
.notice{border-left:4px solid #b00020;padding:.3rem .8rem;background:#fdecee}
"""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def rel(from_path: str, to_path: str) -> str:
    """The relative URL from the page at `from_path` to `to_path` (both store keys)."""
    base = posixpath.dirname(from_path) or "."
    return posixpath.relpath(to_path, base)


@dataclass(frozen=True)
class Frame:
    """What every page shares: language, city, the navigation and the footer."""

    messages: Messages
    city: str
    publisher: str
    email: str
    nav: tuple[tuple[str, str], ...]  # (label, key)


def page(frame: Frame, path: str, title: str, body: str) -> bytes:
    """A complete HTML document for the page at `path`."""
    m = frame.messages
    links = "".join(
        f'<li><a href="{esc(rel(path, key))}">{esc(label)}</a></li>' for label, key in frame.nav
    )
    doc = (
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(m.html_lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)} · {esc(frame.city)}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<a class="skip" href="#main">{esc(m.text("site.skip"))}</a>\n'
        f"<header>\n<p>{esc(frame.city)}</p>\n"
        f'<nav aria-label="{esc(m.text("site.home"))}"><ul>{links}</ul></nav>\n</header>\n'
        f'<main id="main">\n<h1>{esc(title)}</h1>\n{body}\n</main>\n'
        f"<footer><p>{esc(m.text('site.footer', publisher=frame.publisher, email=frame.email))}"
        "</p></footer>\n</body>\n</html>\n"
    )
    return doc.encode("utf-8")


def table(
    caption: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    numeric: Iterable[int] = (),
    css_class: str = "",
) -> str:
    """A captioned table with header cells; columns in `numeric` are right-aligned."""
    right = set(numeric)
    attrs = f' class="{esc(css_class)}"' if css_class else ""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            if i == 0:
                cells.append(
                    f'<th scope="row">{value if isinstance(value, Raw) else esc(value)}</th>'
                )
            else:
                cls = ' class="n"' if i in right else ""
                cells.append(f"<td{cls}>{value if isinstance(value, Raw) else esc(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        # A table wider than a phone scrolls inside its region, which keyboard users can focus.
        f'<div class="scroll" tabindex="0" role="region" aria-label="{esc(caption)}">'
        f"<table{attrs}><caption>{esc(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


class Raw(str):
    """Markup already escaped (a link in a table cell)."""


def link(href: str, text: str) -> Raw:
    return Raw(f'<a href="{esc(href)}">{esc(text)}</a>')


def figure(src: str, alt: str, caption: str, numbers: str, summary: str) -> str:
    """A chart image with its text alternative and its numbers as a table."""
    return (
        f'<figure><img src="{esc(src)}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
        f"<details><summary>{esc(summary)}</summary>{numbers}</details>"
    )


def items_list(entries: Iterable[tuple[str, str, str]], empty: str) -> str:
    """`<ul>` of (href, text, detail); `empty` when there are none."""
    out = [
        f'<li><a href="{esc(href)}">{esc(text)}</a>{" — " + esc(detail) if detail else ""}</li>'
        for href, text, detail in entries
    ]
    return f"<ul>{''.join(out)}</ul>" if out else f"<p>{esc(empty)}</p>"
