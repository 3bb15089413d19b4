"""OTLP exporters: one `ExportTraceServiceRequest` per batch over gRPC or HTTP/protobuf.

Both encode a batch once (`tracing.otlp.Encoder`), retry what OTLP calls retryable with
exponential backoff and jitter within `timeout_s` overall, and never raise: a failure is one
warning on the `tracing.otlp` logger and `False` (the batch processor counts the spans as lost).
No gzip: the collector is local, CPU matters more than bytes.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tracing.otlp import Encoder
from tracing.records import Span

logger = logging.getLogger("tracing.otlp")

_INITIAL_BACKOFF_S = 0.1
_MAX_BACKOFF_S = 2.0
# OTLP's retryable outcomes (the OTLP specification of opentelemetry-proto, "Failures").
_GRPC_RETRYABLE = frozenset(
    {"CANCELLED", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED", "OUT_OF_RANGE"}
    | {"UNAVAILABLE", "DATA_LOSS"}
)
_HTTP_RETRYABLE = frozenset({429, 502, 503, 504})
_GRPC_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
_HTTP_HEADERS = {"Content-Type": "application/x-protobuf"}


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why one attempt did not deliver, and whether another may."""

    reason: str
    retryable: bool
    retry_after_s: float | None = None


class _RetryingExporter:
    """Encodes a batch once, then sends it until delivered, refused for good, or out of time."""

    def __init__(self, target: str, timeout_s: float, encoder: Encoder) -> None:
        self._target = target
        self._timeout_s = timeout_s
        self._encoder = encoder
        self._stopped = threading.Event()

    def export(self, spans: Sequence[Span]) -> bool:
        """Deliver `spans` within `timeout_s`; True when the collector accepted the request.

        Never raises: a failure logs one warning (logger `tracing.otlp`) and returns False.
        """
        if self._stopped.is_set():
            logger.warning(
                "OTLP export to %s after shutdown: %d spans dropped", self._target, len(spans)
            )
            return False
        data = self._encoder.encode(spans)
        if not data:
            return True
        failure = self._deliver(data)
        if failure is None:
            return True
        logger.warning(
            "OTLP export of %d spans to %s failed: %s", len(spans), self._target, failure
        )
        return False

    def shutdown(self) -> None:
        """Close the connection; a retry waiting now gives up, and later exports return False."""
        self._stopped.set()
        self._close()

    def _deliver(self, data: bytes) -> str | None:
        """None once delivered, else why not."""
        deadline = time.monotonic() + self._timeout_s
        backoff_s = _INITIAL_BACKOFF_S
        attempts = 0
        while True:
            attempts += 1
            try:
                failure = self._send(data, deadline - time.monotonic())
            except Exception as exc:  # noqa: BLE001 - a transport bug must not reach the caller
                failure = _Failure(f"{type(exc).__name__}: {exc}", retryable=False)
            if failure is None:
                return None
            if not failure.retryable:
                return failure.reason
            jittered_s = backoff_s * random.uniform(0.75, 1.0)  # noqa: S311 - jitter, not crypto
            delay_s = max(failure.retry_after_s or 0.0, jittered_s)
            if delay_s >= deadline - time.monotonic():
                return f"{failure.reason} (gave up after {attempts} attempts, {self._timeout_s} s)"
            if self._stopped.wait(delay_s):
                return f"{failure.reason} (shut down while retrying)"
            backoff_s = min(2 * backoff_s, _MAX_BACKOFF_S)

    def _send(self, data: bytes, timeout_s: float) -> _Failure | None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class GrpcExporter(_RetryingExporter):
    """OTLP/gRPC: unary `TraceService/Export` calls on one channel.

    `endpoint`: `http://host:port` or a bare `host:port` (plaintext), `https://host:port` (TLS);
    `headers` go with every call as metadata.
    Raises ValueError for an endpoint without host:port.
    """

    def __init__(
        self,
        endpoint: str,
        timeout_s: float,
        encoder: Encoder,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        import grpc  # type: ignore[import-untyped]  # noqa: PLC0415 - only gRPC users load it

        parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
        if not parts.netloc:
            raise ValueError(f"OTLP gRPC endpoint {endpoint!r} has no host:port")
        super().__init__(parts.netloc, timeout_s, encoder)
        # gRPC's reconnect backoff grows to 120 s by default: too long after a collector restart.
        options = [
            ("grpc.initial_reconnect_backoff_ms", 250),
            ("grpc.max_reconnect_backoff_ms", 5000),
        ]
        if parts.scheme == "https":
            credentials = grpc.ssl_channel_credentials()
            self._channel = grpc.secure_channel(parts.netloc, credentials, options)
        else:
            self._channel = grpc.insecure_channel(parts.netloc, options)
        self._call = self._channel.unary_unary(_GRPC_METHOD)  # no (de)serializers: bytes as is
        self._metadata = tuple((name.lower(), value) for name, value in (headers or {}).items())
        self._rpc_error: type[Exception] = grpc.RpcError

    def _send(self, data: bytes, timeout_s: float) -> _Failure | None:
        try:
            response = self._call(data, timeout=timeout_s, metadata=self._metadata or None)
        except self._rpc_error as exc:
            code = exc.code()  # type: ignore[attr-defined]  # the error is also a grpc.Call
            details = exc.details()  # type: ignore[attr-defined]
            return _Failure(f"gRPC {code.name}: {details}", code.name in _GRPC_RETRYABLE)
        _log_partial_success(response, self._target)
        return None

    def _close(self) -> None:
        self._channel.close()


class HttpExporter(_RetryingExporter):
    """OTLP/HTTP: protobuf POSTs to `url` (the full `.../v1/traces`) on a kept-alive connection,
    with `headers` on each.

    Raises ValueError for a URL that is not http(s)://host....
    """

    def __init__(
        self,
        url: str,
        timeout_s: float,
        encoder: Encoder,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"OTLP HTTP URL {url!r} is not http(s)://host[:port]/path")
        super().__init__(url, timeout_s, encoder)
        self._path = parts.path + (f"?{parts.query}" if parts.query else "")
        self._pool = urllib3.connection_from_url(url, maxsize=1, retries=False)
        self._headers = {**(headers or {}), **_HTTP_HEADERS}

    def _send(self, data: bytes, timeout_s: float) -> _Failure | None:
        try:
            response = self._pool.urlopen(
                "POST",
                self._path or "/",
                body=data,
                headers=self._headers,
                timeout=urllib3.Timeout(total=timeout_s),
                retries=False,
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as exc:  # connection refused, reset, timed out, ...
            return _Failure(f"{type(exc).__name__}: {exc}", retryable=True)
        if 200 <= response.status < 300:
            _log_partial_success(response.data, self._target)
            return None
        reason = f"HTTP {response.status}: {response.data[:200]!r}"
        if response.status not in _HTTP_RETRYABLE:
            return _Failure(reason, retryable=False)
        return _Failure(reason, True, _retry_after_s(response.headers.get("Retry-After")))

    def _close(self) -> None:
        self._pool.close()


def _retry_after_s(value: str | None) -> float | None:
    """The wait a `Retry-After` header asks for, in delay-seconds (what collectors send; an
    HTTP date counts as absent: the backoff applies)."""
    return float(value) if value and value.strip().isdigit() else None


def _log_partial_success(body: bytes, target: str) -> None:
    """Warn about spans a collector accepted the request but rejected (OTLP partial success)."""
    if not body:
        return
    try:
        partial = ExportTraceServiceResponse.FromString(body).partial_success
    except DecodeError:  # not ours to judge: the request was accepted
        return
    if partial.rejected_spans or partial.error_message:
        logger.warning(
            "OTLP collector at %s rejected %d spans: %s",
            target,
            partial.rejected_spans,
            partial.error_message,
        )
