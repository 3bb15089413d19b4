"""The watcher's own health: what is failing since when, and its one degraded/recovered message.

Problems are keyed (`elasticsearch`, `rule <id>`). When the oldest has lasted `degraded_after_s`,
one "watcher degraded" message is due; when none is left after that, one "watcher recovered".
The messages are kept in memory, not in the state index: Elasticsearch may be the problem.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from alerting.message import degraded_payload
from logshipping.events import Action, emit

ELASTICSEARCH = "elasticsearch"


class Health:
    """Tracks problems and yields the degraded / recovered messages due."""

    def __init__(self, degraded_after_s: float, instance: str) -> None:
        self._after = timedelta(seconds=degraded_after_s)
        self._instance = instance
        self._problems: dict[str, tuple[datetime, str]] = {}
        self._degraded_since: datetime | None = None

    def problem(self, key: str, reason: str, now: datetime) -> None:
        """Record a failure (its first occurrence is logged once)."""
        if key not in self._problems:
            self._problems[key] = (now, reason)
            emit(Action.WATCHER_DEGRADED, f"watcher problem: {key}", {"error.message": reason})

    def clear(self, key: str) -> None:
        self._problems.pop(key, None)

    def failing(self, key: str) -> bool:
        return key in self._problems

    @property
    def rule_problems(self) -> dict[str, str]:
        return {k: reason for k, (_, reason) in self._problems.items() if k != ELASTICSEARCH}

    def due_messages(self, now: datetime) -> list[dict[str, Any]]:
        """The degraded or recovered message to send now, if any (each at most once)."""
        if self._problems and self._degraded_since is None:
            since = min(at for at, _ in self._problems.values())
            if now - since >= self._after:
                self._degraded_since = since
                reasons = "; ".join(f"{k}: {r}" for k, (_, r) in sorted(self._problems.items()))
                return [degraded_payload(reasons, since, self._instance, recovered=False)]
        if not self._problems and self._degraded_since is not None:
            since, self._degraded_since = self._degraded_since, None
            emit(Action.WATCHER_RECOVERED, "watcher recovered", {"amf1.watcher.since": str(since)})
            return [degraded_payload("", since, self._instance, recovered=True)]
        return []
