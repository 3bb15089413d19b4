"""Every pinned version of the native stack, in one place.

The cache is keyed by these values, so changing one here makes `amf1 stack up` fetch or build
the new version beside the old one. The Go side is pinned further by the committed manifests:
`elk/go/jaeger/go.mod` + `go.sum` (Jaeger), `elk/go/prometheus` and `elk/go/alertmanager`
(Prometheus + promtool, Alertmanager + amtool), `elk/go/builder/go.mod` + `go.sum` (the collector
builder), `elk/collector/builder-config.yaml` + `elk/collector/go.sum` (the collector itself),
`elk/go/compose` (the compose CLI that validates docker-compose.elk.yml).
A unit test checks that those files agree with the constants here.
"""

from __future__ import annotations

from typing import Final

# Elasticsearch's own distribution on Maven Central. 9.x is not published under this coordinate
# (the newest there is 8.19.21), so the native stack runs 8.19: it takes Java 17 or 21+.
ELASTICSEARCH_VERSION: Final = "8.19.21"
ELASTICSEARCH_GROUP: Final = "org.elasticsearch.distribution.integ-test-zip"
ELASTICSEARCH_ARTIFACT: Final = "elasticsearch"
# Pinned here as well as fetched from Maven beside the zip: a tampered mirror must not pass.
ELASTICSEARCH_SHA512: Final = (
    "cf6b0a93860d329937ae7f913ec5073b0c726c77639764b93fc83a304aa1dd9d"
    "4defcfa2849948eea3b0b47c2065f994908603939fc2a4774c9c4d868c5ec1dd"
)
ELASTICSEARCH_MIN_JAVA: Final = 17
MAVEN_REPOSITORY_URL: Final = "https://repo1.maven.org/maven2"

# Jaeger v2, built from its Go module through our tools module elk/go/jaeger (`go get -tool`).
JAEGER_MODULE: Final = "github.com/jaegertracing/jaeger"
JAEGER_PACKAGE: Final = "github.com/jaegertracing/jaeger/cmd/jaeger"
JAEGER_VERSION: Final = "v1.76.0"

# Prometheus and Alertmanager, built from their Go modules through our tools modules
# elk/go/prometheus and elk/go/alertmanager. Prometheus 3.x publishes its Go module as v0.3xx.y.
PROMETHEUS_MODULE: Final = "github.com/prometheus/prometheus"
PROMETHEUS_VERSION: Final = "v0.316.0"
ALERTMANAGER_MODULE: Final = "github.com/prometheus/alertmanager"
ALERTMANAGER_VERSION: Final = "v0.35.0"

# OpenTelemetry Collector: one release for every collector module (core, contrib, builder).
COLLECTOR_RELEASE: Final = "v0.156.0"
COLLECTOR_STABLE_RELEASE: Final = "v1.62.0"
COLLECTOR_BUILDER_PACKAGE: Final = "go.opentelemetry.io/collector/cmd/builder"
COLLECTOR_BINARY: Final = "otelcol-amf1"

# The compose CLI (`docker compose` as a standalone binary), built from its Go module through our
# tools module elk/go/compose: `config` validates docker-compose.elk.yml without a Docker engine.
COMPOSE_MODULE: Final = "github.com/docker/compose/v5"
COMPOSE_PACKAGE: Final = "github.com/docker/compose/v5/cmd"
COMPOSE_VERSION: Final = "v5.6.0"

# The Go toolchain the builds were verified with (the go.mod files say `go 1.26`).
GO_MIN_VERSION: Final = (1, 26)
