"""The privacy policy of SPEC 4 as pure functions: the anonymizer's core (no Kafka, no I/O).

- `policy`: the `Policy` model and `load_policy(path)`; `Policy.summary()` goes in manifests.
- `anonymize`: `anonymize(kind, record, AnonymizeContext(...)) -> list[Output]`.
- `blocks`, `grid`, `pseudonym`, `redact`: the generalizations it applies, usable on their own
  (the verifier uses `is_public_location` and `is_cell_centre`).
"""
