"""Aggregates: latest-revision state, incident counts, engagement summaries, suppression, sealing.

Pure code (no Kafka, no S3): the aggregator service feeds records into `AggregateState` and asks
`incident_counts` / `engagement_summary` for the rows of a release.
"""
