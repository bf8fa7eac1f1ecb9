"""docs/mapping.md explains every key of the mapping model: a key added to the model without a
line in the reference fails here."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from openbeat.emit.mapping import Combine, FieldRule, FieldType, GroupBy, Mapping, SkipRule

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "mapping.md"
README = Path(__file__).resolve().parents[2] / "README.md"
TEXT = REFERENCE.read_text(encoding="utf-8")


def table_keys() -> set[str]:
    """The keys a reference table row explains: its first cell, in backquotes."""
    return set(re.findall(r"^\| `([a-z_]+)` \|", TEXT, flags=re.M))


@pytest.mark.parametrize("model", [Mapping, FieldRule, GroupBy, SkipRule])
def test_every_model_key_is_explained(model: type[BaseModel]) -> None:
    keys = {name for name, f in model.model_fields.items() if not f.exclude}
    assert keys - table_keys() == set()


@pytest.mark.parametrize(
    "choices",
    [
        typing.get_args(FieldType),
        typing.get_args(Combine),
        typing.get_args(FieldRule.model_fields["ambiguous"].annotation),
    ],
)
def test_every_choice_of_a_key_is_named(choices: tuple[str, ...]) -> None:
    assert choices and all(f"`{choice}`" in TEXT for choice in choices)


def test_the_readme_links_the_reference_from_importing() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("### Importing an agency export", 1)[1].split("\n## ", 1)[0]
    assert "docs/mapping.md" in section
