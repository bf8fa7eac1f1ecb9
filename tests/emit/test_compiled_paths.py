"""The import's planned shortcuts give exactly what the general code gives.

Compiled field rules (emit/rules.py) against `apply_rule`, the generated record completion
(emit/completion.py) against `shape.complete_record`, the time parser (emit/timeparse.py)
against `datetime.strptime`, and the planned encoder (emit/encoding.py) against
`SchemaStore.encode`, the key hash against kafka-python's murmur2: same values, same bytes,
same errors, on ordinary and awkward input.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from kafka.partitioner.default import murmur2

from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.errors import ContractError
from openbeat.contracts.examples import (
    example_engagement,
    example_incident,
    example_report,
    example_survey_response,
)
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.emit.completion import completer
from openbeat.emit.encoding import record_encoder
from openbeat.emit.mapping import Mapping, RowError, load_mapping
from openbeat.emit.producer import key_hash, murmur2_words
from openbeat.emit.rules import compiled_fields
from openbeat.emit.shape import complete_record
from openbeat.emit.timeparse import parse
from openbeat.emit.values import apply_rule
from openbeat.paths import INFRA_DIR

CHICAGO_MAP = INFRA_DIR / "mappings" / "chicago-crimes.toml"


def _outcome(call: Any, *args: Any) -> Any:
    try:
        return ("value", call(*args))
    except RowError as exc:
        return ("error", exc.code, exc.field, str(exc), exc.value)


def _rule_cases() -> list[dict[str, Any]]:
    good = {
        "ID": "9532593",
        "Updated On": "02/10/2018 03:50:01 PM",
        "Date": "03/15/2014 11:30:00 PM",
        "Primary Type": "THEFT",
        "Description": "$500 AND UNDER",
        "Block": "030XX W DIVERSEY AVE",
        "District": "014",
        "Beat": "1411",
        "Latitude": "41.93",
        "Longitude": "-87.70",
        "Domestic": "false",
        "Arrest": "TRUE",
        "IUCR": "0860",
        "FBI Code": "06",
    }
    odd = ["", "  ", "nan", "1e400", "1,5", "abc", "SEX OFFENSE", "9999", "24", " 41.9 ", "yes",
           "3/5/2014 1:00:00 PM", "11/02/2014 01:30:00 AM", "02/30/2014 01:00:00 AM"]  # fmt: skip
    rows = [good]
    pick = random.Random(11)
    for _ in range(300):
        row = dict(good)
        for column in pick.sample(sorted(good), 3):
            row[column] = pick.choice(odd)
        rows.append(row)
    rows.append({k: v for k, v in good.items() if k != "Beat"})  # an optional column absent
    rows.append(dict(good, Latitude=41.93, Domestic=True))  # JSON values, not text
    return rows


def test_compiled_rules_give_what_apply_rule_gives() -> None:
    chicago = load_jurisdiction("chicago")
    mapping = load_mapping(CHICAGO_MAP)
    compiled = compiled_fields(mapping, chicago)
    functions = dict(compiled.functions)
    assert list(functions) == list(mapping.fields)
    for _ in range(2):  # the second pass answers from the kept answers
        for row in _rule_cases():
            for name, rule in mapping.fields.items():
                want = _outcome(apply_rule, rule, row, mapping, chicago, name)
                assert _outcome(functions[name], row) == want, (name, row)
            assert _outcome(compiled.values, row) == _outcome(_each_field, mapping, chicago, row)


def _each_field(mapping: Mapping, zone: Any, row: dict[str, Any]) -> dict[str, Any]:
    rules = mapping.fields.items()
    return {name: apply_rule(rule, row, mapping, zone, name) for name, rule in rules}


def test_compiled_number_and_list_rules() -> None:
    chicago = load_jurisdiction("chicago")
    mapping = Mapping.model_validate(
        {
            "kind": "incident",
            "null_values": ["", "N/A"],
            "fields": {
                "revision": {"column": "n", "type": "int"},
                "latitude": {"column": "x", "type": "float", "default": 1.5},
                "offenses.code": {"column": "codes", "type": "list"},
            },
        }
    )
    functions = dict(compiled_fields(mapping, chicago).functions)
    for n in ["7", " 7 ", "1,234", "1_0", "x", "", "N/A", "2.0", "-3"]:
        row = {"n": n, "x": n, "codes": f"{n},13A"}
        for name, rule in mapping.fields.items():
            want = _outcome(apply_rule, rule, row, mapping, chicago, name)
            assert _outcome(functions[name], row) == want, (name, row)


FORMATS = [
    "%m/%d/%Y %I:%M:%S %p",
    "%Y/%m/%d %I:%M:%S %p",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y",
    "%Y%m%d",  # left to strptime: directives side by side
    "%Y-%m-%d %H:%M:%S.%f",  # left to strptime: %f
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_time_parser_agrees_with_strptime(fmt: str) -> None:
    pick = random.Random(fmt)
    texts = ["02/30/2014 01:00:00 AM", "12/31/1999 12:00:00 AM", "01/01/2014 01:00:60 PM"]
    for _ in range(3000):
        moment = datetime(pick.randrange(1890, 2100), pick.randrange(1, 13), pick.randrange(1, 29),
                          pick.randrange(24), pick.randrange(60), pick.randrange(60))  # fmt: skip
        text = moment.strftime(fmt)
        if pick.random() < 0.4:
            chars = list(text)
            chars[pick.randrange(len(chars))] = pick.choice("0913 /:-APMapm\u0661")
            text = "".join(chars)
        texts.append(text)
    for text in texts:
        try:
            want: Any = datetime.strptime(text, fmt)
        except ValueError:
            want = ValueError
        try:
            got: Any = parse(text, fmt)
        except ValueError:
            got = ValueError
        assert got == want, text


def _encoded(encode: Any, record: Any) -> Any:
    try:
        return encode(record)
    except ContractError as exc:
        return (exc.code, str(exc))


def test_planned_encoder_writes_what_the_store_writes() -> None:
    store = SchemaStore.load()
    incident = record_encoder(store, KIND_SCHEMAS["incident"])
    base = example_incident()
    variants: list[Any] = [base]
    for name, value in [
        ("narrative", "é€😀 " * 40),
        ("narrative", "\ud800"),  # not encodable as UTF-8: the store's error
        ("latitude", 3),  # an int where a double goes
        ("revision", 2**31),
        ("revision", True),
        ("occurred_at", datetime(2014, 3, 1, 12, 0, 0, 999_999, tzinfo=UTC)),
        ("occurred_at", datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)),
        ("occurred_at", datetime(2014, 3, 1, 12, tzinfo=timezone(timedelta(hours=2)))),
        ("occurred_at", datetime(2014, 3, 1, 12)),  # naive: the store's error
        ("offenses", [{"code": "13A", "completion": None}] * 70),
        ("persons", "nobody"),
    ]:
        variants.append({**base, name: value})
    variants.append({k: v for k, v in base.items() if k != "beat"})
    for record in variants:
        want = _encoded(lambda r: store.encode(KIND_SCHEMAS["incident"], r), record)
        assert _encoded(incident, record) == want, record
    for kind, record in [
        ("report", example_report()),
        ("engagement", example_engagement()),
        ("engagement", example_survey_response()),
    ]:
        encode = record_encoder(store, KIND_SCHEMAS[kind])
        assert encode(record) == store.encode(KIND_SCHEMAS[kind], record)


def test_key_hash_is_kafka_pythons_murmur2() -> None:
    pick = random.Random(2)
    keys = [b"", b"CPD:9532593", "SFPD:é€".encode()]
    keys += [bytes(pick.randrange(256) for _ in range(n)) for n in range(80) for _ in range(20)]
    for key in keys:
        assert murmur2_words(key) == murmur2(key), key
        assert key_hash(key) == murmur2(key) & 0x7FFFFFFF


def test_planned_completion_gives_what_complete_record_gives() -> None:
    pick = random.Random(4)
    odd: list[Any] = [None, "", "x", 0, 2**31, -1, 1.5, True, False, [], [{"code": "13A"}],
                      {"name": "n"}, datetime(2014, 3, 1), datetime(2014, 3, 1, tzinfo=UTC),
                      datetime(2014, 3, 1, tzinfo=timezone(timedelta(hours=1))),
                      "2014-03-01T00:00:00Z", "2014-03-01", 1393632000000]  # fmt: skip
    for kind, example in [
        ("incident", example_incident()),
        ("report", example_report()),
        ("engagement", example_engagement()),
        ("engagement", example_survey_response()),
    ]:
        complete = completer(kind)
        cases = [example, {}, {k: None for k in example}]
        for _ in range(400):
            values = dict(example)
            for name in pick.sample(sorted(values), 3):
                if pick.random() < 0.2:
                    del values[name]
                else:
                    values[name] = pick.choice(odd)
            cases.append(values)
        for values in cases:
            assert _outcome(complete, values) == _outcome(complete_record, kind, values), values
