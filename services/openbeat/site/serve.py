"""`openbeat serve [ROOT]`: preview the public root in a browser, as the public would see it.

A small static server (the standard library's), serving files of the public root only: the
store's private prefixes (`_internal/`, `staging/`, the `.meta` side files) answer 404
even when a development store keeps them in the same folder, and nothing outside the root is
reachable. Content types are the published ones (Parquet, RSS, Atom, JSON Feed, iCalendar,
GeoJSON), so a browser or a feed reader pointed at it behaves as against the real host.
"""

from __future__ import annotations

import functools
import logging
import posixpath
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from openbeat.store.local import PRIVATE_PREFIXES

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".parquet": "application/vnd.apache.parquet",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".ics": "text/calendar; charset=utf-8",
    ".geojson": "application/geo+json",
}


def is_public(path: str) -> bool:
    """True for a URL path the preview may serve."""
    key = posixpath.normpath(unquote(urlsplit(path).path)).lstrip("/")
    if key in ("", "."):
        return True
    parts = key.split("/")
    if any(p.startswith(".") for p in parts):
        return False
    return not any((key + "/").startswith(p) for p in (*PRIVATE_PREFIXES, "private/"))


class PublicHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}  # noqa: RUF012

    def send_head(self):  # type: ignore[no-untyped-def]
        if not is_public(self.path):
            self.send_error(404, "not part of the public root")
            return None
        return super().send_head()

    def list_directory(self, path):  # type: ignore[no-untyped-def]
        self.send_error(404, "no listing: open index.html")
        return None

    def log_message(self, format: str, *args: object) -> None:
        logger.info("%s %s", self.address_string(), format % args)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    if not root.is_dir():
        raise FileNotFoundError(
            f"public root {root} is not a folder; run a release first or give ROOT"
        )
    handler = functools.partial(PublicHandler, directory=str(root))
    return ThreadingHTTPServer((host, port), handler)


def serve(root: Path, host: str = "127.0.0.1", port: int = 8000) -> int:
    server = make_server(root, host, port)
    print(f"serving {root} at http://{host}:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
