"""The exceptions of the `kibana` package.

`ConfigurationError` and its subclasses are fatal at load time (`amf1 watch --once` exits non-zero);
`BackendUnavailableError` is retryable: the watcher logs it, keeps its rules and tries again.
"""

from __future__ import annotations


class KibanaError(Exception):
    """Base class of this package's errors."""


class ConfigurationError(KibanaError):
    """The rules, saved objects or mapping cannot be used as written."""


class QuerySyntaxError(ConfigurationError):
    """A KQL query does not parse; the message names the position."""


class UntranslatableQueryError(ConfigurationError):
    """A query parses but cannot be translated faithfully (unknown field, nested query...)."""


class BackendUnavailableError(KibanaError):
    """Elasticsearch (or Slack) could not be reached or answered an error; retry later."""


class StateConflictError(KibanaError):
    """Another watcher wrote the same state document first (optimistic concurrency lost)."""
