"""A deterministic, realistic synthetic agency feed for `openbeat emit --sample N`.

`generate_sample(n, seed, jurisdiction, now)` yields exactly `n` (kind, record) pairs: about 60%
incidents, 20% community reports and 20% engagements (half of them survey responses). Records are
shaped like the raw Avro schemas and carry all the PII a real feed would (names, dates of birth,
phones, e-mails, home addresses, narratives and free text quoting them) so the anonymizer is
exercised for real. Some incidents come again with a higher revision (a status change) and some
scheduled engagements again as cancelled.

The same (n, seed, now, jurisdiction) always gives the same records: only the seeded
`random.Random` and `now` feed the output. The sample is made in chunks of CHUNK_EVENTS records,
each seeded from (seed, chunk index) (`SampleSource`), so worker processes can make chunks in
parallel with the same result as one process (emit/prepare.py). It also feeds the throughput
benchmark, so the work per record is a handful of random draws and string formats (only the
fields a text template uses are made up); vocabularies and geometry are prepared once per call.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.emit import sample_pools as P
from openbeat.emit.sample_draws import Draws, Picker, hm, mdy, template_fields
from openbeat.emit.sample_geo import DistrictSampler

logger = logging.getLogger(__name__)

KIND_SHARES = (("incident", 0.60), ("report", 0.20), ("engagement", 0.10), ("survey", 0.10))
# Share of incident slots that re-emit an earlier incident with a new status, and of engagement
# slots that cancel an earlier scheduled event: enough to exercise revisions in every run.
REVISION_SHARE = 0.08
CANCEL_SHARE = 0.12
DOMESTIC_SHARE = 0.15  # of assaults, as in Chicago's data
JUVENILE_SHARE = 0.03
CONFIDENTIAL_SHARE = 0.015
DAYS_BACK = 30
DAYS_AHEAD = 14
_OPEN_POOL = 500  # recent records kept as candidates for a later revision
# Records per independently seeded chunk. Chunks let several processes generate one sample in
# parallel with the same output as one process; 2000 keeps plenty of revisions inside a chunk
# (about 50 of them) while a chunk is a small unit of work (~35 ms) that starts sending soon.
CHUNK_EVENTS = 1000


_SECOND_PERSON = frozenset(("s", "s_home", "s_phone"))
_TIMES = frozenset(("t1", "t2"))


def agency_id(jurisdiction: Jurisdiction) -> str:
    """Initials of the publisher: "Riverton Police Department" -> "RPD"."""
    words = [w for w in jurisdiction.publisher.replace("-", " ").split() if w[:1].isupper()]
    return "".join(w[0] for w in words)[:8] or "AGENCY"


class _Generator(Draws):
    def __init__(self, seed: int, jurisdiction: Jurisdiction, now: datetime) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.random = self.rng.random
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self.agency = agency_id(jurisdiction)
        self.tag = f"{seed & 0xFFFFFFFF:x}"
        self.geo = DistrictSampler(jurisdiction)
        self.district_names = [d.name for d in jurisdiction.districts]
        self.zone = jurisdiction.zone
        today = self.now.astimezone(self.zone).date()
        # Local midnights as UTC instants, index 0 = today, negative = future days.
        self.midnights = {
            d: datetime.combine(
                today - timedelta(days=d), datetime.min.time(), self.zone
            ).astimezone(UTC)
            for d in range(-DAYS_AHEAD - 1, DAYS_BACK + 1)
        }
        self.kinds = Picker(KIND_SHARES)
        self.offense = Picker([(o, o.weight) for o in P.OFFENSES])
        self.day_hour = Picker(list(enumerate(P.DAY_HOURS)))
        self.night_hour = Picker(list(enumerate(P.NIGHT_HOURS)))
        self.status = Picker(P.STATUSES)
        self.report_kind = Picker([(r, r[1]) for r in P.REPORT_TEXTS])
        self.channel = Picker(P.CHANNELS)
        self.eng_kind = Picker([(k, v[0]) for k, v in P.ENGAGEMENT_KINDS.items()])
        self.score = Picker([(s, w) for s, w in zip(range(1, 6), P.SCORE_WEIGHTS, strict=True)])
        self.streets = [f"{d} {s}" for d in P.DIRECTIONS for s in P.STREETS]
        self.officers = [f"{self.agency}-{self.between(1000, 9999)}" for _ in range(150)]
        self.counter = 0
        self.open_incidents: list[dict[str, Any]] = []
        self.scheduled: list[dict[str, Any]] = []

    def start_chunk(self, index: int) -> None:
        """Make the next records depend on (seed, chunk index) alone, not on earlier chunks.

        A string seed goes through SHA-512 in `random.seed`, so it is stable across processes
        and Python runs (unlike `hash()`); ids continue from the chunk's first slot so they stay
        unique over the whole sample, and revisions only refer back within the chunk.
        """
        self.rng = random.Random(f"{self.seed}:{index}")
        self.random = self.rng.random
        self.counter = index * CHUNK_EVENTS
        self.open_incidents = []
        self.scheduled = []

    # -- small helpers ---------------------------------------------------------------------
    def past_time(self, night: bool) -> datetime:
        """A local-time-weighted moment in the last DAYS_BACK days, never after now."""
        hour = (self.night_hour if night else self.day_hour)(self.rng)
        day = int(self.random() * DAYS_BACK)
        moment = self.midnights[day] + timedelta(hours=hour, seconds=self.between(3600))
        return moment if moment <= self.now else moment - timedelta(days=1)

    # -- records ---------------------------------------------------------------------------
    def incident(self) -> dict[str, Any]:
        rng = self.rng
        if self.open_incidents and rng.random() < REVISION_SHARE:
            return self.incident_revision()
        off: P.Offense = self.offense(rng)
        occurred = self.past_time(off.night)
        delay = rng.random()
        lag = timedelta(minutes=self.between(5, 120)) if delay < 0.6 else (
            timedelta(hours=self.between(2, 48)) if delay < 0.9 else
            timedelta(days=self.between(2, 10))
        )  # fmt: skip
        reported = min(occurred + lag, self.now)
        index, district = self.district()
        lat, lon = self.geo.point(rng, index)
        juvenile = rng.random() < JUVENILE_SHARE
        roles = P.ROLES_BY_GROUP[off.group]
        count = 1 + int(rng.random() * 3)
        persons = [
            self.person(roles[k], occurred.date(), juvenile and k == count - 1)
            for k in range(count)
        ]
        loc = self.location()
        record: dict[str, Any] = {
            "incident_id": self.next_id(self.agency),
            "agency_id": self.agency,
            "revision": 1,
            "reported_at": reported,
            "occurred_at": occurred,
            "offense_code": off.code,
            "offense_description": self.pick(off.descriptions),
            "status": self.status(rng),
            "address": loc,
            "latitude": lat,
            "longitude": lon,
            "district": district,
            "narrative": self.narrative(off, persons, loc, occurred),
            "persons": persons,
            "juvenile_involved": juvenile,
            "domestic": off.group == "assault" and rng.random() < DOMESTIC_SHARE,
            "confidential": rng.random() < CONFIDENTIAL_SHARE,
            "officer_id": self.pick(self.officers),
            "beat": f"{district}-{1 + int(rng.random() * 4)}",
            "source_system": "openbeat-sample",
        }
        if record["status"] == "open":
            self.remember(self.open_incidents, record)
        return record

    def narrative(
        self, off: P.Offense, persons: list[dict[str, Any]], loc: str, when: datetime
    ) -> str:
        template = self.pick(P.NARRATIVES.get(off.group, P.NARRATIVES["default"]))
        need = template_fields(template)
        v = persons[0]
        kw: dict[str, str] = {"v": v["name"], "v_home": v["address"], "loc": loc}
        if "v_dob" in need:
            kw["v_dob"] = mdy(v["date_of_birth"])
        if "v_phone" in need:
            kw["v_phone"] = v["phone"] or self.phone()
        if "v_email" in need:
            kw["v_email"] = v["email"] or self.email(v["name"])
        if not _SECOND_PERSON.isdisjoint(need):
            s = persons[-1] if len(persons) > 1 else self.person("other", when, False)
            kw["s"], kw["s_home"] = s["name"], s["address"]
            if "s_phone" in need:
                kw["s_phone"] = s["phone"] or self.phone()
        if "desc" in need:
            kw["desc"] = self.pick(off.descriptions).lower()
        if "clothing" in need:
            kw["clothing"] = self.pick(P.CLOTHING)
        if "vehicle" in need:
            kw["vehicle"] = self.pick(P.VEHICLES)
        if "plate" in need:
            kw["plate"] = self.plate()
        if not _TIMES.isdisjoint(need):
            local = when.astimezone(self.zone)
            kw["t1"], kw["t2"] = hm(local), hm(local + timedelta(hours=2))
        if "street2" in need:
            kw["street2"] = self.street()
        if "pron" in need:
            kw["pron"] = self.pick(("him", "her", "them"))
        return template.format(**kw)

    def free_text(self, template: str, writer: str) -> str:
        """A report or survey text: contact data of the writer (`email`) and of others."""
        kw: dict[str, str] = {}
        for field in template_fields(template):
            kw[field] = self.text_field(field, writer)
        return template.format(**kw)

    def text_field(self, field: str, writer: str) -> str:
        if field == "email":
            return self.email(writer)
        if field in ("address", "address2"):
            return self.address()
        if field == "name":
            return self.name()
        if field == "phone":
            return self.phone()
        if field == "street":
            return self.street()
        if field == "plate":
            return self.plate()
        if field == "clothing":
            return str(self.pick(P.CLOTHING))
        if field == "vehicle":
            return str(self.pick(P.VEHICLES))
        raise ValueError(f"sample text field {{{field}}} has no generator")

    def incident_revision(self) -> dict[str, Any]:
        old = self.open_incidents.pop(int(self.random() * len(self.open_incidents)))
        new = dict(old, revision=old["revision"] + 1)
        new["status"] = self.pick(("cleared_arrest", "closed", "cleared_arrest", "unfounded"))
        persons = new["persons"]
        note = self.pick(P.UPDATE_NOTES).format(
            v=persons[0]["name"], s=persons[-1]["name"], s_home=persons[-1]["address"],
            v_phone=persons[0]["phone"] or self.phone(), v_home=persons[0]["address"],
            v_email=persons[0]["email"] or self.email(persons[0]["name"]),
        )  # fmt: skip
        new["narrative"] = f"{old['narrative']} {note}"
        new["persons"] = [dict(p) for p in persons]
        return new

    def report(self) -> dict[str, Any]:
        rng = self.rng
        category, _, texts = self.report_kind(rng)
        submitted = self.past_time(night=rng.random() < 0.5)
        index, district = self.district()
        has_place = rng.random() < 0.95
        lat, lon = self.geo.point(rng, index) if has_place else (None, None)
        name = self.name()
        text = self.free_text(self.pick(texts), name)
        anonymous = rng.random() < 0.3
        reporter = None if anonymous else {
            "name": name,
            "phone": self.phone() if rng.random() < 0.8 else None,
            "email": self.email(name) if rng.random() < 0.6 else None,
        }  # fmt: skip
        return {
            "report_id": self.next_id(f"{self.agency}R"),
            "agency_id": self.agency,
            "submitted_at": submitted,
            "channel": self.channel(rng),
            "category": category,
            "description": text,
            "address": self.location() if has_place else None,
            "latitude": lat,
            "longitude": lon,
            "district": district,
            "reporter": reporter,
            "anonymous": anonymous,
        }

    def engagement(self) -> dict[str, Any]:
        rng = self.rng
        if self.scheduled and rng.random() < CANCEL_SHARE:
            old = self.scheduled.pop(int(rng.random() * len(self.scheduled)))
            return dict(old, revision=old["revision"] + 1, status="cancelled")
        kind = self.eng_kind(rng)
        _, hours, length, (low, high), public_share = P.ENGAGEMENT_KINDS[kind]
        upcoming = rng.random() < 0.4
        day = -1 - int(rng.random() * DAYS_AHEAD) if upcoming else 1 + int(rng.random() * DAYS_BACK)
        starts = self.midnights[day] + timedelta(hours=self.pick(hours), minutes=self.pick((0, 30)))
        index, district = self.district()
        area = self.district_names[index]
        venue = (
            f"{self.street().split(' ', 1)[1].title()} & {self.street().split(' ', 1)[1].title()}"
            if kind == "patrol_walk"
            else f"{area} {self.pick(P.VENUE_KINDS)}"
        )
        partners = sorted({f"{area} {self.pick(P.PARTNERS)}" for _ in range(int(rng.random() * 4))})
        record: dict[str, Any] = {
            "engagement_id": self.next_id(f"{self.agency}E"),
            "agency_id": self.agency,
            "revision": 1,
            "kind": kind,
            "status": "scheduled" if upcoming else "held",
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=length),
            "district": district,
            "venue_name": venue,
            "venue_address": self.address(),
            "public": rng.random() < public_share,
            "attendee_count": None if upcoming else self.between(low, high + 1),
            "partner_organizations": partners,
            "topics": sorted({self.pick(P.TOPICS) for _ in range(1 + int(rng.random() * 3))}),
            "survey": None,
            "respondent": None,
        }
        if upcoming:
            self.remember(self.scheduled, record)
        return record

    def survey(self) -> dict[str, Any]:
        rng = self.rng
        _, district = self.district()
        name = self.name()
        comment = None
        if rng.random() < 0.6:
            comment = self.free_text(self.pick(P.SURVEY_COMMENTS), name)
        respondent = None
        if rng.random() < 0.7:
            respondent = {
                "name": name,
                "email": self.email(name) if rng.random() < 0.8 else None,
                "age_band": self.pick(P.AGE_BANDS),
            }
        return {
            "engagement_id": self.next_id(f"{self.agency}S"),
            "agency_id": self.agency,
            "revision": 1,
            "kind": "survey_response",
            "status": "held",
            "starts_at": self.past_time(night=False),
            "ends_at": None,
            "district": district,
            "venue_name": None,
            "venue_address": None,
            "public": False,
            "attendee_count": None,
            "partner_organizations": [],
            "topics": [],
            "survey": {
                "trust_score": self.score(rng),
                "safety_score": self.score(rng),
                "comment": comment,
            },
            "respondent": respondent,
        }

    def remember(self, pool: list[dict[str, Any]], record: dict[str, Any]) -> None:
        if len(pool) >= _OPEN_POOL:
            pool.pop(0)
        pool.append(record)

    def next(self) -> tuple[str, dict[str, Any]]:
        kind = self.kinds(self.rng)
        if kind == "incident":
            return "incident", self.incident()
        if kind == "report":
            return "report", self.report()
        return "engagement", self.engagement() if kind == "engagement" else self.survey()


class SampleSource:
    """The sample as numbered chunks: chunk `c` of a given (seed, now, jurisdiction) is always
    the same records, whichever process makes it and whatever was made before."""

    def __init__(self, seed: int, jurisdiction: Jurisdiction, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self._generator = _Generator(seed, jurisdiction, now)

    def chunk(self, index: int, size: int) -> list[tuple[str, dict[str, Any]]]:
        """The `size` (<= CHUNK_EVENTS) records of chunk `index`."""
        if not 0 <= size <= CHUNK_EVENTS:
            raise ValueError(f"a chunk holds 0 to {CHUNK_EVENTS} records, not {size}")
        generator = self._generator
        generator.start_chunk(index)
        make = generator.next
        return [make() for _ in range(size)]


def chunk_sizes(n: int) -> list[int]:
    """How `n` records split into chunks: full chunks, then the remainder."""
    if n < 0:
        raise ValueError("n must be >= 0")
    full, rest = divmod(n, CHUNK_EVENTS)
    return [CHUNK_EVENTS] * full + ([rest] if rest else [])


def generate_sample(
    n: int, seed: int, jurisdiction: Jurisdiction, now: datetime
) -> Iterator[tuple[str, dict[str, Any]]]:
    """`n` synthetic (kind, record) pairs for `jurisdiction`, deterministic per seed and `now`."""
    sizes = chunk_sizes(n)
    source = SampleSource(seed, jurisdiction, now)
    for index, size in enumerate(sizes):
        yield from source.chunk(index, size)
