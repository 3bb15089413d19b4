"""One model version per service: the reload generation and the per-worker status files that
every worker process and replica sharing a models directory reads and writes."""
