"""Health probes: one bounded HTTP GET or TCP connect each, never raising."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

_PROBE_TIMEOUT_S = 2.0


def http_get_json(url: str, timeout_s: float = _PROBE_TIMEOUT_S) -> Any | None:
    """The decoded JSON body of a 2xx answer from `url`, or None on any failure."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - our URLs
            return json.loads(response.read() or b"null")
    except (OSError, ValueError):
        return None


def http_ok(url: str, timeout_s: float = _PROBE_TIMEOUT_S) -> bool:
    """True when `url` answers 2xx within the timeout."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - our URLs
            status: int = response.status
            return 200 <= status < 300
    except (OSError, ValueError):
        return False


def tcp_open(host: str, port: int, timeout_s: float = _PROBE_TIMEOUT_S) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def elasticsearch_healthy(base_url: str) -> bool:
    """Cluster health is yellow or green (a single node never gets green with replicas)."""
    health = http_get_json(f"{base_url.rstrip('/')}/_cluster/health")
    return isinstance(health, dict) and health.get("status") in {"yellow", "green"}
