"""Elasticsearch access of the watcher: the client, and the field types of the log indices."""

from __future__ import annotations

from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from kibana.errors import BackendUnavailableError, ConfigurationError
from kibana.mapping import load_template_file, merge_index_mappings
from kibana.settings import Settings

# One retry: the watcher loop itself is the long-term retry, a dead cluster must not stall it.
_MAX_RETRIES = 1


def make_client(settings: Settings) -> Elasticsearch:
    """A client for `settings.es_url`: API key over user/password, TLS verified unless told."""
    options: dict[str, Any] = {
        "request_timeout": settings.es_timeout_s,
        "max_retries": _MAX_RETRIES,
        "retry_on_timeout": False,
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


def field_types(settings: Settings, es: Elasticsearch | None) -> dict[str, str]:
    """The data view's field types: the index template file, else the live indices' mapping.

    Raises:
        ConfigurationError: neither source gives a mapping.
        BackendUnavailableError: the template file is absent and Elasticsearch cannot be asked.
    """
    if settings.index_template_file.is_file():
        return load_template_file(settings.index_template_file)
    if es is None:
        raise ConfigurationError(f"{settings.index_template_file}: no index template file")
    try:
        response = es.indices.get_mapping(index=f"{settings.index_prefix}*", allow_no_indices=True)
    except (ApiError, TransportError) as exc:
        raise BackendUnavailableError(f"cannot read the mapping: {exc}") from exc
    types = merge_index_mappings(dict(response))
    if not types:
        raise ConfigurationError(
            f"no index template file ({settings.index_template_file}) and no "
            f"{settings.index_prefix}* index to read a mapping from"
        )
    return types
