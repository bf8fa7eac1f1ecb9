"""Partner and venue names by allow-list (issue 9.5): only the jurisdiction's registry is named.

The anonymizer used to publish any partner or venue containing an "organisation word": 10 of 13
person names went out ("Jane Park", "Sgt Mike Hall", "Pastor ... of Grace Church"). Every name in
PERSON_NAMES (tests/canaries.py) holds such a word (the first test checks that), so each one was
published before and must not be now. The properties
run the real anonymizer on arbitrary text and on person-like names built around registry words.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canaries import NEEDLES, OLD_WORDS, PERSON_NAMES
from openbeat.contracts.examples import example_engagement
from openbeat.contracts.jurisdiction import JurisdictionError, load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.paths import JURISDICTIONS_DIR, REPO_ROOT
from openbeat.privacy.anonymize import AnonymizeContext, anonymize
from openbeat.privacy.names import NameRegistry, is_other_partners, name_key
from openbeat.privacy.policy import load_policy

JURISDICTION = load_jurisdiction("sample")
REGISTRY = JURISDICTION.name_registry
CTX = AnonymizeContext(
    load_policy(), b"names-test-key-0123456789", JURISDICTION, load_offense_table()
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def published(partners: list[str], venue: str | None) -> dict:
    raw = example_engagement(partner_organizations=partners, venue_name=venue)
    [out] = anonymize("engagement", raw, CTX)
    return out.record


def test_every_person_name_would_have_passed_the_old_word_list() -> None:
    for name in PERSON_NAMES:
        assert set(name_key(name).split()) & OLD_WORDS, name
        assert REGISTRY.partner(name) is None and REGISTRY.venue(name) is None


@pytest.mark.parametrize("name", PERSON_NAMES)
def test_person_names_are_not_published_as_partner_or_venue(name: str) -> None:
    rec = published([name, "Eastgate YMCA"], name)
    assert rec["venue"] is None  # readers see the district (the site and feeds fall back to it)
    assert rec["partners"] == ["Eastgate YMCA", "1 other partner"]
    blob = json.dumps(rec, default=str).casefold()
    for needle in NEEDLES:
        assert needle not in blob


def test_registry_names_are_published_in_the_registry_spelling() -> None:
    rec = published(
        ["downtown  YMCA.", "Northside Boys and Girls Club", "Jane Park", "Sgt Mike Hall"],
        "eastgate public library",
    )
    assert rec["venue"] == "Eastgate Public Library"
    assert rec["partners"] == ["Downtown YMCA", "Northside Boys & Girls Club", "2 other partners"]


def test_a_listed_partner_is_not_a_listed_venue() -> None:
    # The two lists are separate: a partner name in the venue field is not a venue.
    assert published([], "Downtown YMCA")["venue"] is None


any_text = st.text(min_size=0, max_size=40)
person = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=9).map(str.capitalize)
registry_words = sorted(
    {w for n in (*REGISTRY.partners.values(), *REGISTRY.venues.values()) for w in n.split()}
)
# Person-like names dressed in the registry's own words: "Ms Abcd Public Library", "Hall Abcd".
dressed = st.builds(
    lambda title, first, words, last: " ".join(p for p in (title, first, *words, last) if p),
    st.sampled_from(["", "Sgt", "Pastor", "Ms", "Officer", "Dr"]),
    person,
    st.lists(st.sampled_from(registry_words), max_size=3),
    person,
)
REGISTRY_WORDS = {w.casefold() for w in registry_words}
WORD = re.compile(r"[^\W\d_]+")
BASELINE = set(WORD.findall(json.dumps(published([], None), default=str).casefold()))
listed = st.sampled_from(sorted({*REGISTRY.partners.values(), *REGISTRY.venues.values()}))
candidates = st.one_of(any_text, dressed, listed, st.builds("{} {}".format, listed, person))


@SETTINGS
@given(st.lists(candidates, max_size=6), candidates)
def test_no_name_outside_the_registry_reaches_the_output(partners: list[str], venue: str) -> None:
    rec = published(partners, venue)
    assert rec["venue"] is None or rec["venue"] in REGISTRY.venues.values()
    listed_out = [p for p in rec["partners"] if not is_other_partners(p)]
    assert all(p in REGISTRY.partners.values() for p in listed_out)
    assert len(listed_out) == len(set(listed_out))
    unlisted = {name_key(p) for p in partners if name_key(p) and REGISTRY.partner(p) is None}
    others = [p for p in rec["partners"] if is_other_partners(p)]
    assert others == (
        [f"{len(unlisted)} other partner{'s' * (len(unlisted) != 1)}"] * bool(unlisted)
    )
    # Nothing of an unlisted name (a person's first or last name) is anywhere in the record,
    # beyond the words any record holds (kind, status, block, topics: BASELINE).
    text = json.dumps(rec, default=str, ensure_ascii=False).casefold()
    words = set(WORD.findall(text.replace("other partner", "")))
    for name in [*partners, venue]:
        if REGISTRY.partner(name) is None and REGISTRY.venue(name) is None:
            for word in WORD.findall(name.casefold()):
                if len(word) >= 3 and word not in REGISTRY_WORDS | BASELINE:
                    assert word not in words, (word, rec)


@SETTINGS
@given(listed, st.sampled_from([str.upper, str.lower, lambda s: f"  {s}. "]))
def test_a_listed_name_in_any_case_or_punctuation_is_published_as_listed(name, spell) -> None:
    rec = published([spell(name)], spell(name))
    if name in REGISTRY.partners.values():
        assert rec["partners"] == [name]
    if name in REGISTRY.venues.values():
        assert rec["venue"] == name


def test_the_registry_ships_with_the_jurisdiction_in_the_repository() -> None:
    """Found from the jurisdiction file (names/<stem>.toml beside it), inside this checkout."""
    path = Path(str(JURISDICTION.names))
    assert path == (JURISDICTIONS_DIR / "names" / "sample.toml").resolve()
    assert path.is_relative_to(REPO_ROOT.resolve()) and len(REGISTRY.venues) > 10
    for city in ("chicago", "nyc", "sf"):
        assert load_jurisdiction(city).names is not None  # shipped, if empty


def test_a_jurisdiction_without_a_registry_publishes_no_name(tmp_path: Path) -> None:
    text = (JURISDICTIONS_DIR / "sample.toml").read_text(encoding="utf-8")
    (tmp_path / "town.toml").write_text(text, encoding="utf-8")
    town = load_jurisdiction(tmp_path / "town.toml")
    assert town.names is None and town.name_registry == NameRegistry(source="None")
    ctx = AnonymizeContext(load_policy(), b"names-test-key-0123456789", town, load_offense_table())
    [out] = anonymize("engagement", example_engagement(), ctx)
    assert out.record["venue"] is None and out.record["partners"] == ["1 other partner"]


def test_a_named_registry_is_read_and_a_missing_one_refused(tmp_path: Path) -> None:
    text = (JURISDICTIONS_DIR / "sample.toml").read_text(encoding="utf-8")
    (tmp_path / "town.toml").write_text('names = "lists/town-names.toml"\n' + text, "utf-8")
    with pytest.raises(JurisdictionError, match="field names"):
        load_jurisdiction(tmp_path / "town.toml")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "town-names.toml").write_text(
        'partners = ["Town Rotary"]\nvenues = ["Town Hall"]\n', "utf-8"
    )
    town = load_jurisdiction(tmp_path / "town.toml")
    assert town.name_registry.partner("town rotary") == "Town Rotary"
    assert town.name_registry.venue("TOWN HALL") == "Town Hall"


def test_a_broken_registry_stops_the_jurisdiction_with_the_file_named(tmp_path: Path) -> None:
    text = (JURISDICTIONS_DIR / "sample.toml").read_text(encoding="utf-8")
    (tmp_path / "town.toml").write_text(text, encoding="utf-8")
    (tmp_path / "names").mkdir()
    (tmp_path / "names" / "town.toml").write_text('partners = ["Call 555 0100"]\n', "utf-8")
    with pytest.raises(JurisdictionError, match=r"town\.toml.*not a publishable name"):
        _ = load_jurisdiction(tmp_path / "town.toml").name_registry
