"""`ConcurrencyLimitMiddleware`: at most `AMF1_MAX_CONCURRENT_REQUESTS` requests in progress per
worker; beyond, a 503 with `Retry-After` at once instead of a queue that grows without bound.

uvicorn's own `limit_concurrency` answers 503 without `Retry-After` (and in plain text); this one
answers the service's JSON error and is logged like any other answer (the access middleware sits
outside it). `/health` and `/metrics` are not counted, so probes and scrapes still answer.
"""

from __future__ import annotations

from service.middleware import ASGIApp, Receive, Scope, Send, log_fields, send_json

_UNLIMITED_PATHS = frozenset({"/health", "/metrics"})


class ConcurrencyLimitMiddleware:
    """Counts the HTTP requests in progress in this worker (one event loop: no lock needed)."""

    def __init__(self, app: ASGIApp, max_in_flight: int, retry_after_s: int = 1) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.retry_after_s = retry_after_s
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            message = (
                f"the service is busy ({self.max_in_flight} requests in progress); "
                f"retry after {self.retry_after_s} s"
            )
            log_fields(scope).update({"error.type": "overloaded", "error.message": message})
            await send_json(
                send,
                503,
                {"error": {"type": "overloaded", "message": message}},
                headers=[(b"retry-after", str(self.retry_after_s).encode())],
            )
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
