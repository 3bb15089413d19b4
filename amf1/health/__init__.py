"""`amf1 health`: the monitoring guide's weekly health check as one command."""
