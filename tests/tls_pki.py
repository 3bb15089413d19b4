"""A throw-away PKI generated in the test (`cryptography`): a CA, a server certificate for
127.0.0.1 and client certificates, as PEM files with 0600 keys."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_PRIVATE = 0o600


@dataclass(frozen=True, slots=True)
class CertFiles:
    """A certificate and its key (PEM files)."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class Authority:
    """A certificate authority that can sign server and client certificates."""

    name: str
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_file: Path
    directory: Path

    @classmethod
    def create(cls, directory: Path, name: str) -> Authority:
        """A new self-signed CA whose certificate is `<directory>/<name>-ca.crt`."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
        cert = (
            _builder(subject, subject, key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        cert_file = directory / f"{name}-ca.crt"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(name, cert, key, cert_file, directory)

    def server(self, name: str = "server") -> CertFiles:
        """A server certificate for 127.0.0.1 signed by this CA."""
        san = x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        )
        return self._issue(name, "127.0.0.1", san, ExtendedKeyUsageOID.SERVER_AUTH)

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
        builder = _builder(subject, self.cert.subject, key).add_extension(
            x509.ExtendedKeyUsage([usage]), critical=False
        )
        if san is not None:
            builder = builder.add_extension(san, critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        files = CertFiles(
            self.directory / f"{self.name}-{name}.crt", self.directory / f"{self.name}-{name}.key"
        )
        files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        descriptor = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE)
        with os.fdopen(descriptor, "wb") as out:
            out.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        return files


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
