"""`amf1 elk certs`: the pipeline's CA, server and client certificates, private and reusable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from amf1.cli import main
from elk.certs import issue_pipeline_certs


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_certs_chain_to_one_ca_and_are_for_their_roles(tmp_path: Path) -> None:
    """The server certificate names the pipeline's hosts and serves; the client one is a
    client's; both are signed by the CA each directory carries."""
    issue_pipeline_certs(tmp_path, ["logstash", "127.0.0.1"])
    ca = _cert(tmp_path / "ca.crt")
    server, client = _cert(tmp_path / "pipeline/server.crt"), _cert(tmp_path / "shipper/client.crt")
    for cert in (server, client):
        cert.verify_directly_issued_by(ca)
    assert _cert(tmp_path / "pipeline/ca.crt") == ca == _cert(tmp_path / "shipper/ca.crt")
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["logstash"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    usage = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert (tmp_path / "pipeline/server.key").read_text().startswith("-----BEGIN PRIVATE KEY")


def test_keys_are_private_and_nothing_else_is_left(tmp_path: Path) -> None:
    """Keys 0600 in 0700 directories; the CA key is not kept."""
    issue_pipeline_certs(tmp_path, ["127.0.0.1"])
    for consumer in ("pipeline", "shipper"):
        assert _mode(tmp_path / consumer) == 0o700
        assert all(_mode(path) == 0o600 for path in (tmp_path / consumer).iterdir())
    names = sorted(p.name for p in tmp_path.rglob("*"))
    pipeline = ["pipeline", "ca.crt", "server.crt", "server.key"]
    shipper = ["shipper", "ca.crt", "client.crt", "client.key"]
    assert names == sorted(["ca.crt", *pipeline, *shipper])


def test_existing_certificates_are_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second run (a restarted set-up service) changes nothing and says so."""
    assert main(["elk", "certs", str(tmp_path)]) == 0
    before = (tmp_path / "shipper/client.crt").read_bytes()
    assert main(["elk", "certs", str(tmp_path)]) == 0
    assert (tmp_path / "shipper/client.crt").read_bytes() == before
    assert "certificates kept" in capsys.readouterr().out
