"""The native services: how each is obtained, launched and checked."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from elk import installer, versions
from elk.client import make_client
from elk.security import tls
from elk.security.credentials import (
    StackUser,
    credentials_for,
    stack_credentials,
    without_credentials,
)
from elk.settings import Settings
from elk.stack import alertmanager, elasticsearch, fetch, gobuild, probes
from elk.stack.launch import Launch
from elk.stack.layout import Layout
from elk.stack.progress import Reporter

ELK_DIR = Path(__file__).resolve().parents[1]
JAEGER_CONFIG = ELK_DIR / "jaeger" / "config.yaml"
COLLECTOR_CONFIG = ELK_DIR / "collector" / "config.yaml"
COLLECTOR_TLS_CONFIG = ELK_DIR / "collector" / "config-tls.yaml"
PROMETHEUS_DIR = ELK_DIR.parent / "prometheus"
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
# Jaeger keeps the collector defaults (13133 health, 8888 metrics); ours moves to
# AMF1_COLLECTOR_HEALTH_PORT / AMF1_COLLECTOR_METRICS_PORT (13134/8889).
JAEGER_HEALTH_URL = "http://127.0.0.1:13133/status"
JAEGER_QUERY_PORT = 16686
# Go's default GOGC=100 collects whenever the heap doubles; the collector allocates ~25 KiB per
# event (JSON parse, OTTL, the disk queue's encode and decode) over a live heap of a few MiB, so
# about a third of its CPU went to the GC: ~75 -> ~50 us of collector CPU per event at 400
# (30,000-event bursts into Elasticsearch, psutil on its pid). The soft limit makes the GC work
# harder before the heap nears the memory_limiter's soft limit (512 - 128 MiB in
# elk/collector/config.yaml), where the limiter would refuse data. GOGC / GOMEMLIMIT already in
# the environment win.
COLLECTOR_GO_RUNTIME = {"GOGC": "400", "GOMEMLIMIT": "256MiB"}


@dataclass(frozen=True)
class Service:
    """One service of the native stack."""

    name: str
    port: Callable[[Settings], int]
    version: str
    ensure: Callable[[Layout, Reporter], Path]
    launch: Callable[[Path, Layout, Settings], Launch]
    healthy: Callable[[Settings], bool]
    # Run by `up` once the service answers (started now or already running), before the next
    # service starts; raises on failure.
    when_healthy: Callable[[Settings, Reporter], None] | None = None


def _jaeger_launch(binary: Path, layout: Layout, _settings: Settings) -> Launch:
    argv = [str(binary), "--config", str(JAEGER_CONFIG)]
    return Launch(argv=argv, env=without_credentials(os.environ), cwd=layout.service_dir("jaeger"))


def _collector_launch(binary: Path, layout: Layout, settings: Settings) -> Launch:
    queue_dir = layout.service_dir("collector") / "queue"
    queue_dir.mkdir(parents=True, exist_ok=True)
    env = {**COLLECTOR_GO_RUNTIME, **without_credentials(os.environ)}
    # The names elk/collector/config.yaml reads (rendered by `amf1 elk render`).
    env.update(
        AMF1_ES_URL=settings.es_url,
        AMF1_LOGSTASH_HOST=settings.logstash_host,
        AMF1_LOGSTASH_PORT=str(settings.logstash_port),
        AMF1_COLLECTOR_STORAGE_DIR=str(queue_dir),
        AMF1_COLLECTOR_HEALTH_PORT=str(settings.collector_health_port),
        AMF1_COLLECTOR_METRICS_PORT=str(settings.collector_metrics_port),
    )
    # The pipeline writer's own credentials only (the stack's generated ones), through the
    # environment: the collector's config reads them from there, never from its argv.
    writer = stack_credentials(settings.es_url, StackUser.PIPELINE, settings.runtime_dir)
    if writer is not None:
        env.update(AMF1_ES_USERNAME=writer.username, AMF1_ES_PASSWORD=writer.basic_auth[1])
    ca = tls.ca_for(settings)
    if ca is not None:
        env["AMF1_ES_CA_CERT"] = str(ca)
    config = COLLECTOR_CONFIG
    if settings.collector_tls:
        # The names elk/collector/config-tls.yaml reads besides; paths only, never contents.
        env.update(
            AMF1_COLLECTOR_TLS_CERT=str(settings.collector_tls_cert),
            AMF1_COLLECTOR_TLS_KEY=str(settings.collector_tls_key),
            AMF1_COLLECTOR_TLS_CLIENT_CA=str(settings.collector_tls_client_ca),
        )
        config = COLLECTOR_TLS_CONFIG
    argv = [str(binary), "--config", str(config)]
    return Launch(argv=argv, env=env, cwd=layout.service_dir("collector"))


def _prometheus_launch(binary: Path, layout: Layout, _settings: Settings) -> Launch:
    data = layout.service_dir("prometheus") / "data"
    argv = [
        str(binary),
        f"--config.file={PROMETHEUS_DIR / 'prometheus.yml'}",
        f"--storage.tsdb.path={data}",
        "--storage.tsdb.retention.time=2d",
        f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
    ]
    return Launch(
        argv=argv, env=without_credentials(os.environ), cwd=layout.service_dir("prometheus")
    )


def _alertmanager_launch(binary: Path, layout: Layout, _settings: Settings) -> Launch:
    runtime = layout.service_dir("alertmanager")
    data = runtime / "data"
    # The shipped routes with local secrets (runtime/secrets/) and nothing sent off loopback.
    config = alertmanager.write_local_config(PROMETHEUS_DIR / "alertmanager.yml", runtime)
    argv = [
        str(binary),
        f"--config.file={config}",
        f"--storage.path={data}",
        f"--web.listen-address=127.0.0.1:{ALERTMANAGER_PORT}",
        "--cluster.listen-address=",  # one instance: no gossip port
    ]
    return Launch(
        argv=argv, env=without_credentials(os.environ), cwd=layout.service_dir("alertmanager")
    )


def _prometheus_healthy(_settings: Settings) -> bool:
    return probes.http_ok(f"http://127.0.0.1:{PROMETHEUS_PORT}/-/ready")


def _alertmanager_healthy(_settings: Settings) -> bool:
    return probes.http_ok(f"http://127.0.0.1:{ALERTMANAGER_PORT}/-/ready")


def _es_healthy(settings: Settings) -> bool:
    admin = credentials_for(settings, StackUser.ADMIN)
    scheme = "https" if tls.uses_tls(settings.es_url) else "http"
    url = f"{scheme}://{elasticsearch.HOST}:{elasticsearch.http_port(settings)}"
    ca = tls.ca_for(settings)
    return probes.elasticsearch_healthy(url, admin.basic_auth if admin else None, ca)


def _install_index_template(settings: Settings, report: Reporter) -> None:
    """Install the amf1-logs template (idempotent) before the collector can write an event.

    A daily index created before the template exists keeps dynamic mappings for the whole day.
    """
    for action in installer.install(make_client(settings, user=StackUser.ADMIN)).actions:
        report(f"elasticsearch: {action}")


def _jaeger_healthy(_settings: Settings) -> bool:
    return probes.http_ok(JAEGER_HEALTH_URL)


def _collector_healthy(settings: Settings) -> bool:
    health = f"http://127.0.0.1:{settings.collector_health_port}/"
    return probes.http_ok(health) and probes.tcp_open(
        settings.logstash_host, settings.logstash_port
    )


SERVICES: tuple[Service, ...] = (
    Service(
        name="elasticsearch",
        port=elasticsearch.http_port,
        version=versions.ELASTICSEARCH_VERSION,
        ensure=fetch.ensure_elasticsearch,
        launch=elasticsearch.launch,
        healthy=_es_healthy,
        when_healthy=_install_index_template,
    ),
    Service(
        name="jaeger",
        port=lambda _settings: JAEGER_QUERY_PORT,
        version=versions.JAEGER_VERSION,
        ensure=gobuild.ensure_jaeger,
        launch=_jaeger_launch,
        healthy=_jaeger_healthy,
    ),
    Service(
        name="collector",
        port=lambda settings: settings.logstash_port,
        version=versions.COLLECTOR_RELEASE,
        ensure=gobuild.ensure_collector,
        launch=_collector_launch,
        healthy=_collector_healthy,
    ),
    Service(
        name="alertmanager",
        port=lambda _settings: ALERTMANAGER_PORT,
        version=versions.ALERTMANAGER_VERSION,
        ensure=gobuild.ensure_alertmanager,
        launch=_alertmanager_launch,
        healthy=_alertmanager_healthy,
    ),
    Service(
        name="prometheus",
        port=lambda _settings: PROMETHEUS_PORT,
        version=versions.PROMETHEUS_VERSION,
        ensure=gobuild.ensure_prometheus,
        launch=_prometheus_launch,
        healthy=_prometheus_healthy,
    ),
)
SERVICE_NAMES: tuple[str, ...] = tuple(service.name for service in SERVICES)


def service(name: str) -> Service:
    """The service called `name`; KeyError naming the valid ones otherwise."""
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"unknown service {name!r}; one of {', '.join(SERVICE_NAMES)}")
