#!/usr/bin/env bash
# `make run`: the whole pipeline once, on the embedded defaults (local broker, local folder store).
# Idempotent: the sample is emitted once per broker data folder, and re-running the services
# over already consumed topics changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.venv/bin
var=var
mkdir -p "$var"
export OPENBEAT_STORE="${OPENBEAT_STORE:-$PWD/$var/store}"
# Private state (staged records, checkpoints) beside the public root, never inside it.
export OPENBEAT_PRIVATE_STORE="${OPENBEAT_PRIVATE_STORE:-$PWD/$var/private}"

# A local development key, made once. Production sets OPENBEAT_PSEUDONYM_KEY from a secret store.
if [[ -z "${OPENBEAT_PSEUDONYM_KEY:-}" ]]; then
  keyfile="$var/dev-pseudonym.key"
  if [[ ! -s "$keyfile" ]]; then
    (umask 077; $bin/python -c 'import secrets; print(secrets.token_hex(32))' > "$keyfile")
  fi
  export OPENBEAT_PSEUDONYM_KEY="$(cat "$keyfile")"
  echo "WARNING: using the local development pseudonym key in $keyfile;" \
       "set OPENBEAT_PSEUDONYM_KEY to a real secret before publishing anything." >&2
fi

echo "== topics"
$bin/openbeat topics apply

marker="${OPENBEAT_KAFKA_HOME:-infra/kafka/run}/data/.openbeat-sample-emitted"
samples="${OPENBEAT_SAMPLE_EVENTS:-3000}"
if [[ -f "$marker" ]]; then
  echo "== sample already emitted to this broker ($(cat "$marker")); not sending it twice"
else
  echo "== emitting $samples sample events (seed 1)"
  cutoff="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  $bin/openbeat emit --sample "$samples" --seed 1 --no-progress
  echo "$cutoff" > "$marker"
fi
# The release cutoff is the moment the sample was emitted, so re-running `make run` re-cuts the
# same release (and finds it unchanged) instead of publishing a new one.
cutoff="$(cat "$marker")"

echo "== running the services until every input is consumed"
# Releases are cut explicitly below, not on the publisher's daily schedule.
OPENBEAT_RELEASE_INTERVAL_S=0 $bin/openbeat run --until-idle

echo "== releasing every dataset as of $cutoff"
$bin/openbeat release --cutoff "$cutoff"

echo "== verifying the published tree"
$bin/openbeat verify "$OPENBEAT_STORE" 2>/dev/null | tail -n 1

echo
echo "Done. Look at it:"
echo "  the residents' site: $bin/openbeat serve   then open http://127.0.0.1:8000/"
echo "  catalog (DCAT-US):  $OPENBEAT_STORE/catalog/data.json"
for d in "$OPENBEAT_STORE"/datasets/*/; do
  echo "  dataset:            ${d}latest.json"
done
echo "  feeds:              $OPENBEAT_STORE/feeds/alerts.rss (.atom, .json), feeds/meetings.rss,"
echo "                      feeds/districts/<district>.rss"
echo "  private state:      $OPENBEAT_PRIVATE_STORE (never serve it)"
echo "  calendar:           feeds/meetings.ics (and feeds/districts/<district>.ics)"
echo "  subscribe locally:  with openbeat serve running, http://127.0.0.1:8000/feeds/alerts.rss"
echo "                      in any feed reader"
echo "  Kafka topics:       openbeat.public.*, openbeat.deadletter on 127.0.0.1:${OPENBEAT_KAFKA_PORT:-9092}"
