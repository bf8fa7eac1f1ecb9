"""openbeat: event-driven open-data publishing for public safety and community engagement."""

__version__ = "0.1.0"
