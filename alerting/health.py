"""The watcher's own health: what is failing since when, and its degraded/recovered messages.

Problems are keyed (`elasticsearch`, `rule <id>`, `channel <name>`, `state <id>`). A problem that
has lasted `degraded_after_s` is reported once, in a "watcher degraded" message (problems that
become due together share one); when none is left after that, one "watcher recovered". A notice
(a one-off such as a malformed state document set aside) is reported at once and then cleared.
The messages are kept in memory, not in the state index: Elasticsearch may be the problem.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alerting.content import AlertMessage
from alerting.message import degraded_message
from logshipping.events import Action, emit

ELASTICSEARCH = "elasticsearch"
CHANNEL = "channel "


class Health:
    """Tracks problems and yields the degraded / recovered messages due."""

    def __init__(self, degraded_after_s: float, instance: str) -> None:
        self._after = timedelta(seconds=degraded_after_s)
        self._instance = instance
        self._problems: dict[str, tuple[datetime, str]] = {}
        self._notices: set[str] = set()
        self._reported: set[str] = set()
        self._degraded_since: datetime | None = None

    def problem(self, key: str, reason: str, now: datetime) -> None:
        """Record a failure (its first occurrence is logged once)."""
        if key not in self._problems:
            self._problems[key] = (now, reason)
            emit(Action.WATCHER_DEGRADED, f"watcher problem: {key}", {"error.message": reason})

    def notice(self, key: str, reason: str, now: datetime) -> None:
        """Record a one-off problem: reported in the next message, then cleared."""
        self.problem(key, reason, now - self._after)
        self._notices.add(key)

    def clear(self, key: str) -> None:
        self._problems.pop(key, None)

    def failing(self, key: str) -> bool:
        return key in self._problems

    @property
    def rule_problems(self) -> dict[str, str]:
        """Every problem but Elasticsearch's (rules, channels, state documents)."""
        return {k: reason for k, (_, reason) in self._problems.items() if k != ELASTICSEARCH}

    @property
    def failing_channels(self) -> set[str]:
        return {k.removeprefix(CHANNEL) for k in self._problems if k.startswith(CHANNEL)}

    def due_messages(self, now: datetime) -> list[AlertMessage]:
        """The degraded or recovered message to send now, if any (each problem once)."""
        due = sorted(
            key
            for key, (at, _) in self._problems.items()
            if key not in self._reported and now - at >= self._after
        )
        if due:
            since = min(at for at, _ in self._problems.values())
            self._degraded_since = self._degraded_since or since
            self._reported.update(due)
            reasons = "; ".join(f"{key}: {self._problems[key][1]}" for key in due)
            for key in self._notices.intersection(due):
                self.clear(key)
            self._notices.difference_update(due)
            return [degraded_message(reasons, self._degraded_since, self._instance, False)]
        if not self._problems and self._degraded_since is not None:
            since, self._degraded_since = self._degraded_since, None
            self._reported.clear()
            emit(Action.WATCHER_RECOVERED, "watcher recovered", {"amf1.watcher.since": str(since)})
            return [degraded_message("", since, self._instance, recovered=True)]
        return []
