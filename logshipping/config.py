"""`configure()`: the one place that sets up structlog, standard logging and shipping.

All global logging state of the product lives here (`_State`), mutated only by `configure`,
`shutdown`, `add_secrets` and the after-fork hook; the request path only reads it.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from types import FrameType
from typing import Any, BinaryIO, Final, TextIO, cast

import orjson
import structlog
from structlog import DropEvent
from structlog.contextvars import merge_contextvars
from structlog.typing import Processor

from logshipping import events
from logshipping.batch import LoopBatches
from logshipping.output import SINK, Output, StdlibHandler, sink_factory
from logshipping.processors import (
    EMITTED_NS,
    BaseFields,
    add_error_fields,
    add_logger_name,
    make_catalogue_check,
    static_fields,
    utc_timestamp,
)
from logshipping.redaction import SECRETS, Redactor
from logshipping.render import JsonRenderer
from logshipping.settings import Settings
from logshipping.settings_base import environment_secrets
from logshipping.shipping.handler import ShippingHandler
from logshipping.shipping.worker import SHIPPER_LOGGER_NAME, ShipperCounts

_LEVELS: Final = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
# Events at this level or below may be held back for their loop's batch (`logshipping.batch`).
_HELD_BACK_LEVEL: Final = _LEVELS["info"]
# Library loggers whose own handlers would print non-JSON lines; they propagate to root instead.
_RELAYED_LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access", "lightgbm", "httpx")


class _State:
    settings: Settings | None = None
    redactor: Redactor = Redactor()
    base_fields: BaseFields | None = None
    shipper: ShippingHandler | None = None
    stream: BinaryIO | None = None
    batches: LoopBatches | None = None
    # One list object for the whole process: cached bound loggers (and structlog's
    # capture_logs) hold this very list, so re-configuring mutates it in place.
    processors: list[Processor] = []  # noqa: RUF012 - process-global by design
    hooks_registered = False


# Before `configure`, the redactor (which spans use too) still knows every registered secret.
SECRETS.follow(_State.redactor)


class _TextStdout:
    """Bytes-to-text adapter for a sys.stdout without a binary buffer (some embedders)."""

    def __init__(self, text: TextIO) -> None:
        self._text = text

    def write(self, line: bytes) -> int:
        return self._text.write(line.decode())

    def flush(self) -> None:
        self._text.flush()


def _stdout() -> BinaryIO:
    buffer = getattr(sys.stdout, "buffer", None)
    return buffer if buffer is not None else cast(BinaryIO, _TextStdout(sys.stdout))


def _report_drops(count: int) -> None:
    events.emit(
        events.Action.SHIPPER_DROPPED,
        f"log shipper buffer full or too old: dropped {count} events",
        {"amf1.shipper.dropped_count": count},
    )


def _make_shipper(settings: Settings) -> ShippingHandler:
    return ShippingHandler(
        host=settings.logstash_host,
        port=settings.logstash_port,
        directory=settings.buffer_dir,
        max_events=settings.log_buffer_max_events,
        max_bytes=settings.log_buffer_max_bytes,
        max_age_s=settings.log_buffer_max_age_s,
        batch_size=settings.log_batch_size,
        poll_interval_s=settings.log_poll_interval_s,
        retry_max_s=settings.log_retry_max_s,
        connect_timeout_s=settings.log_connect_timeout_s,
        tls=settings.tls,
        segment_bytes=settings.log_journal_segment_bytes,
        journal_max_bytes=settings.log_journal_max_bytes,
        on_dropped=_report_drops,
    )


def configure(
    settings: Settings | None = None,
    *,
    extra_processors: Sequence[Processor] = (),
    ship: bool | None = None,
    stream: BinaryIO | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """Sets up logging for this process; call once at start-up (calling again re-configures).

    Args:
        settings: defaults to `Settings()` (environment variables `AMF1_*`).
        extra_processors: run after the ECS base fields and before catalogue check, redaction
            and rendering (e.g. the tracing package's processor adding `trace.id`/`span.id`).
        ship: ship to the TCP receiver; defaults to `settings.log_ship`.
        stream: where JSON lines are written; defaults to the process's stdout.
        secrets: more secret values to redact, besides those of every settings model built in
            this process (registered by `SecretStr` type) and of the `AMF1_*` variables with
            secret names (`environment_secrets`).
    """
    shutdown()
    settings = settings or Settings()
    _State.settings = settings
    _State.stream = stream if stream is not None else _stdout()
    _State.redactor = Redactor([*secrets, *environment_secrets()])
    SECRETS.follow(_State.redactor)
    _State.base_fields = BaseFields(
        static_fields(
            service_name=settings.service_name,
            service_version=settings.service_version,
            environment=settings.environment,
            dataset=settings.log_dataset,
        )
    )
    shipping = settings.log_ship if ship is None else ship
    failure: OSError | None = None
    try:
        _State.shipper = _make_shipper(settings) if shipping else None
    except OSError as exc:  # e.g. read-only or full buffer directory: log to stdout only
        _State.shipper, failure = None, exc
    renderer = JsonRenderer(_State.redactor)
    enrich: list[Processor] = [
        _State.base_fields,
        add_error_fields,
        *extra_processors,
        make_catalogue_check(strict=settings.log_strict),
        _State.redactor.redact_keys,
    ]
    _State.processors[:] = [merge_contextvars, *enrich, renderer]
    structlog.configure(
        processors=_State.processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[settings.log_level]),
        logger_factory=sink_factory,
        # Not cached: a module-level logger proxy bound once would keep this configuration's
        # processors after a re-configuration (and escape structlog's capture_logs in tests).
        # The hot path does not use it: `events.emit` has its own fast path.
        cache_logger_on_first_use=False,
    )
    _configure_stdlib(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[merge_contextvars, add_logger_name, *enrich],
            processors=[renderer.render_text],
        ),
        _LEVELS[settings.log_level],
    )
    process = _processing(strict=settings.log_strict)
    delay_s = settings.log_render_delay_ms / 1000
    # Strict (tests): a catalogue error is raised into the emitter, so nothing is held back.
    hold_back = delay_s > 0 and not settings.log_strict
    _State.batches = LoopBatches(process, delay_s) if hold_back else None
    SINK.output = Output(_State.stream, _State.shipper, _State.batches)
    events.install_fast_path(
        _fast_path(_LEVELS[settings.log_level], process, renderer, _State.batches)
    )
    _register_hooks()
    if failure is not None:
        logging.getLogger(SHIPPER_LOGGER_NAME).error(
            "log shipping disabled, events go to stdout only: %s", failure
        )


def _processing(*, strict: bool) -> Callable[[str, Any], None]:
    """The configured processors and the write of one event: now, or for its loop's batch."""
    processors = _State.processors  # the very list capture_logs() swaps its capture into

    def process(method: str, event: Any) -> None:
        message = event["event"]
        try:
            for processor in processors:
                event = processor(SINK, method, event)
        except DropEvent:
            return
        except Exception as exc:
            if strict:
                raise
            _write_fallback(method, message, exc)
            return
        SINK.output.write(event)

    return process


def _fast_path(
    min_level: int,
    process: Callable[[str, Any], None],
    renderer: JsonRenderer,
    batches: LoopBatches | None,
) -> Callable[[str, str, dict[str, Any]], None]:
    processors = _State.processors

    def run(method: str, message: str, event_dict: dict[str, Any]) -> None:
        level = _LEVELS.get(method, 20)
        if level < min_level:
            return
        event_dict["event"] = message
        if (
            batches is not None
            and level <= _HELD_BACK_LEVEL
            and "exc_info" not in event_dict  # names the exception being handled now
            and processors[-1] is renderer  # not swapped for a capture (structlog.testing)
        ):
            event_dict[EMITTED_NS] = time.time_ns()
            if batches.add(method, event_dict):  # processed later, in this moment's context
                return
        process(method, event_dict)

    return run


def _write_fallback(method: str, message: str, exc: Exception) -> None:
    """Production: a processor failed; write what we can instead of raising into the request."""
    line = orjson.dumps(
        {
            "@timestamp": utc_timestamp(),
            "log.level": "error",
            "message": f"log event could not be rendered: {message}",
            "event.action": events.Action.LOG.value,
            "error.type": type(exc).__name__,
            "error.message": str(exc),
            "amf1.log.original_level": method,
        },
        option=orjson.OPT_APPEND_NEWLINE,
    )
    SINK.output.write(_State.redactor.scrub(line))


def _configure_stdlib(formatter: logging.Formatter, level: int) -> None:
    handler = StdlibHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _RELAYED_LOGGERS:
        relayed = logging.getLogger(name)
        relayed.handlers.clear()
        relayed.propagate = True
        # A level set earlier (uvicorn sets its own from `log_level`) would hide records that
        # the configured level lets through.
        relayed.setLevel(logging.NOTSET)
    # The service writes its own access event (one per request); uvicorn's would be a second.
    logging.getLogger("uvicorn.access").disabled = True
    logging.captureWarnings(True)
    warnings.simplefilter("default")


def add_secrets(secrets: Iterable[str]) -> None:
    """Registers secret values learnt after start-up (redacted from every later event)."""
    _State.redactor.add_secrets(secrets)


def redactor() -> Redactor:
    """The redactor of this process's log events (spans pass through it too: `tracing`)."""
    return _State.redactor


def shipper_counts() -> ShipperCounts | None:
    """This process's shipper totals (shipped, buffered, dropped by reason); None when logs are
    not shipped."""
    shipper = _State.shipper
    return shipper.counts() if shipper is not None else None


def shutdown(timeout_s: float | None = None) -> bool:
    """Flushes the shipper for at most `timeout_s` (default: the setting) and stops it.

    Returns whether every event was delivered (what was not is shipped by the next start-up).
    Later events still reach stdout.
    """
    events.install_fast_path(None)
    batches, _State.batches = _State.batches, None
    if batches is not None:
        batches.flush_all()  # through the shipper still attached
    shipper, _State.shipper = _State.shipper, None
    SINK.output = Output(_State.stream, None)
    if shipper is None:
        return True
    if timeout_s is None:
        timeout_s = _State.settings.log_shutdown_timeout_s if _State.settings else 5.0
    return shipper.shutdown(timeout_s)


def _after_fork_in_child() -> None:
    # The parent's journal, thread, lock and held-back events are not ours: start a shipper of
    # our own (new pid).
    if _State.batches is not None:
        _State.batches.forget()
    shipper = _State.shipper
    if shipper is None or _State.settings is None:
        return
    shipper.abandon_after_fork()
    if _State.base_fields is not None:
        _State.base_fields.refresh_pid()
    _State.shipper = _make_shipper(_State.settings)
    SINK.output = Output(_State.stream, _State.shipper, _State.batches)


def _flush_then_terminate(signum: int, frame: FrameType | None) -> None:
    # uvicorn re-raises SIGTERM after its graceful shutdown, which skips atexit: flush first.
    shutdown()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _register_hooks() -> None:
    if _State.hooks_registered:
        return
    _State.hooks_registered = True
    atexit.register(shutdown)
    os.register_at_fork(after_in_child=_after_fork_in_child)
    # Only where nobody else handles SIGTERM (an application's own handler wins).
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _flush_then_terminate)
