"""The exceptions of the `alerting` package.

`ConfigurationError` is fatal at load time (`amf1 watch --once` exits non-zero); the `kibana`
package's errors about the saved searches and the mapping the rules rest on are translated into
it where the watcher reads them. `BackendUnavailableError` is retryable: the watcher logs it,
keeps its rules and tries again.
"""

from __future__ import annotations

import traceback


class AlertingError(Exception):
    """Base class of this package's errors."""


class ConfigurationError(AlertingError):
    """The rules, or the saved searches or mapping they rest on, cannot be used as written."""


class BackendUnavailableError(AlertingError):
    """Elasticsearch could not be reached or answered an error; retry later."""


class StateConflictError(AlertingError):
    """Another watcher wrote the same state document first (optimistic concurrency lost)."""


def log_fields(exc: BaseException) -> dict[str, str]:
    """ECS error fields of an unexpected exception: its type and stack frames, not its message.

    An exception's message (and the values in its frames) may quote a URL or a credential; the
    frames' file, line and code are enough to find the bug.
    """
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return {"error.type": type(exc).__name__, "error.stack_trace": frames}
