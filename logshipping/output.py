"""Where rendered lines go: stdout and, unless the line comes from the shipper itself, the shipper.

structlog's own events end in `JsonLinesLogger` (its "wrapped logger": it receives the rendered
bytes); standard-library records end in `StdlibHandler`, whose ProcessorFormatter runs the same
processors. Both write through one `Output`, so every stdout line is one JSON object.
"""

from __future__ import annotations

import logging
from typing import Any, BinaryIO, Final, Protocol

# Records of these loggers go to stdout only: shipping them would feed the shipper's own
# warnings (e.g. "receiver down") back into the buffer it is failing to empty.
NOT_SHIPPED_LOGGERS: Final = ("logshipping.shipper", "logstash_async", "LogProcessingWorker")


class Shipper(Protocol):
    """What `Output` needs from the shipping handler."""

    def ship(self, line: bytes) -> None:
        """Hands one rendered line on; must not block or raise."""


class HeldBack(Protocol):
    """What `Output` needs from the batches of held-back events (`logshipping.batch`)."""

    def flush_thread(self) -> None:
        """Writes the events this thread holds back."""


class Output:
    """The process's stdout plus, optionally, the shipper."""

    def __init__(
        self, stream: BinaryIO | None, shipper: Shipper | None, held: HeldBack | None = None
    ) -> None:
        self.stream = stream
        self.shipper = shipper
        self.held = held

    def write(self, line: bytes, *, ship: bool = True) -> None:
        """Writes one line to stdout (flushed) and ships it, after the events this thread holds
        back (their order kept); never raises into the caller."""
        held = self.held
        if held is not None:
            held.flush_thread()
        stream = self.stream
        if stream is not None:
            try:
                stream.write(line)
                stream.flush()
            except (OSError, ValueError):  # closed or broken stdout must not break a request
                pass
        shipper = self.shipper
        if ship and shipper is not None:
            shipper.ship(line)


class JsonLinesLogger:
    """structlog's wrapped logger: one shared instance; `output` is swapped by `configure`.

    The rendered line carries its level (`log.level`), so every method writes alike.
    """

    output: Output = Output(None, None)

    def write(self, line: bytes) -> None:
        """Writes one rendered line (stdout and the shipper)."""
        self.output.write(line)

    debug = info = msg = warning = warn = error = exception = critical = fatal = write


SINK: Final = JsonLinesLogger()


def sink_factory(*args: Any) -> JsonLinesLogger:
    """structlog logger factory: every logger writes through the one sink."""
    return SINK


class StdlibHandler(logging.Handler):
    """Root handler for the standard library's records (uvicorn, lightgbm, httpx...)."""

    def emit(self, record: logging.LogRecord) -> None:
        """Formats through the structlog chain and writes the line like any other event."""
        try:
            line = self.format(record).encode()
        except Exception:  # noqa: BLE001 - logging's contract: report via handleError, never raise
            self.handleError(record)
            return
        SINK.output.write(line, ship=not record.name.startswith(NOT_SHIPPED_LOGGERS))
