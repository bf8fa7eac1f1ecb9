"""Every page type as a person sees it: headless Chromium (Debian's package) renders it at desktop
and phone widths (screenshots in tests/browser/artifacts/), axe-core (npm) finds no serious or
critical accessibility violation, and a phone never has to scroll sideways.

infra/test-deps.sh (run by `make test`) installs both. The page is copied with axe injected and
Chromium's --dump-dom prints the DOM once the virtual-time budget has let axe finish.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "tests" / "browser" / "artifacts"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
PROBE = """<script src="{axe}"></script><script>
axe.run(document, {{resultTypes: ["violations"]}}).then(function (r) {{
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({{
    violations: r.violations.map(function (v) {{
      return {{id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}};
    }}),
    overflow: document.documentElement.scrollWidth > window.innerWidth + 1
  }});
  document.body.appendChild(out);
}});
</script>"""


def _chromium() -> str:
    found = shutil.which("chromium")
    assert found, "chromium is missing: run infra/test-deps.sh (make test does)"
    assert AXE.is_file(), "axe-core is missing: run infra/test-deps.sh (make test does)"
    return found


def _run(*args: str) -> str:
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
    return done.stdout


def _page_types(root: Path) -> dict[str, str]:
    return {
        "index": "index.html",
        "district": "districts/D1.html",
        "dataset": "datasets/incidents/index.html",
        "incident": next(root.glob("incidents/*.html")).relative_to(root).as_posix(),
        "meeting": next(root.glob("meetings/*.html")).relative_to(root).as_posix(),
    }


def probe(
    root: Path, key: str, width: int, height: int, shot: Path | None = None
) -> dict[str, object]:
    """axe's violations and whether the page overflows sideways, for the page at `key`; with
    `shot`, the same Chromium run also writes a screenshot of the viewport there."""
    page = root / key
    probed = page.with_name(page.stem + ".probe.html")
    html = page.read_text(encoding="utf-8")
    probed.write_text(html.replace("</body>", PROBE.format(axe=AXE.as_uri()) + "</body>"))
    args = [f"--window-size={width},{height}", "--virtual-time-budget=4000", "--dump-dom"]
    if shot is not None:
        args.append(f"--screenshot={shot}")
    try:
        dom = _run(*args, probed.as_uri())
    finally:
        probed.unlink()
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, f"axe did not report on {key}: {dom[-500:]}"
    return json.loads(html_lib.unescape(found.group(1)))


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("page_type", ["index", "district", "dataset", "incident", "meeting"])
def test_page_renders_accessibly(site_root: Path, page_type: str, width: str) -> None:
    key = _page_types(site_root)[page_type]
    w, h = WIDTHS[width]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{page_type}-{width}.png"
    shot.unlink(missing_ok=True)
    result = probe(site_root, key, w, h, shot)
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]  # type: ignore[union-attr, index]
    assert bad == [], bad
    assert result["overflow"] is False, f"{key} scrolls sideways at {w}px"


def test_the_probe_would_catch_a_violation(tmp_path: Path) -> None:
    """Without this, an axe that silently checked nothing would pass every page."""
    (tmp_path / "bad.html").write_text(
        "<!DOCTYPE html><html><head><title>x</title></head><body>"
        '<img src="x.png"><a href="#"></a><div style="width:2000px">wide</div></body></html>'
    )
    result = probe(tmp_path, "bad.html", 390, 844)
    ids = {v["id"] for v in result["violations"]}  # type: ignore[union-attr, index]
    assert "image-alt" in ids and "html-has-lang" in ids
    assert result["overflow"] is True
