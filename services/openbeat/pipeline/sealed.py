"""The sealed ledger: every sealed aggregate figure, kept in private state, written once.

`aggregate.sealing` decides what is sealed and computes it; this module keeps it. The ledger of
a dataset is one index object (grain, last sealed day, shard names) and one shard per calendar
month of period starts, holding each period's rows with their private shown values. It lives
beside the aggregator's checkpoint, never under the public tree: rows hold values that are
suppressed in the published files.

Writes go shard first, index last: a crash between them leaves the old index, so the periods
not indexed are sealed again by the next release, which never published them. A period already
indexed is never rewritten (`sealing.seal` refuses).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import date
from typing import Any, cast

from openbeat.aggregate.periods import Grain
from openbeat.aggregate.sealing import Sealed
from openbeat.store import ObjectNotFound, ObjectStore

logger = logging.getLogger(__name__)

# Private state (with the aggregator's checkpoint); moves to the private store with it.
SEALED_PREFIX = "_internal/sealed"
LEDGER_FORMAT = 1
# Row fields that are local dates (stored as ISO text).
_DATE_FIELDS = ("date", "period_start")


class LedgerError(ValueError):
    """A ledger object that cannot be read; the message names its key."""


def _index_key(dataset: str) -> str:
    return f"{SEALED_PREFIX}/{dataset}/index.json"


def _shard_key(dataset: str, shard: str) -> str:
    return f"{SEALED_PREFIX}/{dataset}/{shard}.json"


def _shard_of(period_key: str) -> str:
    """Shard name of a period key: its year and month ("2026-W49" shards by ISO year)."""
    return period_key[:7] if "W" not in period_key else period_key[:4]


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in _DATE_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = date.fromisoformat(out[name])
    return out


def load_sealed(store: ObjectStore, dataset: str, grain: Grain) -> Sealed:
    """The dataset's ledger (empty when nothing was sealed yet)."""
    key = _index_key(dataset)
    try:
        index = json.loads(store.get(key))
    except ObjectNotFound:
        return Sealed(grain)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LedgerError(f"{key}: not JSON: {exc}") from exc
    if index.get("format") != LEDGER_FORMAT or index.get("grain") != grain:
        raise LedgerError(f"{key}: expected format {LEDGER_FORMAT} and grain {grain}")
    through = date.fromisoformat(index["through"]) if index.get("through") else None
    ledger = Sealed(grain, through)
    for shard in index.get("shards", []):
        shard_key = _shard_key(dataset, shard)
        try:
            periods = json.loads(store.get(shard_key))["periods"]
        except (ObjectNotFound, KeyError, json.JSONDecodeError) as exc:
            raise LedgerError(f"{shard_key}: missing or malformed ({exc!r})") from exc
        for period, rows in cast(dict[str, list[dict[str, Any]]], periods).items():
            if through is not None and period <= _last_key(index):
                ledger.periods[period] = [_decode(row) for row in rows]
    return ledger


def _last_key(index: dict[str, Any]) -> str:
    # Periods written to a shard after the index last moved are not sealed yet (crash between
    # shard and index): the index's `last` key bounds what counts.
    return str(index.get("last", "\uffff"))


def save_sealed(store: ObjectStore, dataset: str, ledger: Sealed, new_keys: list[str]) -> None:
    """Write the shards holding `new_keys`, then the index (which makes them sealed)."""
    if not new_keys:
        return
    touched: dict[str, dict[str, Any]] = defaultdict(dict)
    for period in ledger.periods:
        shard = _shard_of(period)
        touched[shard]  # every shard is listed in the index
    for period in new_keys:
        touched[_shard_of(period)]["changed"] = True
    for shard, info in sorted(touched.items()):
        if not info:
            continue
        periods = {
            period: [_encode(row) for row in rows]
            for period, rows in sorted(ledger.periods.items())
            if _shard_of(period) == shard
        }
        body = json.dumps({"format": LEDGER_FORMAT, "periods": periods}, sort_keys=True)
        store.put(_shard_key(dataset, shard), body.encode(), "application/json")
    index = {
        "format": LEDGER_FORMAT,
        "grain": ledger.grain,
        "through": ledger.through.isoformat() if ledger.through else None,
        "last": max(ledger.periods) if ledger.periods else None,
        "shards": sorted(touched),
    }
    store.put(_index_key(dataset), json.dumps(index, sort_keys=True).encode(), "application/json")
    logger.info("sealed ledger of %s: %d new periods through %s", dataset, len(new_keys), index)
