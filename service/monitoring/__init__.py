"""Service-side model monitoring: input drift, missing data, data freshness.

Model performance (rolling MAE / Brier) needs the predictions and feedback of every worker and
replica: the watcher computes it (`alerting.signals.performance`).

Everything here reports through the event catalogue (`logshipping.events`); nothing raises into
a request. `MonitoringHub` is the one object the app holds; the other modules are its parts.
"""
