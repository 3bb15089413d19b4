"""The structlog processors that give every event its ECS shape (flat, dotted field names).

Each processor is a small callable with structlog's signature `(logger, method_name, event_dict)`.
They are hand-written rather than ecs-logging's `StructlogFormatter`: that formatter nests dotted
keys into objects (our contract is flat dotted keys at top level) and costs several microseconds
per event on the request path (see README.md, logging, for the measurement).
"""

from __future__ import annotations

import os
import socket
import sys
import time
import traceback
from collections.abc import Mapping, MutableMapping
from typing import Any, Final

import uuid_utils
from structlog.typing import EventDict, Processor, WrappedLogger

from logshipping.events import CATALOGUE, Action, CatalogueError, EventSpec

# structlog method names -> ECS `log.level` values.
_LEVELS: Mapping[str, str] = {
    "debug": "debug",
    "info": "info",
    "msg": "info",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
    "exception": "error",
    "critical": "critical",
    "fatal": "critical",
}


_LOG_ACTION: Final = Action.LOG.value
# Catalogue entries by plain-string action (the catalogue's keys are enum members).
_SPECS: Final[Mapping[str, EventSpec]] = {action.value: spec for action, spec in CATALOGUE.items()}


EMITTED_NS: Final = "_emitted_ns"
"""An event's moment of emission (`time.time_ns()`) when it is processed later
(`logshipping.batch`): its `@timestamp`."""


class _SecondCache:
    """(second, its `YYYY-MM-DDTHH:MM:SS.`), replaced as one tuple so threads never mix them."""

    value: tuple[int, str] = (-1, "")


def utc_timestamp(nanos: int | None = None) -> str:
    """Now (or `nanos` since the epoch) as ISO 8601 UTC with microseconds and `Z` (strftime only
    once per second: it is slow)."""
    if nanos is None:
        nanos = time.time_ns()
    seconds = nanos // 1_000_000_000
    cached_second, prefix = _SecondCache.value
    if seconds != cached_second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds))
        _SecondCache.value = (seconds, prefix)
    return "%s%06dZ" % (prefix, nanos // 1000 % 1_000_000)  # noqa: UP031 - fastest


def static_fields(
    *, service_name: str, service_version: str, environment: str, dataset: str
) -> dict[str, Any]:
    """The fields that are the same for every event of this process."""
    return {
        "event.dataset": dataset,
        "service.name": service_name,
        "service.version": service_version,
        "service.environment": environment,
        "host.name": socket.gethostname(),
        "process.pid": os.getpid(),
    }


class BaseFields:
    """Adds `@timestamp`, `log.level`, `message`, `event.id` (UUIDv7) and the static fields.

    Builds a new dict so that the common fields come first in the rendered line.
    """

    def __init__(self, static: Mapping[str, Any]) -> None:
        self.static = dict(static)
        self.refresh_pid()

    def refresh_pid(self) -> None:
        """Re-read the pid (after a fork the child must not report its parent's)."""
        self.static["process.pid"] = os.getpid()

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        return {
            "@timestamp": utc_timestamp(event_dict.pop(EMITTED_NS, None)),
            "log.level": _LEVELS.get(method_name, method_name),
            "message": event_dict.pop("event", ""),
            "event.id": str(uuid_utils.uuid7()),
            "event.action": _LOG_ACTION,
            **self.static,
            **event_dict,
        }


def add_error_fields(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Turns `exc_info` (True, an exception or a sys.exc_info() tuple) into ECS `error.*` fields."""
    exc_info = event_dict.pop("exc_info", None)
    if not exc_info:
        return event_dict
    if isinstance(exc_info, BaseException):
        exc: BaseException | None = exc_info
    elif isinstance(exc_info, tuple):
        exc = exc_info[1]
    else:
        exc = sys.exc_info()[1]
    if exc is None:
        return event_dict
    exc_type = type(exc)
    name = exc_type.__qualname__
    if exc_type.__module__ not in ("builtins", "__main__"):
        name = f"{exc_type.__module__}.{name}"
    event_dict.setdefault("error.type", name)
    event_dict.setdefault("error.message", str(exc))
    event_dict["error.stack_trace"] = "".join(traceback.format_exception(exc))
    return event_dict


def add_logger_name(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """For standard-library records: the emitting logger's name as ECS `log.logger`."""
    record = event_dict.get("_record")
    if record is not None:
        event_dict["log.logger"] = record.name
    return event_dict


def make_catalogue_check(*, strict: bool) -> Processor:
    """Checks each event against its catalogue entry.

    Strict (tests, `AMF1_LOG_STRICT=1`): raise `CatalogueError`, so a test catches a missing
    field. Otherwise never raise into a request: ship the event with
    `amf1.log.missing_fields` listing what is missing, which is searchable in Kibana.
    """

    def check_catalogue(
        logger: WrappedLogger, method_name: str, event_dict: EventDict
    ) -> EventDict:
        action = event_dict.get("event.action")
        spec = _SPECS.get(action)  # type: ignore[arg-type]
        if spec is None:
            if strict:
                raise CatalogueError(f"unknown event.action {action!r}")
            event_dict["amf1.log.missing_fields"] = ["event.action"]
            return event_dict
        if event_dict.keys() >= spec.required and not spec.one_of:
            return event_dict
        missing = spec.missing(event_dict.keys())
        if not missing:
            return event_dict
        if strict:
            raise CatalogueError(f"{action} event lacks required fields {missing}")
        event_dict["amf1.log.missing_fields"] = missing
        return event_dict

    return check_catalogue


def drop_meta(event_dict: MutableMapping[str, Any]) -> None:
    """Removes structlog's standard-library bookkeeping keys before rendering."""
    event_dict.pop("_record", None)
    event_dict.pop("_from_structlog", None)


MAX_STRING_CHARS: Final = 1024
MAX_STACK_TRACE_CHARS: Final = 16384
_LONG_FIELDS: Final[Mapping[str, int]] = {"error.stack_trace": MAX_STACK_TRACE_CHARS}


def truncate(value: str, limit: int = MAX_STRING_CHARS) -> str:
    """`value` cut to `limit` characters plus a marker naming what was cut, e.g.
    `/aaaa…[truncated 79,000 bytes]` (bytes of the UTF-8 text removed)."""
    if len(value) <= limit:
        return value
    removed = len(value[limit:].encode("utf-8", "surrogatepass"))
    return f"{value[:limit]}…[truncated {removed:,} bytes]"


def truncate_strings(event_dict: MutableMapping[str, Any]) -> bool:
    """Cuts every top-level string to `MAX_STRING_CHARS` (stack traces to
    `MAX_STACK_TRACE_CHARS`); returns whether any was cut. The renderer calls it for lines over
    the limit: clients choose paths, headers and field names, and an outage buffers every event
    on disk, so no event may grow with what a client sends."""
    cut = False
    for key, value in event_dict.items():
        if type(value) is str and len(value) > MAX_STRING_CHARS:
            event_dict[key] = truncate(value, _LONG_FIELDS.get(key, MAX_STRING_CHARS))
            cut = True
    return cut
