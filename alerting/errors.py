"""The exceptions of the `alerting` package.

`ConfigurationError` is fatal at load time (`amf1 watch --once` exits non-zero); the `kibana`
package's errors about the saved searches and the mapping the rules rest on are translated into
it where the watcher reads them. `BackendUnavailableError` is retryable: the watcher logs it,
keeps its rules and tries again.
"""

from __future__ import annotations


class AlertingError(Exception):
    """Base class of this package's errors."""


class ConfigurationError(AlertingError):
    """The rules, or the saved searches or mapping they rest on, cannot be used as written."""


class BackendUnavailableError(AlertingError):
    """Elasticsearch (or Slack) could not be reached or answered an error; retry later."""


class StateConflictError(AlertingError):
    """Another watcher wrote the same state document first (optimistic concurrency lost)."""
