"""How the native Elasticsearch is configured and launched.

The distribution in the cache stays read-only: each runtime gets its own config directory
(ES_PATH_CONF), data, logs and temp directories under the stack's runtime dir. Security is on
when the distribution carries it: the file realm holds the stack's users (`elk.security`), and
anonymous requests are refused. The HTTP port is the one of `AMF1_ES_URL`, so a second stack
(`AMF1_STACK_DIR`) can run beside the first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from elk import versions
from elk.security import tls
from elk.security.credentials import CredentialStore, without_credentials
from elk.security.realm import write_realm
from elk.settings import Settings
from elk.stack.java import find_jdk
from elk.stack.launch import Launch
from elk.stack.layout import Layout

HOST = "127.0.0.1"
DEFAULT_HTTP_PORT = 9200
# The node's certificate and key inside its config dir (Elasticsearch reads no file outside it).
_CERTS = "certs"
_NODE_CERT = "node.crt"
_NODE_KEY = "node.key"
# The transport port sits this far above the HTTP port (9200 -> 9300).
_TRANSPORT_OFFSET = 100
# Elasticsearch refuses to run as root. As root we start it in a user namespace where it is an
# ordinary user; the files it writes are still owned by root outside, and it gains no rights.
_NAMESPACE_UID = 1000


class RootWithoutUnshareError(RuntimeError):
    """Running as root and `unshare` (util-linux) is missing, so Elasticsearch cannot start."""


def http_port(settings: Settings) -> int:
    """The port of `AMF1_ES_URL`: where the native Elasticsearch listens."""
    return urlsplit(settings.es_url).port or DEFAULT_HTTP_PORT


def security_available(home: Path) -> bool:
    """Whether the distribution carries the security module (the integ-test zip does not)."""
    return (home / "modules" / "x-pack-security").is_dir()


def node_settings(
    home: Path, data: Path, logs: Path, port: int = DEFAULT_HTTP_PORT, https: bool = False
) -> dict[str, object]:
    """elasticsearch.yml for one local, single-node, loopback-only cluster on HTTP `port`
    (HTTPS with the certificates under `config/certs/` when `https` and security exist)."""
    settings: dict[str, object] = {
        "cluster.name": "amf1-local",
        "node.name": "amf1-local",
        "discovery.type": "single-node",
        "network.host": HOST,
        "http.port": port,
        "transport.port": port + _TRANSPORT_OFFSET,
        "path.data": str(data),
        "path.logs": str(logs),
        # A nearly full developer disk must not flip indices read-only in the middle of tests.
        "cluster.routing.allocation.disk.threshold_enabled": False,
    }
    # The integ-test zip carries only a few modules; a setting of a missing one is fatal.
    if security_available(home):
        # Users from the file realm (written at each start), roles from elk/security/roles.yml.
        settings["xpack.security.enabled"] = True
        settings["xpack.security.http.ssl.enabled"] = https
        settings["xpack.security.transport.ssl.enabled"] = False
        if https:
            settings["xpack.security.http.ssl.certificate"] = f"{_CERTS}/{_NODE_CERT}"
            settings["xpack.security.http.ssl.key"] = f"{_CERTS}/{_NODE_KEY}"
    return settings


def _prepare_config(
    home: Path, service_dir: Path, port: int = DEFAULT_HTTP_PORT, https: bool = False
) -> Path:
    config = service_dir / "config"
    marker = config / ".amf1-distribution"
    # Re-seed from the distribution when it changed (a new pinned version), keeping the data.
    if not marker.exists() or marker.read_text(encoding="utf-8") != home.name:
        shutil.copytree(home / "config", config, dirs_exist_ok=True)
        marker.write_text(home.name, encoding="utf-8")
    data, logs = service_dir / "data", service_dir / "logs"
    for path in (data, logs, service_dir / "tmp"):
        path.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(node_settings(home, data, logs, port, https), sort_keys=False)
    (config / "elasticsearch.yml").write_text(
        "# Written by `amf1 stack up` on every start; edit elk/stack/elasticsearch.py instead.\n"
        + text,
        encoding="utf-8",
    )
    return config


def _install_certificates(files: tls.TlsFiles, config: Path) -> None:
    certs = config / _CERTS
    certs.mkdir(mode=0o700, exist_ok=True)
    shutil.copyfile(files.node_cert, certs / _NODE_CERT)
    key = certs / _NODE_KEY
    key.unlink(missing_ok=True)
    key.touch(mode=0o600)
    shutil.copyfile(files.node_key, key)


def _namespace_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        raise RootWithoutUnshareError(
            "Elasticsearch refuses to run as root and `unshare` (util-linux) is not installed; "
            "run as a normal user or install util-linux"
        )
    uid = str(_NAMESPACE_UID)
    return [unshare, "--user", f"--map-user={uid}", f"--map-group={uid}"]


def launch(home: Path, layout: Layout, settings: Settings) -> Launch:
    """Argv, environment and working directory that start Elasticsearch."""
    service_dir = layout.service_dir("elasticsearch")
    secured = security_available(home)
    https = secured and tls.uses_tls(settings.es_url)
    config = _prepare_config(home, service_dir, http_port(settings), https)
    jdk = find_jdk(versions.ELASTICSEARCH_MIN_JAVA, settings.java_home)
    env = without_credentials(os.environ)
    env.update(ES_JAVA_HOME=str(jdk.home), ES_TMPDIR=str(service_dir / "tmp"))
    if secured:
        write_realm(config, CredentialStore(layout.runtime_dir).ensure())
    if https:
        _install_certificates(tls.ensure(home, env, layout.runtime_dir), config)
    env.update(
        ES_PATH_CONF=str(config),
        ES_JAVA_OPTS=f"-Xms{settings.es_heap} -Xmx{settings.es_heap}",
    )
    argv = [*_namespace_prefix(), str(home / "bin" / "elasticsearch")]
    return Launch(argv=argv, env=env, cwd=service_dir, note=f"Java {jdk.feature} ({jdk.home})")
