#!/usr/bin/env bash
# Test dependencies outside Python, installed idempotently (make test runs this before pytest):
#   - Chromium from Debian's packages, for the site's browser tests (headless rendering);
#   - axe-core from npm (tests/browser/package.json), the accessibility rules those tests run.
# Each step does nothing when its tool is already there, so a second run is instant.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "test-deps: installing chromium (Debian package)" >&2
    apt-get install -y -q chromium >/dev/null 2>&1 || {
      apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null
    }
  else
    echo "test-deps: chromium is missing; install Debian's chromium package (apt-get install chromium)" >&2
    exit 1
  fi
fi

browser="$here/tests/browser"
if [ ! -f "$browser/node_modules/axe-core/axe.min.js" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "test-deps: npm is missing; install Node.js and npm to fetch axe-core" >&2
    exit 1
  fi
  echo "test-deps: installing axe-core (npm)" >&2
  (cd "$browser" && npm install --no-audit --no-fund --silent >/dev/null)
fi
