"""Rendering an event to one JSON line with orjson, redaction applied to the bytes.

orjson escapes newlines, quotes and every control character inside strings, so a value can
never end the line early or forge a second event; the only raw newline is the one appended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import orjson
from structlog.typing import EventDict, WrappedLogger

from logshipping.processors import MAX_STRING_CHARS, drop_meta, truncate_strings
from logshipping.redaction import Redactor, native_event_hint_free

_OPTIONS: Final = orjson.OPT_APPEND_NEWLINE


def _stringify(value: Any) -> Any:
    """A copy orjson can always serialise (e.g. integers beyond 64 bits become strings)."""
    if isinstance(value, dict):
        return {str(k): _stringify(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_stringify(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, float):
        return float(value)  # a subclass (numpy's float64) as the number it is
    if isinstance(value, int) and -(2**63) <= value < 2**64:
        return value
    return str(value)


def _dumps(value: Any) -> bytes:
    # orjson's own fast path first: string keys and the types it knows (`OPT_NON_STR_KEYS` and a
    # `default` cost the common event ~40 %); anything else is rare and goes through a copy.
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        return orjson.dumps(_stringify(value), option=_OPTIONS)


class JsonRenderer:
    """Final processor: the event as one JSON line (bytes, newline-terminated), its top-level
    strings cut to their limits (`truncate_strings`: no event grows with what a client sends),
    redacted."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        # `Redactor.event_hint_free` in C where it was built (logshipping/_hotpath.c).
        self._event_hint_free: Callable[[Redactor, EventDict], bool] = (
            native_event_hint_free or Redactor.event_hint_free
        )

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> bytes:
        line = _dumps(event_dict)
        # A string over the limit makes a line over it: only such lines are walked for cutting.
        if len(line) > MAX_STRING_CHARS and truncate_strings(event_dict):
            line = _dumps(event_dict)
        redactor = self.redactor
        # A brace after the first byte means a nested object (or a brace inside a string): only
        # then walk the structure for secret-looking keys below the top level.
        if line.find(b"{", 1) != -1:
            line = _dumps(redactor.redact_nested(event_dict))
            inline = True
        else:
            inline = not self._event_hint_free(redactor, event_dict)
        return redactor.scrub(line, inline=inline)

    def render_text(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> str:
        """Final processor of the standard-library path (ProcessorFormatter wants text)."""
        drop_meta(event_dict)
        return self(logger, method_name, event_dict).decode()
