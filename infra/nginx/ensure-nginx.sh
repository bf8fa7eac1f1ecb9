#!/usr/bin/env bash
# Prints the path of an nginx binary for the tests: the system's if installed, else Debian's
# package unpacked into var/nginx/ (apt-get download + dpkg-deb -x: no service is started and
# nothing outside the repository changes). Idempotent; the package lists are refreshed only
# when the download fails without them.
set -euo pipefail
cd "$(dirname "$0")/../.."
for candidate in "$(command -v nginx || true)" /usr/sbin/nginx var/nginx/usr/sbin/nginx; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then
        echo "$candidate"
        exit 0
    fi
done
command -v apt-get >/dev/null || { echo "ensure-nginx: no nginx and no apt-get" >&2; exit 1; }
mkdir -p var/nginx/deb
(
    cd var/nginx/deb
    apt-get download nginx >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download nginx >/dev/null; }
)
dpkg-deb -x var/nginx/deb/nginx_*.deb var/nginx
echo var/nginx/usr/sbin/nginx
