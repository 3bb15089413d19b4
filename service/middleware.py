"""Pure ASGI middleware: the request body limit; the one access event and server span per request.

Pure ASGI rather than Starlette's `BaseHTTPMiddleware`, which wraps every response in a
stream and costs a visible share of a sub-millisecond request.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from logshipping.events import Action, Level, emit
from service.deadlines import BodyDeadline
from service.features import STAGE1_NAME, STAGE2_NAME
from service.metrics.definitions import observe_prediction
from tracing.asgi import server_spans
from tracing.correlation import SPAN_ID, TRACE_ID, TRACE_KEPT
from tracing.spans import record_error
from tracing.tracer import SpanStarter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOG_FIELDS_KEY = "amf1.log_fields"
PREDICTION_PATHS = {"/predict/qualifying": STAGE1_NAME, "/predict/race-winner": STAGE2_NAME}
_FEEDBACK_PATH = "/feedback"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def log_fields(scope: Scope) -> dict[str, Any]:
    """The fields the access event of this request will carry; routes and handlers add to it."""
    fields: dict[str, Any] | None = scope.get(LOG_FIELDS_KEY)
    if fields is None:
        fields = scope[LOG_FIELDS_KEY] = {}
    return fields


async def send_json(
    send: Send,
    status: int,
    payload: dict[str, Any],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send a complete JSON response from middleware (no framework objects needed)."""
    body = orjson.dumps(payload)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(headers or ()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _TooLargeError(Exception):
    pass


class BodyLimitMiddleware:
    """Answers 413 to bodies over `max_bytes`, counting the bytes actually received, and 408
    (closing the connection) to a body not complete within `timeout_s` (`service.deadlines`:
    up to a quarter second later).

    A declared Content-Length over the limit is refused before reading; otherwise (chunked
    bodies included) the body is buffered up to the limit and replayed to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            with BodyDeadline(self.timeout_s):
                body = await self._read(scope, receive)
        except TimeoutError:
            message = f"request body not received within {self.timeout_s:g} s"
            fields = log_fields(scope)
            fields.update({"error.type": "request_timeout", "error.message": message})
            payload = {"error": {"type": "request_timeout", "message": message}}
            await send_json(send, 408, payload, headers=[(b"connection", b"close")])
            return
        except _TooLargeError:
            message = f"request body exceeds {self.max_bytes} bytes; send a smaller body"
            fields = log_fields(scope)
            fields.update({"error.type": "body_too_large", "error.message": message})
            await send_json(send, 413, {"error": {"type": "body_too_large", "message": message}})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            raise _TooLargeError
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class AccessLogMiddleware:
    """Emits exactly one catalogue event per HTTP request, when the response is complete.

    The action follows the outcome: on prediction paths `prediction-succeeded` (2xx),
    `request-rejected` (4xx) or `prediction-failed` (5xx); elsewhere `http-access`,
    `feedback-received` or `request-rejected`. An exception escaping the app becomes a JSON 500
    here, logged with its stack trace, and is not re-raised, so no second log line appears.

    With a `tracer` (`tracing.server_span_tracer()`), it also makes the request's server span
    (current while the app runs) and adds `X-Trace-Id` to every answer: one middleware layer
    instead of two on every request. The span ends before the access event is written, so the
    event says whether the trace was kept (`amf1.trace.kept`) next to its `trace.id`.
    """

    def __init__(self, app: ASGIApp, tracer: SpanStarter | None = None) -> None:
        self.app = app
        self.tracer = tracer
        self._server_span = server_spans(tracer) if tracer is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start_ns = time.perf_counter_ns()
        fields = log_fields(scope)
        status = 500
        started = False
        server_span = None
        if self._server_span is not None:
            server_span = self._server_span(scope)
            fields[TRACE_ID] = server_span.trace_id
            fields[SPAN_ID] = server_span.span_id

        async def send_and_watch(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                if server_span is not None:
                    server_span.response_started(message)
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except Exception as exc:  # noqa: BLE001 - the last line of defence answers and logs
            status = 500
            record_error(exc)  # swallowed here, so the instrumentation never sees it
            fields.update(
                {
                    "error.type": type(exc).__name__,
                    "error.message": str(exc) or type(exc).__name__,
                    "error.stack_trace": traceback.format_exc(),
                }
            )
            if not started:
                await send_json(
                    send_and_watch,
                    500,
                    {"error": {"type": "internal_error", "message": "internal error"}},
                )
        except BaseException:  # cancelled (the client went away): no access event, the span ends
            if server_span is not None:
                server_span.end(scope)
            raise
        duration_ns = time.perf_counter_ns() - start_ns
        if server_span is not None:
            fields[TRACE_KEPT] = server_span.end(scope)
        _log_access(scope, status, duration_ns, fields)


def _log_access(scope: Scope, status: int, duration_ns: int, fields: dict[str, Any]) -> None:
    path: str = scope["path"]
    method: str = scope["method"]
    model = PREDICTION_PATHS.get(path)
    action, level = _classify(path, status, model, "error.stack_trace" in fields)
    if model is not None:
        fields.setdefault("amf1.model.name", model)
        observe_prediction(model, status, duration_ns)
    if status >= 400:
        fields.setdefault("error.type", f"http_{status}")
        fields.setdefault("error.message", f"{method} {path} answered {status}")
    fields.update(
        {
            "http.request.method": method,
            "url.path": path,
            "http.response.status_code": status,
            "event.duration": duration_ns,
        }
    )
    emit(action, f"{method} {path} {status}", fields, level=level)


def _classify(
    path: str, status: int, model: str | None, crashed: bool
) -> tuple[Action, Level | None]:
    if 400 <= status < 500:
        return Action.REQUEST_REJECTED, None
    if model is not None:
        return Action.PREDICTION_FAILED if status >= 500 else Action.PREDICTION_SUCCEEDED, None
    if status >= 500:
        return Action.HTTP_ACCESS, "error" if crashed else "warning"
    if path == _FEEDBACK_PATH:
        return Action.FEEDBACK_RECEIVED, None
    return Action.HTTP_ACCESS, None
