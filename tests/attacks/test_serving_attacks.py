"""The public root served over HTTP exposes no private path (issue 9, items 1 and 8).

The scenario's public root and its private store (beside it, as deployed) are copied where a web
server's own user can read them. The private state is also copied INTO the public root, as an
upgraded deployment that still keeps `staging/` and `_internal/` there would have it, readable
by everyone. Then the root is served by `openbeat serve` and by Debian's nginx with the shipped
`infra/nginx/openbeat-locations.conf`, and a resident asks for every private object under its own
key, through `..` and encoded traversals to the private store beside the root, and for listings.
None may answer 200 or return private bytes; every published file must be served and none may
name a private path. The attack succeeds against the README's old `python -m http.server` recipe
(`test_the_old_recipe_serves_private_state`): without the rules, the checkpoint is one GET away.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from scenario import Scenario

from openbeat.pipeline.aggregator import CHECKPOINT_KEY as AGGREGATOR_CHECKPOINT
from openbeat.pipeline.alerter import CHECKPOINT_KEY as ALERTER_CHECKPOINT
from openbeat.pipeline.sealed import SEALED_PREFIX
from serving import (
    command_serving,
    get,
    nginx_serving,
    openbeat_command,
    raw_get,
    world_readable_dir,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]


@dataclass(frozen=True)
class Deployment:
    public: Path  # the served root: the published tree plus planted private state
    private: Path  # the private store, beside the root
    private_keys: tuple[str, ...]  # every object of the private store
    public_keys: tuple[str, ...]  # every published object (dot-files aside)
    forbidden: tuple[str, ...]  # strings no served file may contain


def _keys(root: Path) -> tuple[str, ...]:
    return tuple(
        str(p.relative_to(root))
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def _open_to_all(root: Path) -> None:
    """Readable by the server's user, so that only the serving rules can keep a file private."""
    root.chmod(0o755)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture(scope="module")
def deployment(scenario: Scenario) -> Iterator[Deployment]:
    work = world_readable_dir("openbeat-attack-serve-")
    try:
        public, private = work / "store", work / "private"
        private_source = scenario.root.with_name("private")
        shutil.copytree(scenario.root, public)
        shutil.copytree(private_source, private)
        public_keys = _keys(public)
        private_keys = _keys(private)
        # The attack's targets exist: staged records, both checkpoints, the sealed ledger.
        assert any(k.startswith("staging/") for k in private_keys)
        assert {AGGREGATOR_CHECKPOINT, ALERTER_CHECKPOINT} <= set(private_keys)
        assert any(k.startswith(f"{SEALED_PREFIX}/") for k in private_keys)
        for key in private_keys:  # the upgraded deployment: private state in the public root
            (public / key).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(private / key, public / key)
        _open_to_all(public)
        _open_to_all(private)
        forbidden = (
            str(private_source),
            str(private),
            "_internal/",
            "staging/",
            *(k for k in private_keys if "/" in k),
        )
        yield Deployment(public, private, private_keys, public_keys, forbidden)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module", params=["openbeat serve", "nginx"])
def server(request: pytest.FixtureRequest, deployment: Deployment) -> Iterator[str]:
    if request.param == "nginx":
        work = world_readable_dir("openbeat-attack-nginx-")
        try:
            with nginx_serving(deployment.public, work) as url:
                yield url
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    args = [*openbeat_command(), "serve", str(deployment.public), "--port", "{port}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
    with command_serving(args, env) as url:
        yield url


def _attempts(key: str) -> list[str]:
    """Every way a resident may spell a request for a private object."""
    return [
        f"/{key}",
        f"/{quote(key, safe='')}",
        f"/datasets/../{key}",
        f"/./{key}",
        f"//{key}",
        f"/../private/{key}",
        f"/%2e%2e/private/{key}",
        f"/..%2fprivate%2f{quote(key, safe='')}",
        f"/datasets/%2e%2e/%2e%2e/private/{key}",
        f"/feeds/..%2f..%2fprivate/{key}",
    ]


def test_the_old_recipe_serves_private_state(deployment: Deployment) -> None:
    """The control: a plain static server over the same root hands out the private state."""
    checkpoint = AGGREGATOR_CHECKPOINT  # withheld incidents by day, district and category
    args = [sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1"]
    args += ["--directory", str(deployment.public)]
    with command_serving(args) as url:
        status, _, body = get(f"{url}/{checkpoint}")
    assert status == 200 and body == (deployment.private / checkpoint).read_bytes()


def test_no_private_object_is_reachable(server: str, deployment: Deployment) -> None:
    port = urlsplit(server).port
    assert port is not None
    for key in deployment.private_keys:
        secret = (deployment.private / key).read_bytes()
        for path in _attempts(key):
            status, body = raw_get(port, path)
            assert status != 200, (path, status)
            assert not (secret and secret in body), path


@pytest.mark.parametrize(
    "path",
    ["/staging/", "/_internal/", "/_internal/sealed/", "/private/", "/../private/", "/.meta/"],
)
def test_no_private_listing(server: str, path: str) -> None:
    port = urlsplit(server).port
    assert port is not None
    status, body = raw_get(port, path)
    assert status != 200, (path, status)
    assert b"state.json" not in body and b".avro" not in body


def test_every_published_file_is_served_and_names_no_private_path(
    server: str, deployment: Deployment
) -> None:
    assert len(deployment.public_keys) > 20  # releases, catalog, feeds and the site
    assert "index.html" in deployment.public_keys
    for key in deployment.public_keys:
        status, _, body = get(f"{server}/{quote(key)}")
        assert status == 200, key
        text = body.decode("utf-8", "replace")
        for needle in deployment.forbidden:
            assert needle not in text, (key, needle)
