"""The real stack as pytest sees it: endpoints, reachability, and start/stop of its services.

Used by tests/conftest.py. Integration tests skip with a reason when the stack is unreachable,
and fail instead when CI=true or AMF1_REQUIRE_STACK=1 (a skip there would hide a broken stack).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from elk.security.credentials import StackUser, credentials_for
from elk.security.tls import ca_for
from elk.settings import Settings
from elk.stack import probes
from elk.stack.control import StackControl
from elk.stack.services import SERVICE_NAMES


@dataclass(frozen=True)
class StackEndpoints:
    """Where the running stack's services listen."""

    es_url: str
    jaeger_query_url: str
    otlp_grpc_endpoint: str
    otlp_http_endpoint: str
    log_tcp_host: str
    log_tcp_port: int
    es_admin_auth: tuple[str, str] | None = field(default=None, repr=False)
    es_ca_cert: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> StackEndpoints:
        otlp = urlsplit(settings.otlp_endpoint)
        admin = credentials_for(settings, StackUser.ADMIN)
        return cls(
            es_url=settings.es_url,
            es_admin_auth=admin.basic_auth if admin else None,
            es_ca_cert=ca_for(settings),
            jaeger_query_url=settings.jaeger_query_url.rstrip("/"),
            otlp_grpc_endpoint=settings.otlp_endpoint,
            # OTLP/HTTP sits beside OTLP/gRPC on the next port (4317 -> 4318), as Jaeger serves it.
            otlp_http_endpoint=f"{otlp.scheme}://{otlp.hostname}:{(otlp.port or 4317) + 1}",
            log_tcp_host=settings.logstash_host,
            log_tcp_port=settings.logstash_port,
        )

    def unreachable(self) -> list[str]:
        """Names of the services that do not answer right now."""
        missing = []
        if not probes.elasticsearch_healthy(self.es_url, self.es_admin_auth, self.es_ca_cert):
            missing.append(f"elasticsearch ({self.es_url})")
        if probes.http_get_json(f"{self.jaeger_query_url}/api/v3/services") is None:
            missing.append(f"jaeger ({self.jaeger_query_url})")
        if not probes.tcp_open(self.log_tcp_host, self.log_tcp_port):
            missing.append(f"collector ({self.log_tcp_host}:{self.log_tcp_port})")
        return missing


def stack_required() -> bool:
    """True when a missing stack must fail the run instead of skipping."""
    return os.environ.get("CI") == "true" or os.environ.get("AMF1_REQUIRE_STACK") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip the test with `reason`, or fail it when the stack is required."""
    if stack_required():
        pytest.fail(f"{reason} (required: CI=true or AMF1_REQUIRE_STACK=1)", pytrace=False)
    pytest.skip(reason)


@dataclass
class ServiceSwitch:
    """`stack_control`: stop/start native services, restoring any left stopped at teardown."""

    control: StackControl
    stopped: set[str] = field(default_factory=set)

    def stop(self, name: str) -> None:
        """Stop `name` (one of elasticsearch, jaeger, collector) and wait until it is gone."""
        self._check(name)
        self.stopped.add(name)
        self.control.stop(name)

    def start(self, name: str) -> None:
        """Start `name` again and wait until it is healthy."""
        self._check(name)
        self.control.start(name)
        self.stopped.discard(name)

    def restore(self) -> None:
        """Start every service this test stopped and did not start again."""
        for name in sorted(self.stopped):
            self.control.start(name)
        self.stopped.clear()

    def _check(self, name: str) -> None:
        if name not in SERVICE_NAMES:
            raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICE_NAMES)}")
        managed = {row.name for row in self.control.status() if row.pid is not None}
        if name not in managed and name not in self.stopped:
            skip_or_fail(f"{name} was not started by `amf1 stack up`, so a test cannot stop it")
