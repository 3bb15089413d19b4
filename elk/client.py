"""The one way the `elk` package builds an Elasticsearch client from its settings."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from elk.settings import ElasticsearchSettings

# Bounded: a dead cluster costs at most (1 + retries) x timeout per call.
_MAX_RETRIES = 2


def make_client(
    settings: ElasticsearchSettings | None = None,
    *,
    max_retries: int = _MAX_RETRIES,
    retry_on_timeout: bool = True,
) -> Elasticsearch:
    """Return a client for `settings.es_url` with its credentials, CA and timeout.

    An API key wins over user/password. TLS certificates are verified unless the settings say not.
    """
    settings = settings or ElasticsearchSettings()
    options: dict[str, Any] = {
        "request_timeout": settings.es_timeout_s,
        "max_retries": max_retries,
        "retry_on_timeout": retry_on_timeout,
    }
    if settings.es_api_key is not None:
        options["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        options["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if settings.es_url.startswith("https"):
        options["verify_certs"] = settings.es_verify_certs
        if settings.es_ca_cert is not None:
            options["ca_certs"] = str(settings.es_ca_cert)
    return Elasticsearch(settings.es_url, **options)
