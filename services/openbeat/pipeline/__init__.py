"""The streaming services: each a Processor for the runtime loop plus its wiring."""
