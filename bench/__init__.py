"""`make bench`: throughput and latency figures, each against a baseline measured in the same run."""
