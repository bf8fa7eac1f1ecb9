"""The one exception type the contracts layer raises for bad input, with machine-readable codes.

A `ContractError` carries a `code` (stable, machine-readable: it becomes the dead-letter header
`openbeat.error.code`) and a `detail` (one human sentence naming the problem: it becomes
`openbeat.error.detail`). Services turn it into a dead-letter record; nothing else escapes the
decoders for any input bytes.
"""

from __future__ import annotations

# Every code the decoders (Avro single-object and JSON) may raise. Tests assert against this set
# so a new code cannot appear without being listed (and documented) here.
DECODE_ERROR_CODES: frozenset[str] = frozenset(
    {
        # single-object (Avro) input
        "not_single_object",  # no C3 01 magic: random bytes, plain JSON without the header, ...
        "unknown_fingerprint",  # writer schema not in schemas/
        "truncated",  # header or body ends early
        "malformed_avro",  # body bytes that are not a valid encoding of the writer schema
        "trailing_bytes",  # bytes left after the record
        "wrong_schema",  # a valid record, but of another schema than the topic carries
        # both wire formats
        "too_large",  # over the configured maximum payload size
        "invalid_utf8",  # a string that is not UTF-8
        # JSON input
        "json_invalid",
        "json_not_object",
        "missing_field",
        "wrong_type",
        "timestamp_not_utc",
        "invalid_timestamp",
        "invalid_date",
        # encoding (producer side)
        "invalid_record",
    }
)


class ContractError(ValueError):
    """Input that does not satisfy the wire contract: `code` for machines, `detail` for people."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail

    def __reduce__(self) -> tuple[type[ContractError], tuple[str, str]]:
        # Keeps the two-argument constructor working through pickling (multiprocessing).
        return (type(self), (self.code, self.detail))


class SchemaStoreError(ValueError):
    """The schemas folder cannot be used (bad file, incompatible version); names file and reason."""
