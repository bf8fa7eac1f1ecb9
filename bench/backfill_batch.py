"""The backfill bench's baseline: the core of openbeat's incident transform as one batch job.

What a data engineer would write with pyarrow for a one-off import of a Chicago export to one
Parquet file: read the CSV, drop rows without a district, hundred-block the address (the
`012XX W MAIN ST` form), snap the point to the centre of a 250 m grid cell, replace the id with a
keyed HMAC-SHA256 pseudonym, truncate the local time to the hour (UTC beside it), write zstd
Parquet. No validation, no policy beyond those four rules, no CSV, manifest or catalog.

Run: `python -m bench.backfill_batch EXPORT OUT.parquet HEXKEY`; prints the seconds taken.
"""

from __future__ import annotations

import hmac
import re
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

CELL_M = 250.0
METERS_PER_DEGREE = 111_320.0
_BLOCK = re.compile(r"^(\d{1,4})XX\s+(.+)$|^(\d{1,6})\s+(.+)$")


def _hundred_block(address: str | None) -> str | None:
    if not address:
        return None
    match = _BLOCK.match(address.upper().strip())
    if match is None:
        return None
    if match.group(1) is not None:
        return f"{int(match.group(1)):03d}XX {match.group(2)}"
    return f"{int(match.group(3)) // 100:03d}XX {match.group(4)}"


def _snap(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlat = CELL_M / METERS_PER_DEGREE
    centre_lat = (np.floor(lat / dlat) + 0.5) * dlat
    dlon = CELL_M / (METERS_PER_DEGREE * np.cos(np.radians(centre_lat)))
    centre_lon = (np.floor(lon / dlon) + 0.5) * dlon
    return np.round(centre_lat, 6), np.round(centre_lon, 6)


def transform(export: str, out: str, key: bytes) -> None:
    table = pcsv.read_csv(
        export,
        convert_options=pcsv.ConvertOptions(
            strings_can_be_null=True,
            column_types={"ID": pa.string(), "District": pa.string(), "IUCR": pa.string()},
            include_columns=[
                "ID",
                "Date",
                "Block",
                "IUCR",
                "Primary Type",
                "District",
                "Latitude",
                "Longitude",
            ],
        ),
    )
    table = table.filter(pc.is_valid(table["District"]))
    ids = [
        hmac.digest(key, f"8:incident3:CPD{len(i)}:{i}".encode(), "sha256")[:16].hex()
        for i in table["ID"].to_pylist()
    ]
    blocks = [_hundred_block(a) for a in table["Block"].to_pylist()]
    local = pc.strptime(table["Date"], format="%m/%d/%Y %I:%M:%S %p", unit="s")
    local_hour = pc.floor_temporal(local, unit="hour")
    utc_hour = pc.assume_timezone(
        local_hour, "America/Chicago", ambiguous="earliest", nonexistent="earliest"
    )
    lat = table["Latitude"].to_numpy(zero_copy_only=False)
    lon = table["Longitude"].to_numpy(zero_copy_only=False)
    snapped_lat, snapped_lon = _snap(lat, lon)
    result = pa.table(
        {
            "incident_id": pa.array(ids),
            "occurred_hour_local": local_hour,
            "occurred_hour": utc_hour,
            "block": pa.array(blocks, pa.string()),
            "offense": table["Primary Type"],
            "iucr": table["IUCR"],
            "district": table["District"],
            "latitude": pa.array(snapped_lat, from_pandas=True),
            "longitude": pa.array(snapped_lon, from_pandas=True),
        }
    )
    pq.write_table(result, out, compression="zstd")


if __name__ == "__main__":
    started = time.perf_counter()
    transform(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]))
    print(f"{time.perf_counter() - started:.3f}")
