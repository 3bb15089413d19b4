"""The exceptions of the `kibana` package.

`ConfigurationError` and its subclasses mean the saved objects, a query or the mapping cannot be
used as written; `BackendUnavailableError` is retryable: Kibana could not be reached.
"""

from __future__ import annotations


class KibanaError(Exception):
    """Base class of this package's errors."""


class ConfigurationError(KibanaError):
    """The saved objects, a query or the mapping cannot be used as written."""


class QuerySyntaxError(ConfigurationError):
    """A KQL query does not parse (as Kibana's grammar has it); the message names the position."""


class UntranslatableQueryError(ConfigurationError):
    """A query parses but Kibana or Elasticsearch would refuse it (so the watcher does at load)."""


class BackendUnavailableError(KibanaError):
    """Kibana could not be reached or answered an error; retry later."""
