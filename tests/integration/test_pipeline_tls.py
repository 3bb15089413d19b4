"""The shipper's link to the pipeline with mutual TLS, against a private collector started with
elk/collector/config-tls.yaml and a CA generated here.

Events shipped by the service's own shipper with a client certificate of that CA are indexed
(found by `event.id`); a client without a certificate, with one from another CA, or speaking
plain TCP is refused, knows it (the batch is not counted as delivered) and none of its lines is
indexed.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from elasticsearch import Elasticsearch

import logshipping
from elk import installer, rendered
from logshipping import Action, Settings
from logshipping.shipping.transport import BatchTcpTransport, TlsOptions
from tests.integration.collector_process import PrivateCollector, private_collector
from tests.integration.pipeline_support import count_when_answering, event_line, wait_for_hits
from tests.stack_fixtures import StackEndpoints
from tests.tls_pki import Authority, CertFiles

pytestmark = pytest.mark.integration

EVENTS = 5


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The pipeline's CA (server and shipper certificates) and a stranger's CA."""
    directory = tmp_path_factory.mktemp("pki")
    ours = Authority.create(directory, "amf1")
    stranger = Authority.create(directory, "stranger")
    return {
        "ca": ours.cert_file,
        "server": ours.server(),
        "shipper": ours.client("amf1-service"),
        "stranger": stranger.client("amf1-service"),
    }


@pytest.fixture(scope="module")
def collector(
    stack: StackEndpoints,
    es: Elasticsearch,
    pki: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PrivateCollector]:
    """A private collector listening with mutual TLS on a free loopback port."""
    installer.install(es)
    server: CertFiles = pki["server"]
    env = {
        "AMF1_COLLECTOR_TLS_CERT": str(server.cert),
        "AMF1_COLLECTOR_TLS_KEY": str(server.key),
        "AMF1_COLLECTOR_TLS_CLIENT_CA": str(pki["ca"]),
    }
    work_dir = tmp_path_factory.mktemp("collector-tls")
    with private_collector(rendered.COLLECTOR_TLS_CONFIG, stack.es_url, work_dir, env) as running:
        yield running


def _ids(lines: bytes) -> list[str]:
    return [orjson.loads(line)["event.id"] for line in lines.splitlines() if line.strip()]


def _by_ids(ids: list[str]) -> dict[str, Any]:
    return {"terms": {"event.id": ids}}


def test_the_shipper_with_a_client_certificate_is_indexed(
    collector: PrivateCollector, pki: dict[str, Any], es: Elasticsearch, tmp_path: Path
) -> None:
    """Events of the service's shipper over mutual TLS land in Elasticsearch under their
    event.id, and the shipper reports them all delivered."""
    shipper: CertFiles = pki["shipper"]
    run_id = uuid.uuid4().hex
    stdout = tmp_path / "stdout.jsonl"
    with stdout.open("wb") as stream:
        logshipping.configure(
            Settings(
                logstash_host=collector.host,
                logstash_port=collector.port,
                log_buffer_dir=tmp_path / "buffer",
                service_name="amf1-tls-test",
                log_tls_enabled=True,
                log_tls_ca_file=pki["ca"],
                log_tls_cert_file=shipper.cert,
                log_tls_key_file=shipper.key,
            ),
            stream=stream,
        )
        try:
            for n in range(EVENTS):
                logshipping.emit(Action.LOG, f"over TLS {n} {run_id}", {"amf1.test_run": run_id})
        finally:
            assert logshipping.shutdown(timeout_s=30), "the shipper did not deliver everything"
    ids = _ids(stdout.read_bytes())
    assert len(ids) == EVENTS
    hits = wait_for_hits(es, _by_ids(ids), EVENTS)
    assert sorted(hit["_id"] for hit in hits) == sorted(ids)


def _refused_client(pki: dict[str, Any], kind: str) -> TlsOptions | None:
    stranger: CertFiles = pki["stranger"]
    if kind == "no-certificate":
        return TlsOptions(ca_file=pki["ca"])
    if kind == "other-ca":
        return TlsOptions(ca_file=pki["ca"], cert_file=stranger.cert, key_file=stranger.key)
    return None  # plain TCP


def test_clients_without_a_valid_certificate_are_refused_and_not_indexed(
    collector: PrivateCollector, pki: dict[str, Any], es: Elasticsearch
) -> None:
    """No client certificate, one from another CA: the shipper's send fails (nothing counted as
    delivered); plain TCP: nothing indexed either. A good client's later line is the witness
    that the collector has processed what came before it."""
    run_id = uuid.uuid4().hex
    refused_ids: list[str] = []
    for kind in ("no-certificate", "other-ca", "plain-tcp"):
        event_id, line = event_line(run_id, message=f"{kind} {run_id}")
        refused_ids.append(event_id)
        transport = BatchTcpTransport(
            collector.host, collector.port, timeout=10, tls=_refused_client(pki, kind)
        )
        try:
            if kind == "plain-tcp":
                # The TLS server closes on a non-TLS record; the kernel may have acked it first.
                with contextlib.suppress(OSError):
                    transport.send([f"{line}\n".encode()])
            else:
                with pytest.raises(OSError):
                    transport.send([f"{line}\n".encode()])
        finally:
            transport.close()

    shipper: CertFiles = pki["shipper"]
    good = BatchTcpTransport(
        collector.host,
        collector.port,
        timeout=10,
        tls=TlsOptions(ca_file=pki["ca"], cert_file=shipper.cert, key_file=shipper.key),
    )
    witness_id, witness = event_line(run_id, message=f"witness {run_id}")
    try:
        good.send([f"{witness}\n".encode()])
    finally:
        good.close()
    wait_for_hits(es, _by_ids([witness_id]), 1)
    assert count_when_answering(es, _by_ids(refused_ids)) == 0
