"""Service-side model monitoring: input drift, missing data, model performance, data freshness.

Everything here reports through the event catalogue (`logshipping.events`); nothing raises into
a request. `MonitoringHub` is the one object the app holds; the other modules are its parts.
"""
