"""Settings of the `kibana` package: where Kibana is, how to reach it, and the saved objects.

Every value comes from an `AMF1_`-prefixed environment variable (or an explicit argument, which
wins). Secrets are `SecretStr`: their repr is masked, so they never reach a log line. A secret can
also be read from a file named by the matching `*_FILE` variable (e.g.
`AMF1_KIBANA_API_KEY_FILE=/run/secrets/kibana-api-key`), for container secrets.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, SecretStr, model_validator

from elk.settings import ElasticsearchSettings

_PACKAGE_DIR = Path(__file__).resolve().parent
_PLACEHOLDERS = frozenset({"changeme", "change-me", "placeholder", "secret", "password", "xxx"})


class Settings(ElasticsearchSettings):
    """Configuration of the importer (env prefix `AMF1_`; `AMF1_ES_*` inherited).

    The watcher's settings (`alerting.settings`) extend these: it links to Kibana and reads the
    same saved searches.
    """

    # Secrets that may be given as `AMF1_<NAME>_FILE`; the file's stripped content is the value.
    # A subclass adds its own secrets to the tuple.
    file_secrets: ClassVar[tuple[str, ...]] = (
        "es_password",
        "es_api_key",
        "kibana_password",
        "kibana_api_key",
    )

    kibana_url: str = "http://127.0.0.1:5601"
    kibana_username: str | None = None
    kibana_password: SecretStr | None = None
    kibana_api_key: SecretStr | None = None
    kibana_ca_cert: Path | None = None
    kibana_timeout_s: float = Field(default=30.0, gt=0)

    jaeger_ui_url: str = "http://127.0.0.1:16686"

    saved_objects_dir: Path = _PACKAGE_DIR / "saved_objects"

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        """Fill a secret from `AMF1_<NAME>_FILE` when neither the argument nor the env sets it."""
        if not isinstance(data, dict):
            return data
        for name in cls.file_secrets:
            env_name = f"AMF1_{name.upper()}"
            if data.get(name) is not None or os.environ.get(env_name):
                continue
            file_name = os.environ.get(f"{env_name}_FILE")
            if file_name:
                data[name] = Path(file_name).read_text(encoding="utf-8").strip()
        return data

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        """Refuse placeholder secrets outside development."""
        if self.environment != "development":
            for name in self.file_secrets:
                value = getattr(self, name)
                if value is not None and value.get_secret_value().lower() in _PLACEHOLDERS:
                    raise ValueError(f"AMF1_{name.upper()} is a placeholder in {self.environment}")
        return self
