"""Settings of the `kibana` package: where Kibana is, how to reach it, and the saved objects.

Every value comes from an `AMF1_`-prefixed environment variable (or an explicit argument, which
wins). The Elasticsearch connection, the Kibana URL and the Jaeger endpoints are shared groups of
`logshipping.settings_groups`; the base (`logshipping.settings_base`) reads every secret from
`AMF1_<NAME>_FILE` too (e.g. `AMF1_KIBANA_API_KEY_FILE=/run/secrets/kibana-api-key`), refuses
placeholder secrets outside development and redacts them from the logs.
"""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator

from elk.settings import ElasticsearchSettings
from logshipping.settings_groups import JaegerEndpoints, KibanaUrl

_PACKAGE_DIR = Path(__file__).resolve().parent
_UTC_OFFSET = re.compile(r"[+-]\d{2}:\d{2}")


class Settings(ElasticsearchSettings, KibanaUrl, JaegerEndpoints):
    """Configuration of the importer (env prefix `AMF1_`; `AMF1_ES_*` inherited).

    The watcher's settings (`alerting.settings`) extend these: it links to Kibana and reads the
    same saved searches.
    """

    kibana_username: str | None = Field(None, description="Kibana basic-auth user name.")
    kibana_password: SecretStr | None = Field(None, description="Kibana basic-auth password.")
    kibana_api_key: SecretStr | None = Field(
        None, description="Kibana API key; preferred over user/password when set."
    )
    kibana_ca_cert: Path | None = Field(
        None, description="CA certificate (PEM) that signed Kibana's certificate."
    )
    kibana_timeout_s: float = Field(
        30.0, gt=0, description="Timeout of one Kibana request, in seconds."
    )
    saved_objects_dir: Path = Field(
        _PACKAGE_DIR / "saved_objects",
        description="Directory of the saved objects (*.ndjson) imported and searched.",
    )
    kibana_space: str = Field(
        "default",
        pattern=r"^[a-z0-9_-]+$",
        description="Kibana space the saved objects are imported into (`default`: the default "
        "space, else `/s/<space>/api/saved_objects/_import`).",
    )
    kql_time_zone: str = Field(
        "UTC",
        description="Time zone of KQL and Lucene dates written without one, as Kibana's "
        "`dateFormat:tz` advanced setting (an IANA name such as `Europe/Paris`, or `+01:00`).",
    )

    @field_validator("kql_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        # Elasticsearch refuses an unknown zone on every date query: refuse it at start-up.
        if _UTC_OFFSET.fullmatch(value):
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value
