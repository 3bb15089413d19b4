"""The Prometheus side of the alert set: its rules rendered from the one threshold table."""
