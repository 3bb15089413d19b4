"""The one way the project builds an Elasticsearch client from its settings."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from elk.security.credentials import StackUser, credentials_for
from elk.security.tls import ca_for
from elk.settings import ElasticsearchSettings

# Bounded: a dead cluster costs at most (1 + retries) x timeout per call.
_MAX_RETRIES = 2


def make_client(
    settings: ElasticsearchSettings | None = None,
    *,
    user: StackUser,
    max_retries: int = _MAX_RETRIES,
    retry_on_timeout: bool = True,
) -> Elasticsearch:
    """Return a client for `settings.es_url` with its credentials, CA and timeout.

    `user` names the role the caller works in: with no credentials in the settings, the native
    stack's generated password of that user is used (`elk.security.credentials`), and over
    https with no `AMF1_ES_CA_CERT` the stack's CA (`elk.security.tls`). An API key wins over
    user/password. TLS certificates are verified unless the settings say not.
    """
    settings = settings or ElasticsearchSettings()
    options: dict[str, Any] = {
        "request_timeout": settings.es_timeout_s,
        "max_retries": max_retries,
        "retry_on_timeout": retry_on_timeout,
    }
    credentials = credentials_for(settings, user)
    if settings.es_api_key is not None:
        options["api_key"] = settings.es_api_key.get_secret_value()
    elif credentials is not None:
        options["basic_auth"] = credentials.basic_auth
    if settings.es_url.startswith("https"):
        options["verify_certs"] = settings.es_verify_certs
        # No CA given: the native stack's own, when that is where the URL points.
        ca = ca_for(settings)
        if ca is not None:
            options["ca_certs"] = str(ca)
    return Elasticsearch(settings.es_url, **options)
