"""Closed value lists of the input and public records: the one place other modules import them.

Avro strings keep the schemas open for agencies' own wording, so these lists are enforced by
semantic validation (contracts/validation.py) instead of Avro enums. Each list is documented in
the `doc` of its field in schemas/; tests/contracts/test_vocabulary.py parses those docs and fails
when the two drift apart.
"""

from __future__ import annotations

# Incident.status and PublicIncident.status
INCIDENT_STATUSES: tuple[str, ...] = (
    "open",
    "cleared_arrest",
    "cleared_exceptional",
    "unfounded",
    "closed",
    "unknown",  # exports without clearance data (raw incident v3, public incident v2)
)

# Incident.offenses[].completion (null when the agency does not record it)
OFFENSE_COMPLETIONS: tuple[str, ...] = ("attempted", "completed")

# Incident.persons[].role
PERSON_ROLES: tuple[str, ...] = (
    "victim",
    "suspect",
    "witness",
    "reporting_party",
    "arrestee",
    "other",
)

# Incident.persons[].sex: NIBRS codes plus X (non-binary) and U (unknown)
PERSON_SEXES: tuple[str, ...] = ("F", "M", "X", "U")

# Report.channel and PublicReport.channel
REPORT_CHANNELS: tuple[str, ...] = ("web", "app", "phone", "walk_in", "email", "other")

# Engagement.kind; survey responses are the one kind never published row by row.
SURVEY_RESPONSE = "survey_response"
PUBLIC_ENGAGEMENT_KINDS: tuple[str, ...] = (
    "community_meeting",
    "neighborhood_watch",
    "school_workshop",
    "patrol_walk",
    "forum",
)
ENGAGEMENT_KINDS: tuple[str, ...] = (*PUBLIC_ENGAGEMENT_KINDS, SURVEY_RESPONSE)

# Engagement.status and PublicEngagement.status
ENGAGEMENT_STATUSES: tuple[str, ...] = ("scheduled", "held", "cancelled")

# PublicIncident/PublicReport.location_precision
LOCATION_PRECISIONS: tuple[str, ...] = ("block", "intersection", "district")

# Survey.trust_score and Survey.safety_score: a 5-point Likert scale.
SURVEY_SCORE_MIN = 1
SURVEY_SCORE_MAX = 5

# Report.category becomes a public column, so it must be a machine category (lower-case slug such
# as suspicious_activity), never free text that could carry a name or an address.
REPORT_CATEGORY_PATTERN = r"^[a-z0-9][a-z0-9_]{0,63}$"

# Person ages beyond this are data-entry errors (the oldest documented human lived to 122).
MAX_PERSON_AGE = 125
