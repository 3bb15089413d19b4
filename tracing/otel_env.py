"""OpenTelemetry's standard environment variables (`OTEL_*`), read as its specification says.

`values(environ, given)` translates them into `tracing.Settings` field values for every field
that neither an explicit argument nor an `AMF1_*` variable set (`given`): an explicit argument
beats `AMF1_*`, which beats `OTEL_*`, which beats the default. A signal-specific variable
(`OTEL_EXPORTER_OTLP_TRACES_*`) beats the general one, as the specification says. A value that
cannot be parsed is logged once (a warning) and ignored, as the specification asks.

Specification: opentelemetry-specification, "Environment Variable Specification" and
"OTLP Exporter Configuration".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from logshipping.events import Action, emit

_warned: set[str] = set()


def _warn(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        emit(Action.LOG, message, {}, level="warning")


def _first(environ: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return name, value
    return None


def _milliseconds(environ: Mapping[str, str], *names: str) -> float | None:
    found = _first(environ, *names)
    if found is None:
        return None
    name, value = found
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number <= 0:
        _warn(f"{name}={value!r} is not a positive number of milliseconds; ignored")
        return None
    return number


def _positive_int(environ: Mapping[str, str], name: str) -> int | None:
    found = _first(environ, name)
    if found is None:
        return None
    try:
        number = int(found[1])
    except ValueError:
        number = 0
    if number <= 0:
        _warn(f"{name}={found[1]!r} is not a positive integer; ignored")
        return None
    return number


def parse_headers(text: str) -> dict[str, str]:
    """`OTEL_EXPORTER_OTLP_HEADERS` format: `key1=value1,key2=value2`, values URL-encoded.
    Entries without `=` or a key are skipped (logged once)."""
    headers: dict[str, str] = {}
    for entry in text.split(","):
        key, sep, value = entry.partition("=")
        if not sep or not key.strip():
            if entry.strip():
                _warn("an OTLP header entry is not key=value; skipped")
            continue
        headers[unquote(key.strip()).lower()] = unquote(value.strip())
    return headers


def protocol(environ: Mapping[str, str]) -> str | None:
    """`http` or `grpc` from `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`; None when unset.

    Raises ValueError for `http/json` and unknown values (no exporter of ours speaks them).
    """
    found = _first(environ, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
    if found is None:
        return None
    name, value = found
    if value == "http/protobuf":
        return "http"
    if value == "grpc":
        return "grpc"
    raise ValueError(f"{name}={value!r}: the exporters speak `http/protobuf` and `grpc` only")


def _sampler(environ: Mapping[str, str]) -> dict[str, Any]:
    found = _first(environ, "OTEL_TRACES_SAMPLER")
    if found is None:
        return {}
    sampler = found[1].lower()
    ratio = 1.0
    argument = _first(environ, "OTEL_TRACES_SAMPLER_ARG")
    if argument is not None and sampler.endswith("traceidratio"):
        try:
            ratio = float(argument[1])
        except ValueError:
            ratio = -1.0
        if not 0.0 <= ratio <= 1.0:
            _warn(f"OTEL_TRACES_SAMPLER_ARG={argument[1]!r} is not a ratio in 0..1; 1.0 used")
            ratio = 1.0
    never: dict[str, Any] = {"tracing_sampler_ratio": 0.0, "tracing_keep_failed": False}
    never["tracing_slow_threshold_s"] = None
    table: dict[str, dict[str, Any]] = {
        "always_on": {"tracing_sampler_ratio": 1.0, "tracing_parent_based": False},
        "always_off": {**never, "tracing_parent_based": False},
        "traceidratio": {"tracing_sampler_ratio": ratio, "tracing_parent_based": False},
        "parentbased_always_on": {"tracing_sampler_ratio": 1.0, "tracing_parent_based": True},
        "parentbased_always_off": {**never, "tracing_parent_based": True},
        "parentbased_traceidratio": {"tracing_sampler_ratio": ratio, "tracing_parent_based": True},
    }
    if sampler not in table:
        _warn(f"OTEL_TRACES_SAMPLER={found[1]!r} is not supported; the AMF1 sampling applies")
        return {}
    return table[sampler]


def _endpoints(environ: Mapping[str, str], chosen_protocol: str) -> dict[str, Any]:
    specific = _first(environ, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    general = _first(environ, "OTEL_EXPORTER_OTLP_ENDPOINT")
    if chosen_protocol == "grpc":
        found = specific or general
        return {"otlp_endpoint": found[1]} if found else {}
    if specific is not None:  # used as is, per the specification
        return {"otlp_traces_url": specific[1]}
    if general is not None:  # `/v1/traces` is appended
        return {"otlp_http_endpoint": general[1]}
    return {}


def _service_name(environ: Mapping[str, str]) -> str | None:
    found = _first(environ, "OTEL_SERVICE_NAME")
    if found is not None:
        return found[1]
    attributes = _first(environ, "OTEL_RESOURCE_ATTRIBUTES")
    for entry in (attributes[1] if attributes else "").split(","):
        key, _, value = entry.partition("=")
        if key.strip() == "service.name" and value.strip():
            return unquote(value.strip())
    return None


def values(environ: Mapping[str, str], given: Mapping[str, Any]) -> dict[str, Any]:
    """`tracing.Settings` field values from the `OTEL_*` variables in `environ`, for the fields
    not in `given` (the values set by an argument or an `AMF1_*` variable).

    Raises ValueError for an OTLP protocol the exporters do not speak.
    """
    found: dict[str, Any] = {}
    disabled = _first(environ, "OTEL_SDK_DISABLED")
    if disabled is not None and disabled[1].lower() == "true":
        found["tracing_enabled"] = False
    found.update(_sampler(environ))
    exporter = _first(environ, "OTEL_TRACES_EXPORTER")
    if exporter is not None and exporter[1].lower() == "none":  # ids and logs, no export
        found.update(tracing_sampler_ratio=0.0, tracing_keep_failed=False)
        found["tracing_slow_threshold_s"] = None
    elif exporter is not None and exporter[1].lower() != "otlp":
        _warn(f"OTEL_TRACES_EXPORTER={exporter[1]!r} is not supported; OTLP is used")
    chosen = protocol(environ)
    if chosen is not None:
        found["otlp_protocol"] = chosen
    effective = given.get("otlp_protocol") or found.get("otlp_protocol") or "http"
    found.update(_endpoints(environ, str(effective)))
    headers = _first(environ, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")
    if headers is not None:
        found["otlp_headers"] = headers[1]
    timeout_ms = _milliseconds(
        environ, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"
    ) or _milliseconds(environ, "OTEL_BSP_EXPORT_TIMEOUT")
    if timeout_ms is not None:
        found["tracing_export_timeout_s"] = timeout_ms / 1000
    delay_ms = _milliseconds(environ, "OTEL_BSP_SCHEDULE_DELAY")
    if delay_ms is not None:
        found["tracing_schedule_delay_ms"] = max(1, round(delay_ms))
    for field, name in (
        ("tracing_queue_size", "OTEL_BSP_MAX_QUEUE_SIZE"),
        ("tracing_batch_size", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
    ):
        number = _positive_int(environ, name)
        if number is not None:
            found[field] = number
    service_name = _service_name(environ)
    if service_name is not None:
        found["service_name"] = service_name
    return {key: value for key, value in found.items() if key not in given}
