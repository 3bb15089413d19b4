"""Settings of the operator tools (`amf1 loadgen | health | report | demo`).

Environment variables carry the `AMF1_` prefix; an explicit argument beats the environment.
The names shared with other packages (models directory, admin token, indices, Jaeger and Kibana
URLs) are the shared groups of `logshipping.settings_groups`; the Elasticsearch connection is read
through `elk.client.make_client`.
"""

from __future__ import annotations

from pydantic import Field

from logshipping.settings_base import AMF1Settings
from logshipping.settings_groups import JaegerEndpoints, KibanaUrl, LogIndices, ServiceAdmin


class Settings(AMF1Settings, ServiceAdmin, LogIndices, JaegerEndpoints, KibanaUrl):
    """Where the operator tools find the service, the logs, the watcher's state and the UIs."""

    service_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL of the prediction service."
    )
    http_timeout_s: float = Field(
        default=5.0, gt=0, description="Timeout of one call to the service, Kibana or Jaeger."
    )
    disk_warn_pct: float = Field(
        default=85.0, gt=0, le=100, description="Disk use (%) that `amf1 health` warns about."
    )
    disk_fail_pct: float = Field(
        default=95.0,
        gt=0,
        le=100,
        description="Disk use (%) that makes `amf1 health` fail (Elasticsearch's flood stage).",
    )
