"""TLS on the native Elasticsearch's HTTP layer: a CA and a node certificate from
`elasticsearch-certutil`, kept in `<runtime_dir>/tls/` (directory 0700, keys 0600).

On when `AMF1_ES_URL` is `https://`. The clients that talk to the native stack over https and
are given no CA of their own (`AMF1_ES_CA_CERT`) trust this CA (`elk.security.credentials`).
"""

from __future__ import annotations

import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from elk.security.credentials import is_loopback_url
from elk.settings import Settings
from logshipping.settings_groups import ElasticsearchConnection

_NODE_NAME: Final = "amf1-local"
_CERTUTIL_TIMEOUT_S: Final = 120.0


class CertificateError(RuntimeError):
    """elasticsearch-certutil failed; the message carries the end of its output."""


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files of one stack: its CA, and the node's certificate and key."""

    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def node_cert(self) -> Path:
        return self.directory / f"{_NODE_NAME}.crt"

    @property
    def node_key(self) -> Path:
        return self.directory / f"{_NODE_NAME}.key"

    @classmethod
    def of(cls, runtime_dir: Path) -> TlsFiles:
        return cls(runtime_dir / "tls")

    def complete(self) -> bool:
        return all(p.is_file() for p in (self.ca_cert, self.ca_key, self.node_cert, self.node_key))


def _certutil(home: Path, env: dict[str, str], *args: str) -> None:
    argv = [str(home / "bin" / "elasticsearch-certutil"), *args, "--pem", "--silent"]
    try:
        subprocess.run(  # noqa: S603 - the distribution's own tool; no secret in argv
            argv, env=env, check=True, capture_output=True, timeout=_CERTUTIL_TIMEOUT_S
        )
    except (OSError, subprocess.SubprocessError) as exc:
        output = getattr(exc, "stdout", b"") or b""
        tail = output.decode(errors="replace")[-1500:]
        raise CertificateError(f"elasticsearch-certutil {args[0]} failed: {exc}\n{tail}") from exc


def _unpack(archive: Path, member: str, target: Path, mode: int) -> None:
    with zipfile.ZipFile(archive) as zipped:
        data = zipped.read(member)
    target.write_bytes(data)
    target.chmod(mode)


def ensure(home: Path, env: dict[str, str], runtime_dir: Path) -> TlsFiles:
    """The stack's CA and node certificate (for 127.0.0.1 and localhost), made once."""
    files = TlsFiles.of(runtime_dir)
    files.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    files.directory.chmod(0o700)
    if files.complete():
        return files
    with tempfile.TemporaryDirectory(dir=files.directory) as scratch:
        work = Path(scratch)
        _certutil(home, env, "ca", "--out", str(work / "ca.zip"))
        _unpack(work / "ca.zip", "ca/ca.crt", files.ca_cert, 0o644)
        _unpack(work / "ca.zip", "ca/ca.key", files.ca_key, 0o600)
        _certutil(
            home,
            env,
            "cert",
            "--ca-cert",
            str(files.ca_cert),
            "--ca-key",
            str(files.ca_key),
            "--ip",
            "127.0.0.1",
            "--dns",
            "localhost",
            "--name",
            _NODE_NAME,
            "--out",
            str(work / "node.zip"),
        )
        _unpack(work / "node.zip", f"{_NODE_NAME}/{_NODE_NAME}.crt", files.node_cert, 0o644)
        _unpack(work / "node.zip", f"{_NODE_NAME}/{_NODE_NAME}.key", files.node_key, 0o600)
    return files


def uses_tls(es_url: str) -> bool:
    """Whether the stack's Elasticsearch serves HTTPS (`AMF1_ES_URL` is `https://`)."""
    return urlsplit(es_url).scheme == "https"


def stack_ca(es_url: str, runtime_dir: Path | None = None) -> Path | None:
    """The native stack's CA certificate for an https loopback `es_url`, if the stack made one."""
    if not uses_tls(es_url) or not is_loopback_url(es_url):
        return None
    directory = runtime_dir if runtime_dir is not None else Settings().runtime_dir
    ca = TlsFiles.of(directory).ca_cert
    return ca if ca.is_file() else None


def ca_for(settings: ElasticsearchConnection) -> Path | None:
    """The CA a client of `settings` verifies with: `AMF1_ES_CA_CERT`, else the native stack's."""
    if settings.es_ca_cert is not None:
        return settings.es_ca_cert
    runtime_dir = settings.runtime_dir if isinstance(settings, Settings) else None
    return stack_ca(settings.es_url, runtime_dir)
