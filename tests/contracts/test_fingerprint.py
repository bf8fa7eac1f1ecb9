"""CRC-64-AVRO fingerprints and Parsing Canonical Form against the Avro project's own vectors.

The vectors are from apache/avro share/test/data/schema-tests.txt (the file every Avro
implementation tests against; the Java implementation cross-checks its values). Fingerprints are
written there as Java signed longs.
"""

from __future__ import annotations

import json

import pytest
from fastavro.schema import fingerprint as fastavro_fingerprint

from openbeat.contracts.codec import SchemaStore
from openbeat.contracts.fingerprint import (
    CRC64_EMPTY,
    canonical_form,
    crc64_avro,
    fingerprint,
    fingerprint_bytes,
    to_signed,
)

# (input schema JSON, expected canonical form, expected fingerprint as a Java long)
AVRO_VECTORS = [
    ('"null"', '"null"', 7195948357588979594),
    ('{"type":"boolean"}', '"boolean"', -6970731678124411036),
    ('"int"', '"int"', 8247732601305521295),
    ('{"type":"long"}', '"long"', -3434872931120570953),
    ('"float"', '"float"', 5583340709985441680),
    ('"double"', '"double"', -8181574048448539266),
    ('"bytes"', '"bytes"', 5746618253357095269),
    ('{"type":"string"}', '"string"', -8142146995180207161),
    ("[  ]", "[]", -1241056759729112623),
    ('[ "int" , {"type":"boolean"} ]', '["int","boolean"]', 5392556393470105090),
    (
        '{"fields":[], "type":"record", "name":"foo"}',
        '{"name":"foo","type":"record","fields":[]}',
        -4824392279771201922,
    ),
    (
        '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
        '{"name":"x.y.foo","type":"record","fields":[]}',
        5916914534497305771,
    ),
    (
        '{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}',
        '{"name":"a.b.foo","type":"record","fields":[]}',
        -4616218487480524110,
    ),
    (
        '{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}',
        '{"name":"foo","type":"record","fields":[]}',
        -4824392279771201922,
    ),
    (
        '{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record", "name":"foo"}',
        '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}',
        7843277075252814651,
    ),
    (
        # Upstream writes "default":"true" (a string); fastavro rightly rejects a string default
        # for a boolean, and defaults are not part of the canonical form, so it is true here.
        '{ "fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":true},'
        '{"order":"descending","name":"f2","doc":"Hello","type":"int"}],'
        '"type":"record", "name":"foo"}',
        '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},'
        '{"name":"f2","type":"int"}]}',
        -4860222112080293046,
    ),
    (
        '{"type":"enum", "name":"foo", "symbols":["A1"]}',
        '{"name":"foo","type":"enum","symbols":["A1"]}',
        -6342190197741309591,
    ),
    (
        '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", '
        '"symbols":["A1", "A2"]}',
        '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
        -4448647247586288245,
    ),
    (
        '{"name":"foo","type":"fixed","size":15}',
        '{"name":"foo","type":"fixed","size":15}',
        1756455273707447556,
    ),
    (
        '{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}',
        '{"name":"x.y.z.foo","type":"fixed","size":32}',
        -3064184465700546786,
    ),
    (
        '{ "items":{"type":"null"}, "type":"array"}',
        '{"type":"array","items":"null"}',
        -589620603366471059,
    ),
    (
        '{ "values":"string", "type":"map"}',
        '{"type":"map","values":"string"}',
        -8732877298790414990,
    ),
    (
        '{"name":"PigValue","type":"record",'
        '"fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
        '{"name":"PigValue","type":"record","fields":[{"name":"value",'
        '"type":["null","int","long","PigValue"]}]}',
        -1759257747318642341,
    ),
]


@pytest.mark.parametrize(("schema_json", "canonical", "expected"), AVRO_VECTORS)
def test_canonical_form_and_fingerprint_match_the_avro_vectors(
    schema_json: str, canonical: str, expected: int
) -> None:
    schema = json.loads(schema_json)
    assert canonical_form(schema) == canonical
    assert to_signed(fingerprint(schema)) == expected


def test_empty_input_gives_the_spec_seed() -> None:
    assert crc64_avro(b"") == CRC64_EMPTY


def test_single_object_header_bytes_of_int_match_the_ruby_implementation() -> None:
    # apache/avro lang/ruby test_fingerprints.rb: header of {"type": "int"}.
    header = b"\xc3\x01" + fingerprint_bytes(fingerprint("int"))
    assert header.hex() == "c3018f5c393f1ad57572"


def test_logical_types_are_stripped_from_the_canonical_form() -> None:
    assert canonical_form({"type": "long", "logicalType": "timestamp-millis"}) == '"long"'


def test_every_repository_schema_agrees_with_fastavro() -> None:
    """Our CRC and fastavro's must agree, or a fastavro producer would be unreadable by us."""
    store = SchemaStore.load()
    for name in store.names:
        for version in store.versions(name):
            sv = store.schema(name, version)
            theirs = fastavro_fingerprint(canonical_form(sv.raw), "CRC-64-AVRO")
            assert fingerprint_bytes(sv.fingerprint).hex() == theirs, sv.path
