"""Certificates of the shipper -> pipeline link (mutual TLS): a private CA, the pipeline's
server certificate and the shippers' client certificates, as PEM files (`amf1 elk certs`).

Keys are PKCS#8 (what Logstash's TCP input, the collector and Python all read) and written 0600
in 0700 directories; when run as root (the compose set-up service) each consumer's directory is
given to that consumer's user id. Nothing here logs or prints a key.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PRIVATE_FILE: Final = 0o600
PRIVATE_DIR: Final = 0o700
CA_CERT: Final = "ca.crt"
_LIFETIME: Final = dt.timedelta(days=825)  # the longest that clients still accept


@dataclass(frozen=True, slots=True)
class CertFiles:
    """A certificate and its key (PEM files)."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class Authority:
    """A certificate authority that signs server and client certificates."""

    name: str
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_file: Path
    directory: Path
    lifetime: dt.timedelta = _LIFETIME

    @classmethod
    def create(cls, directory: Path, name: str, lifetime: dt.timedelta = _LIFETIME) -> Authority:
        """A new self-signed CA; its certificate is `<directory>/<name>-ca.crt` (the key stays
        in memory: issue everything needed now)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} CA")])
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        )
        cert = (
            _builder(subject, subject, key, lifetime)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256())
        )
        _private_dir(directory)
        cert_file = directory / f"{name}-ca.crt"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(name, cert, key, cert_file, directory, lifetime)

    def server(self, name: str = "server", hosts: Sequence[str] = ("127.0.0.1",)) -> CertFiles:
        """A server certificate for `hosts` (IP addresses or DNS names) signed by this CA."""
        names: list[x509.GeneralName] = [_general_name(host) for host in hosts]
        san = x509.SubjectAlternativeName(names)
        return self._issue(name, hosts[0], san, ExtendedKeyUsageOID.SERVER_AUTH)

    def client(self, name: str) -> CertFiles:
        """A client certificate (common name `name`) signed by this CA."""
        return self._issue(name, name, None, ExtendedKeyUsageOID.CLIENT_AUTH)

    def _issue(
        self,
        name: str,
        common_name: str,
        san: x509.SubjectAlternativeName | None,
        usage: x509.ObjectIdentifier,
    ) -> CertFiles:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        builder = _builder(subject, self.cert.subject, key, self.lifetime).add_extension(
            x509.ExtendedKeyUsage([usage]), critical=False
        )
        if san is not None:
            builder = builder.add_extension(san, critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        files = CertFiles(
            self.directory / f"{self.name}-{name}.crt", self.directory / f"{self.name}-{name}.key"
        )
        files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_private(files.key, key)
        return files


def issue_pipeline_certs(
    directory: Path, server_hosts: Sequence[str], owners: Mapping[str, int] | None = None
) -> list[Path]:
    """The pipeline's certificates in `directory`, one subdirectory per consumer, unless
    `directory/ca.crt` exists (then nothing changes; returns []).

    `pipeline/` holds server.crt, server.key and ca.crt (the CA its clients must chain to);
    `shipper/` holds client.crt, client.key and ca.crt. `owners` maps a subdirectory to the
    user id it is given (needs root). Returns the files written.
    """
    if (directory / CA_CERT).exists():
        return []
    scratch = directory / ".issuing"
    authority = Authority.create(scratch, "amf1-pipeline")
    issued = {
        "pipeline": ("server", authority.server("server", server_hosts)),
        "shipper": ("client", authority.client("amf1-shipper")),
    }
    written: list[Path] = []
    for consumer, (role, files) in issued.items():
        target = directory / consumer
        _private_dir(target)
        pairs = ((files.cert, f"{role}.crt"), (files.key, f"{role}.key"))
        for source, name in (*pairs, (authority.cert_file, CA_CERT)):
            destination = target / name
            _write_private_bytes(destination, source.read_bytes())
            written.append(destination)
        uid = (owners or {}).get(consumer)
        if uid is not None:
            for path in (target, *target.iterdir()):
                os.chown(path, uid, -1)
    ca = directory / CA_CERT
    ca.write_bytes(authority.cert_file.read_bytes())
    written.append(ca)
    for leftover in scratch.iterdir():
        leftover.unlink()
    scratch.rmdir()
    return written


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    directory.chmod(PRIVATE_DIR)


def _write_private_bytes(path: Path, data: bytes) -> None:
    # Created 0600: never readable by others, not even between write and chmod.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private_bytes(path, pem)


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, lifetime: dt.timedelta
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + lifetime)
    )
