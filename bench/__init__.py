"""`make bench`: throughput and latency, each against a baseline measured in the same run."""
