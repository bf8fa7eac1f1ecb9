"""Public ids: keyed HMAC-SHA256 pseudonyms of an agency's own ids.

The agency's ids never leave; `pseudonym` maps (namespace, agency, id) to a stable, URL-safe id
that cannot be reversed or recomputed without the secret key. The namespace (incident, report,
engagement, survey_response) is part of the MAC input, so the same agency id used by two kinds
of record gives unrelated public ids that cannot be linked.
"""

from __future__ import annotations

import hashlib
from hmac import digest as hmac_digest

# 16 bytes = 128 bits (32 hex characters): collisions stay negligible far beyond any city's
# volume (birthday bound ~2^64 records). Hex rather than base32: URL-safe, case-proof in CSV and
# spreadsheets, and several times faster to encode on the anonymizer's hot path.
DIGEST_BYTES = 16
# A key shorter than this is almost certainly a placeholder, not a secret.
MIN_KEY_BYTES = 16

NAMESPACES = frozenset({"incident", "report", "engagement", "survey_response"})


def pseudonym(key: bytes, namespace: str, agency_id: str, source_id: str) -> str:
    """32 lower-case hex characters identifying one source record.

    Each part is length-prefixed so ("A:B", "C") and ("A", "B:C") cannot collide.
    """
    if namespace not in NAMESPACES:
        raise ValueError(f"unknown pseudonym namespace {namespace!r}")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"pseudonym key must be at least {MIN_KEY_BYTES} bytes")
    # One f-string rather than a join over the parts: this runs once per published record.
    message = (
        f"{len(namespace)}:{namespace}{len(agency_id)}:{agency_id}{len(source_id)}:{source_id}"
    )
    return hmac_digest(key, message.encode("utf-8"), "sha256")[:DIGEST_BYTES].hex()


# A well-known key: pseudonyms made with it can be recomputed by anyone who has this source, so
# it is only ever used when the operator explicitly allows it (OPENBEAT_ALLOW_DEV_KEY=1), and a
# release made with it never passes `openbeat verify`.
DEV_PSEUDONYM_KEY = b"openbeat-development-key-not-secret"


def key_id(key: bytes) -> str:
    """A public name for a pseudonym key, recorded in every release manifest: 16 hex characters
    of a domain-separated SHA-256, so releases can be told apart by key (and the development
    key recognized) without revealing the key."""
    return hashlib.sha256(b"openbeat-pseudonym-key-id|" + key).hexdigest()[:16]


DEV_KEY_ID = key_id(DEV_PSEUDONYM_KEY)
