"""Health probes: one bounded HTTP GET or TCP connect each, never raising."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

_PROBE_TIMEOUT_S = 2.0


def _request(url: str, auth: tuple[str, str] | None) -> urllib.request.Request:
    request = urllib.request.Request(url)  # noqa: S310 - our URLs
    if auth is not None:
        token = base64.b64encode(":".join(auth).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    return request


def _context(ca: Path | None) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=str(ca)) if ca is not None else None


def http_get_json(
    url: str,
    timeout_s: float = _PROBE_TIMEOUT_S,
    auth: tuple[str, str] | None = None,
    ca: Path | None = None,
) -> Any | None:
    """The decoded JSON body of a 2xx answer from `url` (basic `auth`, trusting `ca`), else None."""
    request = _request(url, auth)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=_context(ca)) as response:  # noqa: S310
            return json.loads(response.read() or b"null")
    except (OSError, ValueError):
        return None


def http_status(
    url: str, timeout_s: float = _PROBE_TIMEOUT_S, ca: Path | None = None
) -> int | None:
    """The HTTP status `url` answers an anonymous GET with, or None when it does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s, context=_context(ca)) as response:  # noqa: S310
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
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


def elasticsearch_healthy(
    base_url: str, auth: tuple[str, str] | None = None, ca: Path | None = None
) -> bool:
    """Cluster health is yellow or green (a single node never gets green with replicas).

    Without `auth`, a secured cluster's 401 counts as healthy: it answers, and only a user may
    ask it more. `ca` is the CA certificate an https cluster is verified with.
    """
    url = f"{base_url.rstrip('/')}/_cluster/health"
    if auth is None and http_status(url, ca=ca) == 401:
        return True
    health = http_get_json(url, auth=auth, ca=ca)
    return isinstance(health, dict) and health.get("status") in {"yellow", "green"}
