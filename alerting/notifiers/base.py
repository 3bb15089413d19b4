"""The small base every channel's notifier extends (as ElastAlert 2's alerters extend `Alerter`).

A notifier sends one `AlertMessage` to one channel, in that channel's format, and never raises
for trouble on the way: it returns a `SendResult` saying whether the channel took the message and,
if not, when it may be tried again. Each send is bounded in time (`longest_send_s`): its timeout
and its own few retries included. Error texts name what failed, never a URL or a credential.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alerting.content import AlertMessage


@dataclass(frozen=True, slots=True)
class SendResult:
    """Outcome of one delivery attempt (after the notifier's own bounded retries)."""

    ok: bool
    status: int | None = None
    retry_after_s: float | None = None
    error: str | None = None


def retry_after(headers: Mapping[str, Any]) -> float | None:
    """The `Retry-After` of a response in seconds (the delta-seconds form), else None."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


class Notifier(ABC):
    """Sends alert messages to one channel.

    Attributes:
        channel: the channel's name in routing and in the state ledger (`slack-critical`, ...).
    """

    channel: str

    @property
    @abstractmethod
    def longest_send_s(self) -> float:
        """The longest one `send` can take, retries and waits included (claims must outlast it)."""

    @abstractmethod
    def send(self, message: AlertMessage) -> SendResult:
        """Deliver `message`; never raises for network or server trouble."""
