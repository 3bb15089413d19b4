"""OTLP for the lean spans of `tracing.tracer`: a hand-written protobuf encoder.

Why by hand: the SDK's encoder builds a generated message object per span, attribute and value,
then serializes it (~50 us a span here, in the export thread under the service's GIL). `Encoder`
writes the protobuf wire format straight from the span records (a few us a span) and precomputes
what repeats: the resource, each scope, span names, the length prefixes of span-sized messages,
the encoded attribute keys, and whole string, bool and non-negative int attributes, field tag
included (bounded caches). Field numbers and wire types are those of opentelemetry-proto 1.x
(`opentelemetry/proto/{collector/trace,trace,common,resource}/v1/*.proto`); the tests decode
every field with the generated classes and compare with the SDK's encoder.
The exporters that send the encoded requests are in `tracing.otlp_export`.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.trace import SpanContext, StatusCode
from opentelemetry.util.types import AttributeValue

from tracing.records import EMPTY_TRACE_STATE, Event, Scope, Span

logger = logging.getLogger(__name__)

# Cache bounds (memory stays bounded whatever the attributes): attribute keys (per field tag),
# span names and scopes, and string/bool and int values per key; past them, values are encoded
# every time.
_KEYS = 1024
_VALUES_PER_KEY = 32
_U64 = (1 << 64) - 1
_YIELD_EVERY = 64  # spans encoded between two releases of the GIL (a few hundred microseconds)
_2_POW_63 = 1 << 63
_BYTE = [bytes((i,)) for i in range(128)]
_PACK_IDS = struct.Struct(">BBQQBBQ").pack  # trace_id (16 bytes) and span_id (8), big-endian
_PACK_PARENT = struct.Struct(">BBQ").pack
_PACK_TIMES = struct.Struct("<BQBQ").pack  # Span fields 7 and 8 (fixed64 start, end)
_PACK_FIXED64 = struct.Struct("<BQ").pack
_PACK_FIXED32 = struct.Struct("<BI").pack
_PACK_DOUBLE = struct.Struct("<d").pack
_PACK_DOUBLE_VALUE = struct.Struct("<BBd").pack  # a length-prefixed AnyValue.double_value
_KIND = [b"\x30" + _BYTE[value + 1] for value in range(5)]  # Span.kind = API SpanKind + 1
# Span.flags: the W3C trace flags in bits 0-7; bit 8: whether the parent is remote is known;
# bit 9: it is (OTLP 1.1+). Indexed by the trace flags: the field (16, fixed32) ready to write.
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200
_LOCAL_PARENT_FLAGS = [b"\x85\x01" + struct.pack("<I", f | _HAS_IS_REMOTE) for f in range(256)]
_REMOTE_PARENT_FLAGS = [b"\x85\x01" + struct.pack("<I", f | 0x300) for f in range(256)]
_KeyCache = tuple[bytes, dict[object, bytes], dict[int, bytes]]


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _BYTE[n]
    if n < 0x4000:
        return bytes(((n & 0x7F) | 0x80, n >> 7))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# Varints of 0.._SIZES_KNOWN-1, the length prefix of nearly every span (~40 KB of small bytes).
_SIZES_KNOWN = 1024
_SIZES = [_varint(n) for n in range(_SIZES_KNOWN)]


def _string(tag: bytes, text: str) -> bytes:
    try:
        data = text.encode()
    except UnicodeEncodeError:  # lone surrogates: protobuf strings must be valid UTF-8
        data = text.encode("utf-8", "replace")
    return tag + _length_prefixed(data)


def _any_value(value: object) -> bytes:  # noqa: PLR0911 - a return per wire type
    """An `AnyValue` message; types outside OTLP's become `str(value)` (never raises)."""
    if isinstance(value, str):
        return _string(b"\x0a", value)
    if isinstance(value, bool):
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, int):
        number = int(value)  # an int subclass (IntEnum) as its number
        if -(1 << 63) <= number < (1 << 63):
            return b"\x18" + _varint(number & _U64)  # int64: two's complement, 10 bytes if < 0
    elif isinstance(value, float):
        return b"\x21" + _PACK_DOUBLE(value)
    elif isinstance(value, bytes):
        return b"\x3a" + _length_prefixed(value)
    elif isinstance(value, Sequence):  # ArrayValue of AnyValue
        return b"\x2a" + _length_prefixed(
            b"".join([b"\x0a" + _length_prefixed(_any_value(item)) for item in value])
        )
    elif isinstance(value, Mapping):  # KeyValueList of KeyValue
        return b"\x32" + _length_prefixed(b"".join([_kv(key, item) for key, item in value.items()]))
    elif value is None:  # an empty AnyValue, as the SDK writes None inside a sequence
        return b""
    return _string(b"\x0a", str(value))  # also ints beyond int64


def _kv(key: object, value: object) -> bytes:
    """A `KeyValue` as field 1 (of `KeyValueList`, `Resource`), uncached."""
    return b"\x0a" + _length_prefixed(
        _string(b"\x0a", str(key)) + b"\x12" + _length_prefixed(_any_value(value))
    )


class Encoder:
    """Serializes lean spans as one `ExportTraceServiceRequest` of one resource.

    Meant for one thread (the export worker); sharing it is harmless (caches only gain entries).
    """

    def __init__(self, resource_attributes: Mapping[str, AttributeValue]) -> None:
        # Per field tag (Span, Event, Link attributes): attribute key -> (KeyValue.key field +
        # KeyValue.value tag, {str|bool value: field}, {int value: field}), a field being the tag
        # and the length-prefixed KeyValue. Ints apart: True == 1, but their encodings differ.
        self._keys: dict[bytes, dict[str, _KeyCache]] = {b"\x4a": {}, b"\x1a": {}, b"\x22": {}}
        self._scopes: dict[Scope, bytes] = {}
        self._names: dict[str, bytes] = {}  # span name -> Span.name field
        self._status: tuple[object, bytes] = (None, b"")  # the last Status seen, encoded
        body = b"".join([_kv(key, value) for key, value in resource_attributes.items()])
        self._resource = b"\x0a" + _length_prefixed(body)  # ResourceSpans.resource

    def encode(self, spans: Sequence[Span]) -> bytes:
        """The request for `spans` (one `ScopeSpans` per scope, spans in input order); b"" for
        none. Never raises: a span that cannot be encoded is logged and left out."""
        groups: dict[Scope, list[bytes]] = {}
        scope: Scope | None = None
        group: list[bytes] = []
        for index, span in enumerate(spans):
            if index % _YIELD_EVERY == _YIELD_EVERY - 1:
                # Let the service's event loop take the GIL: encoding a full batch in one go
                # holds it for milliseconds, which every request waiting then adds to its latency.
                time.sleep(0)
            if span.scope is not scope:
                scope = span.scope
                group = groups.setdefault(scope, [])
            try:
                body = self._span(span)
            except Exception:  # a broken record must not cost the batch
                logger.warning("span %r left out of the OTLP export", span, exc_info=True)
                continue
            size = len(body)
            # ScopeSpans.spans; a span's length is nearly always a table lookup
            group += (b"\x12", _SIZES[size] if size < _SIZES_KNOWN else _varint(size), body)
        parts = [self._resource]
        for scope_key, encoded in groups.items():
            if encoded:
                scope_field = self._scope(scope_key)
                size = len(scope_field) + sum(map(len, encoded))
                parts += (b"\x12", _varint(size), scope_field, *encoded)  # .scope_spans
        if len(parts) == 1:
            return b""
        resource_spans = b"".join(parts)
        return b"\x0a" + _varint(len(resource_spans)) + resource_spans  # .resource_spans

    def _span(self, span: Span) -> bytes:
        # SpanContext is a tuple; unpacking it skips six property calls (a test pins the order).
        trace_id, span_id, _, trace_flags, trace_state, _ = span.context
        parts = [_PACK_IDS(0x0A, 16, trace_id >> 64, trace_id & _U64, 0x12, 8, span_id)]
        # The tracer's shared empty state first: TraceState's truth test is a Python __len__.
        if trace_state is not EMPTY_TRACE_STATE and trace_state:
            parts.append(_string(b"\x1a", trace_state.to_header()))
        flags = _LOCAL_PARENT_FLAGS
        parent = span.parent
        if parent is not None:
            parts.append(_PACK_PARENT(0x22, 8, parent[1]))  # span_id
            if parent[2]:  # is_remote
                flags = _REMOTE_PARENT_FLAGS
        name_field = self._names.get(span.name)
        if name_field is None:
            name_field = _string(b"\x2a", span.name)
            if len(self._names) < _KEYS:
                self._names[span.name] = name_field
        parts += (
            name_field,
            _KIND[span.kind._value_],
            _PACK_TIMES(0x39, span.start_time, 0x41, span.end_time),
        )
        self._add_attributes(parts, span.attributes, b"\x4a")
        if span.events:
            self._add_events(parts, span.events)
        for link in span.links:
            data = self._link(link.context, link.attributes)
            parts += (b"\x6a", _varint(len(data)), data)
        status, status_field = self._status
        if span.status is not status:
            status_field = _status(span.status.status_code, span.status.description)
            self._status = (span.status, status_field)
        parts += (status_field, flags[trace_flags])
        return b"".join(parts)

    def _add_events(self, out: list[bytes], events: Sequence[Event]) -> None:
        for event in events:
            body = [_PACK_FIXED64(0x09, event.timestamp), _string(b"\x12", event.name)]
            self._add_attributes(body, event.attributes, b"\x1a")
            data = b"".join(body)
            out += (b"\x5a", _varint(len(data)), data)  # Span.events

    def _link(self, context: SpanContext, attributes: Mapping[str, Any] | None) -> bytes:
        trace_id, span_id, remote, trace_flags, trace_state, _ = context
        parts = [_PACK_IDS(0x0A, 16, trace_id >> 64, trace_id & _U64, 0x12, 8, span_id)]
        if trace_state:
            parts.append(_string(b"\x1a", trace_state.to_header()))
        if attributes:
            self._add_attributes(parts, attributes, b"\x22")
        flags = trace_flags | _HAS_IS_REMOTE | (_IS_REMOTE if remote else 0)
        parts.append(_PACK_FIXED32(0x35, flags))  # Link.flags (field 6, fixed32)
        return b"".join(parts)

    def _add_attributes(self, out: list[bytes], attributes: Mapping[str, Any], tag: bytes) -> None:
        """Append each attribute to `out` as field `tag`: a length-prefixed `KeyValue`."""
        keys = self._keys[tag]
        for key, value in attributes.items():
            prefix, known, known_ints = keys.get(key) or self._key(keys, key)
            cls = value.__class__
            if cls is str or cls is bool:  # mostly a few values per key: keep each field
                field = known.get(value)
                if field is None:
                    field = tag + _length_prefixed(prefix + _length_prefixed(_any_value(value)))
                    if len(known) < _VALUES_PER_KEY:
                        known[value] = field
            elif cls is int and 0 <= value < _2_POW_63:  # status codes, counts: few per key
                field = known_ints.get(value)
                if field is None:
                    number = _varint(value)
                    field = tag + _length_prefixed(
                        prefix + _BYTE[len(number) + 1] + b"\x18" + number
                    )
                    if len(known_ints) < _VALUES_PER_KEY:
                        known_ints[value] = field
            elif cls is float:
                field = tag + _length_prefixed(prefix + _PACK_DOUBLE_VALUE(9, 0x21, value))
            else:
                field = tag + _length_prefixed(prefix + _length_prefixed(_any_value(value)))
            out.append(field)

    @staticmethod
    def _key(keys: dict[str, _KeyCache], key: str) -> _KeyCache:
        entry: _KeyCache = (_string(b"\x0a", str(key)) + b"\x12", {}, {})
        if len(keys) < _KEYS:
            keys[key] = entry
        return entry

    def _scope(self, scope: Scope) -> bytes:
        """`ScopeSpans.scope`: an `InstrumentationScope` with name and version."""
        field = self._scopes.get(scope)
        if field is None:
            body = _string(b"\x0a", scope.name)
            if scope.version:
                body += _string(b"\x12", scope.version)
            field = b"\x0a" + _varint(len(body)) + body
            if len(self._scopes) < _KEYS:
                self._scopes[scope] = field
        return field


def _length_prefixed(data: bytes) -> bytes:
    size = len(data)
    return (_BYTE[size] if size < 0x80 else _varint(size)) + data


_STATUS = [b"\x7a\x00", b"\x7a\x02\x18\x01", b"\x7a\x02\x18\x02"]  # UNSET, OK, ERROR; no message


def _status(code: StatusCode, description: str | None) -> bytes:
    if not description:
        return _STATUS[code._value_]
    body = _string(b"\x12", description) + _STATUS[code._value_][2:]
    return b"\x7a" + _varint(len(body)) + body
