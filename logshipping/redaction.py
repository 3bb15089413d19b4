"""Redaction of secrets: by key name (anywhere, nested), by known secret value (anywhere) and by
the shape of a credential written into free text (`password=...`, `Bearer ...`, a URL's
`user:password@`).

Speed matters because this runs for every event on the request thread, so the common case costs
one C-level set comparison (all keys already known to be harmless), one substring search per
known secret over the rendered bytes, and a look-up per string of the event in the texts already
found free of keywords (`event_hint_free`; the ids and timestamps new on every event, by their
alphabet). Nested objects, new keys and text that holds a keyword or a control character take
the slow, thorough path: keyword searches and patterns over the rendered bytes.

The same `Redactor` cleans spans before export (`tracing.redaction`): `redact_text` on strings.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
import weakref
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, AnyStr, Final

import orjson
from structlog.typing import EventDict, WrappedLogger

try:  # `Redactor.event_hint_free` in C, built by `uv sync` (hatch_build.py) where a compiler is
    from logshipping import _hotpath  # type: ignore[attr-defined]
except ImportError:  # not built: the pure-Python method does the same
    _hotpath = None

REDACTED: Final = "[REDACTED]"
_REDACTED_BYTES: Final = REDACTED.encode()
# Key names whose values are secret, matched case-insensitively anywhere in the key.
SECRET_KEY: Final = re.compile(
    r"authori[sz]ation|passw(or)?d|token|api[_-]?key|secret|webhook|cookie|credential",
    re.IGNORECASE,
)
# Shorter values would redact ordinary words everywhere; a secret that short protects nothing.
MIN_SECRET_LENGTH: Final = 4
# Bounds the cache of harmless key names (keys are a small fixed vocabulary in practice).
_MAX_SAFE_KEYS: Final = 10_000
# Bounds the caches of strings found clean (span attribute values) and free of keywords (log
# events' strings): values repeat (methods, routes, models, drivers); longer strings are checked
# every time. At most ~1 MB each.
_MAX_CLEAN_TEXTS: Final = 4096
_MAX_CLEAN_TEXT_LENGTH: Final = 256
# Values whose JSON form holds no text: nothing in them can spell a credential.
_NOT_TEXT: Final = frozenset({int, float, bool, type(None)})
# The alphabet of the ids and timestamps the product writes on every event (UUIDs, hex trace and
# span ids, ISO 8601 times): none of `_has_hint`'s keywords can be spelt with it, in any case,
# nor a control character. Deleting these bytes from such a text leaves nothing: one C call
# instead of the keyword searches, and these texts, new on every event, stay out of the cache.
_MACHINE_BYTES: Final = b"0123456789abcdefABCDEF-:.TZ"
# A credential written into free text; the `keep*` group stays, the rest becomes `[REDACTED]`:
# `name=value` or `name:value` (no space after the colon: "AMF1_X_TOKEN: field required" is a
# message, not a token), an `Authorization` header's value, a `Bearer` token, and the password of
# a URL's user-info.
_INLINE_SOURCE: Final = (
    r"(?P<keep>[\w.-]*(?:passw(?:or)?d|pwd|secret|token|api[_-]?key)[\"']?(?:\s*=\s*|:)[\"']?)"
    r"[^\s\"'&,;]+"
    r"|(?P<keep_auth>authori[sz]ation[\"']?\s*[:=]\s*[\"']?(?:(?:basic|bearer|token)\s+)?)"
    r"[^\s\"'&,;]+"
    r"|(?P<keep_scheme>\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"
    r"|(?P<keep_user>://[^/\s:@\"']+:)[^/\s@\"']+(?=@)"
)
INLINE_SECRET: Final = re.compile(_INLINE_SOURCE, re.IGNORECASE)
_INLINE_SECRET_BYTES: Final = re.compile(_INLINE_SOURCE.encode(), re.IGNORECASE)


def _has_hint(lowered: AnyStr) -> bool:
    """Whether lower-cased text holds a word without which `INLINE_SECRET` cannot match: the
    cheap test before the regex (unrolled: a loop over the words costs more than the searches)."""
    if isinstance(lowered, str):
        return (
            "pass" in lowered
            or "pwd" in lowered
            or "secret" in lowered
            or "token" in lowered
            or "api" in lowered
            or "auth" in lowered
            or "bearer" in lowered
            or "://" in lowered
        )
    return (
        b"pass" in lowered
        or b"pwd" in lowered
        or b"secret" in lowered
        or b"token" in lowered
        or b"api" in lowered
        or b"auth" in lowered
        or b"bearer" in lowered
        or b"://" in lowered
    )


def _kept(match: re.Match[AnyStr]) -> AnyStr:
    return match["keep"] or match["keep_auth"] or match["keep_scheme"] or match["keep_user"]


def _keep_str(match: re.Match[str]) -> str:
    return _kept(match) + REDACTED


def _keep_bytes(match: re.Match[bytes]) -> bytes:
    return _kept(match) + _REDACTED_BYTES


def _variants(secret: str) -> set[bytes]:
    """The byte forms a secret can take in a rendered line: raw, JSON-escaped, URL-quoted."""
    return {
        secret.encode(),
        orjson.dumps(secret)[1:-1],
        urllib.parse.quote(secret, safe="").encode(),
        urllib.parse.quote_plus(secret, safe="/:").encode(),
    }


class Redactor:
    """Replaces secret values by `[REDACTED]`; thread-safe for concurrent use after set-up."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._safe_keys: set[str] = set()
        self._clean_texts: set[str] = set()
        self._hint_free_texts: set[str] = set()
        # (needles, pattern) replaced as one tuple: a logging thread never sees them mismatched.
        self._secrets: tuple[tuple[bytes, ...], re.Pattern[bytes]] = ((), re.compile(b"(?!)"))
        # The same values as text, for strings that are not rendered (span attributes).
        self._text_secrets: tuple[tuple[str, ...], re.Pattern[str]] = ((), re.compile("(?!)"))
        self.add_secrets(secrets)

    @property
    def has_secrets(self) -> bool:
        """Whether any secret value is registered."""
        return bool(self._secrets[0])

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Registers more secret values (e.g. read from settings at start-up)."""
        needles = set(self._secrets[0])
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                needles |= {v for v in _variants(secret) if len(v) >= MIN_SECRET_LENGTH}
        # Longest first so that a secret containing another is replaced whole.
        ordered = tuple(sorted(needles, key=len, reverse=True))
        if ordered:
            self._secrets = (ordered, re.compile(b"|".join(re.escape(n) for n in ordered)))
            texts = tuple(n.decode(errors="replace") for n in ordered)
            self._text_secrets = (texts, re.compile("|".join(re.escape(t) for t in texts)))
            self._clean_texts = set()  # found clean of the secrets known then

    def is_secret_key(self, key: object) -> bool:
        """Whether values under `key` are secret (harmless answers are cached)."""
        if key in self._safe_keys:
            return False
        if isinstance(key, str) and SECRET_KEY.search(key):
            return True
        if isinstance(key, str) and len(self._safe_keys) < _MAX_SAFE_KEYS:
            self._safe_keys.add(key)
        return False

    def has_secret_key(self, keys: Iterable[object]) -> bool:
        """Whether any of `keys` is secret-looking (one set comparison when all are known)."""
        if self._safe_keys.issuperset(keys):
            return False
        return any(self.is_secret_key(key) for key in keys)

    def redact_keys(
        self, logger: WrappedLogger, method_name: str, event_dict: EventDict
    ) -> EventDict:
        """Processor: redacts top-level values under secret-looking keys."""
        if self._safe_keys.issuperset(event_dict):
            return event_dict
        for key in list(event_dict):
            if self.is_secret_key(key):
                event_dict[key] = REDACTED
        return event_dict

    def redact_nested(self, value: Any) -> Any:
        """A copy of `value` with every value under a secret-looking key, at any depth, redacted."""
        if isinstance(value, dict):
            return {
                k: REDACTED if self.is_secret_key(k) else self.redact_nested(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self.redact_nested(v) for v in value]
        return value

    def scrub(self, line: bytes, *, inline: bool = True) -> bytes:
        """Replaces every known secret value and inline credential in a rendered line.

        `inline=False` skips the search for inline credentials: for a line rendered from a flat
        event whose keys and strings the caller found `hint_free` (`JsonRenderer`).
        """
        needles, pattern = self._secrets
        for needle in needles:
            if needle in line:
                line = pattern.sub(_REDACTED_BYTES, line)
                break
        if inline and _has_hint(line.lower()):
            return _INLINE_SECRET_BYTES.sub(_keep_bytes, line)
        return line

    def hint_free(self, text: str) -> bool:
        """Whether `text`, rendered as a JSON string, cannot hold nor help spell an inline
        credential: printable (a control character's JSON escape could complete a keyword:
        tab + `oken=` renders as `\\token=`) and without any of `INLINE_SECRET`'s keywords.

        The rendered line's own keyword search costs ~1 ns a byte for each of eight keywords
        (8 us for an access event); an event's strings mostly repeat (field names, messages,
        models, drivers), so texts found free are remembered, and forgotten all at once when
        `_MAX_CLEAN_TEXTS` are.
        """
        known = self._hint_free_texts
        if text in known:
            return True
        if not text.isprintable() or _has_hint(text.lower()):
            return False
        if len(text) <= _MAX_CLEAN_TEXT_LENGTH:
            if len(known) >= _MAX_CLEAN_TEXTS:
                known.clear()
            known.add(text)
        return True

    def event_hint_free(self, event: Mapping[Any, Any]) -> bool:
        """Whether the flat `event`'s rendered line cannot hold an inline credential: every key
        and string value `hint_free` or machine-made (`_MACHINE_BYTES`), every other value a
        number, bool or null.

        The renderer calls `native_event_hint_free(redactor, event)` instead where it was built
        (`logshipping/_hotpath.c`: the same answer, a quarter of the instructions).
        """
        known = self._hint_free_texts
        if not known.issuperset(event) and not all(
            type(key) is str and self.hint_free(key) for key in event
        ):
            return False
        for value in event.values():
            kind = type(value)
            if kind is str:
                if (
                    value not in known
                    and not (value.isascii() and not value.encode().translate(None, _MACHINE_BYTES))
                    and not self.hint_free(value)
                ):
                    return False
            elif kind not in _NOT_TEXT:
                return False
        return True

    def may_hold_secret(self, text: str) -> bool:
        """Cheap test: False means `redact_text(text)` would return `text` unchanged."""
        for needle in self._text_secrets[0]:
            if needle in text:
                return True
        return _has_hint(text.lower())

    def any_may_hold_secret(self, texts: Collection[str]) -> bool:
        """`may_hold_secret` of each text; texts found clean are remembered (bounded), so
        strings seen before cost one set look-up."""
        clean = self._clean_texts
        if clean.issuperset(texts):
            return False
        for text in texts:
            if text in clean:
                continue
            if self.may_hold_secret(text):
                return True
            if len(text) <= _MAX_CLEAN_TEXT_LENGTH and len(clean) < _MAX_CLEAN_TEXTS:
                clean.add(text)
        return False

    def redact_text(self, text: str) -> str:
        """`text` with every known secret value and inline credential replaced."""
        needles, pattern = self._text_secrets
        if needles:
            text = pattern.sub(REDACTED, text)
        return INLINE_SECRET.sub(_keep_str, text)


native_event_hint_free: Callable[[Redactor, Mapping[Any, Any]], bool] | None = (
    _hotpath.event_hint_free if _hotpath is not None else None
)
"""`Redactor.event_hint_free` in C (`logshipping/_hotpath.c`), or None where it was not built."""


class SecretRegistry:
    """The secret values this process knows; every following `Redactor` learns each new one.

    Settings models register the values of their `SecretStr` fields when built
    (`logshipping.settings_base`), so a new secret field is redacted without a list to update.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._followers: weakref.WeakSet[Redactor] = weakref.WeakSet()

    def register(self, secrets: Iterable[str]) -> None:
        """Remember `secrets` and teach them to every following redactor."""
        with self._lock:
            new = set(secrets) - self._values
            if not new:
                return
            self._values |= new
            for redactor in self._followers:
                redactor.add_secrets(new)

    def follow(self, redactor: Redactor) -> None:
        """`redactor` learns every secret registered so far and every later one."""
        with self._lock:
            self._followers.add(redactor)
            redactor.add_secrets(self._values)

    def clear(self) -> None:
        """Forget every value (tests: the registry is process-global)."""
        with self._lock:
            self._values.clear()


SECRETS: Final = SecretRegistry()


def register_secrets(secrets: Iterable[str]) -> None:
    """Registers secret values with the process's registry (see `SecretRegistry`)."""
    SECRETS.register(secrets)
