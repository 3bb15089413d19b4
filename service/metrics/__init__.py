"""Prometheus metrics of the service: what each prediction updates, and `GET /metrics`.

Every worker process writes its values into prometheus-client's multiprocess files when
`PROMETHEUS_MULTIPROC_DIR` is set (`amf1 serve` sets up one directory per run:
`service.metrics.multiproc`), and a scrape of any worker reads them all, so the numbers are the
service's, not one worker's. Without the variable (tests, embedding) the process's own registry
answers. Model quality (MAE, Brier), drift and the missing-data rate are whole-service values
computed by the watcher and exported there (`alerting.metrics`), not here.

This package imports nothing at its top: `multiproc` must run before prometheus-client is
imported (it picks its value store at import).
"""
