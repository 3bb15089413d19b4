"""Elasticsearch access of the watcher: the client, and the field types of the log indices."""

from __future__ import annotations

from elasticsearch import ApiError, Elasticsearch, TransportError

from alerting.errors import BackendUnavailableError, ConfigurationError
from alerting.settings import Settings
from elk import client as elk_client
from elk.security.credentials import StackUser
from kibana.errors import KibanaError
from kibana.mapping import load_template_file, merge_index_mappings

# One retry: the watcher loop itself is the long-term retry, a dead cluster must not stall it.
_MAX_RETRIES = 1


def make_client(settings: Settings, user: StackUser = StackUser.WATCHER) -> Elasticsearch:
    """The shared client (`elk.client`) as the watcher's user (unless `user` says otherwise),
    but without retry on timeout: the loop is the retry."""
    return elk_client.make_client(
        settings, user=user, max_retries=_MAX_RETRIES, retry_on_timeout=False
    )


def field_types(settings: Settings, es: Elasticsearch | None) -> dict[str, str]:
    """The data view's field types: the index template file, else the live indices' mapping.

    Raises:
        ConfigurationError: neither source gives a mapping.
        BackendUnavailableError: the template file is absent and Elasticsearch cannot be asked.
    """
    if settings.index_template_file.is_file():
        try:
            return load_template_file(settings.index_template_file)
        except KibanaError as exc:
            raise ConfigurationError(str(exc)) from exc
    if es is None:
        raise ConfigurationError(f"{settings.index_template_file}: no index template file")
    try:
        response = es.indices.get_mapping(index=f"{settings.index_prefix}*", allow_no_indices=True)
    except (ApiError, TransportError) as exc:
        raise BackendUnavailableError(f"cannot read the mapping: {exc}") from exc
    try:
        types = merge_index_mappings(dict(response))
    except KibanaError as exc:
        raise ConfigurationError(str(exc)) from exc
    if not types:
        raise ConfigurationError(
            f"no index template file ({settings.index_template_file}) and no "
            f"{settings.index_prefix}* index to read a mapping from"
        )
    return types
