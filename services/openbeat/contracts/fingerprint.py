"""CRC-64-AVRO (Rabin) fingerprints of Avro schemas, as the single-object encoding uses them.

The Avro specification defines the fingerprint as a 64-bit Rabin CRC over the UTF-8 bytes of the
schema's Parsing Canonical Form (PCF). We take the PCF from fastavro (its output is checked
against the specification's vectors in tests/contracts/test_fingerprint.py) and compute the CRC
here, table-driven, exactly as the specification's reference code does, so the fingerprint does
not depend on how a fastavro release chooses to format its hex output.
"""

from __future__ import annotations

from typing import Any

from fastavro.schema import to_parsing_canonical_form

# The specification's "EMPTY" constant: the CRC of an empty input, and the polynomial seed.
CRC64_EMPTY = 0xC15D213AA4D7A795
_MASK64 = 0xFFFFFFFFFFFFFFFF


def _build_table() -> tuple[int, ...]:
    """The 256-entry table of the specification's reference implementation."""
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (CRC64_EMPTY & -(fp & 1))
        table.append(fp & _MASK64)
    return tuple(table)


_TABLE = _build_table()


def crc64_avro(data: bytes) -> int:
    """CRC-64-AVRO of raw bytes, as an unsigned 64-bit integer."""
    fp = CRC64_EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _TABLE[(fp ^ byte) & 0xFF]
    return fp


def canonical_form(schema: Any) -> str:
    """Parsing Canonical Form of a schema given as parsed JSON (dict, list or type name)."""
    return str(to_parsing_canonical_form(schema))


def fingerprint(schema: Any) -> int:
    """CRC-64-AVRO fingerprint (unsigned) of a schema given as parsed JSON."""
    return crc64_avro(canonical_form(schema).encode("utf-8"))


def to_signed(value: int) -> int:
    """The same 64 bits as a Java `long`, the form the Avro test vectors are written in."""
    return value - (1 << 64) if value >= (1 << 63) else value


def fingerprint_bytes(value: int) -> bytes:
    """The 8 little-endian bytes that follow `C3 01` in a single-object encoded message."""
    return value.to_bytes(8, "little")
