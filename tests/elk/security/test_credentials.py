"""Tests of elk.security.credentials: the generated passwords and who gets which."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from elk.security.credentials import (
    CredentialStore,
    StackUser,
    credentials_for,
    is_loopback_url,
    without_credentials,
)
from elk.security.tls import TlsFiles, ca_for
from elk.settings import ElasticsearchSettings, Settings
from logshipping.redaction import SECRETS, Redactor


def test_passwords_are_generated_once_in_a_private_directory(tmp_path: Path) -> None:
    """Every user gets a password in a 0600 file of a 0700 dir; a second start keeps them."""
    store = CredentialStore(tmp_path)
    first = store.ensure()
    assert set(first) == set(StackUser)
    assert oct(store.directory.stat().st_mode & 0o777) == "0o700"
    for user in StackUser:
        assert oct(store.path(user).stat().st_mode & 0o777) == "0o600"
    second = store.ensure()
    assert {u: p.get_secret_value() for u, p in second.items()} == {
        u: p.get_secret_value() for u, p in first.items()
    }
    assert len({p.get_secret_value() for p in first.values()}) == len(StackUser)


def test_a_removed_password_is_generated_anew_and_the_others_kept(tmp_path: Path) -> None:
    """Rotation: deleting one user's file gives that user, and only that user, a new password."""
    store = CredentialStore(tmp_path)
    before = store.ensure()
    store.path(StackUser.WATCHER).unlink()
    after = store.ensure()
    assert (
        after[StackUser.WATCHER].get_secret_value() != before[StackUser.WATCHER].get_secret_value()
    )
    assert after[StackUser.ADMIN].get_secret_value() == before[StackUser.ADMIN].get_secret_value()


def test_modes_are_repaired_on_start(tmp_path: Path) -> None:
    """A credentials dir or file loosened by hand is made private again by the next start."""
    store = CredentialStore(tmp_path)
    store.ensure()
    store.directory.chmod(0o755)
    store.path(StackUser.ANALYST).chmod(0o644)
    store.ensure()
    assert oct(store.directory.stat().st_mode & 0o777) == "0o700"
    assert oct(store.path(StackUser.ANALYST).stat().st_mode & 0o777) == "0o600"


def test_a_process_falls_back_to_its_own_users_password(tmp_path: Path) -> None:
    """With nothing configured, a client of the local stack authenticates as its own user."""
    passwords = CredentialStore(tmp_path).ensure()
    settings = Settings(stack_dir=tmp_path, es_url="http://127.0.0.1:9201")
    found = credentials_for(settings, StackUser.WATCHER)
    assert found is not None
    assert found.username == "amf1-watcher"
    assert found.password.get_secret_value() == passwords[StackUser.WATCHER].get_secret_value()
    # Redacted from this process's logs like any configured secret.
    redactor = Redactor()
    SECRETS.follow(redactor)
    line = f"password={found.password.get_secret_value()}".encode()
    assert redactor.scrub(line) == b"password=[REDACTED]"


def test_explicit_credentials_win_over_the_stack(tmp_path: Path) -> None:
    """AMF1_ES_USERNAME/PASSWORD beat the generated ones; an API key leaves basic auth out."""
    CredentialStore(tmp_path).ensure()
    given = Settings(stack_dir=tmp_path, es_username="ops", es_password=SecretStr("s3cr3t-x"))
    found = credentials_for(given, StackUser.ADMIN)
    assert found is not None
    assert found.basic_auth == ("ops", "s3cr3t-x")
    keyed = Settings(stack_dir=tmp_path, es_api_key=SecretStr("a2V5OnZhbHVl"))
    assert credentials_for(keyed, StackUser.ADMIN) is None


def test_no_fallback_for_a_remote_cluster(tmp_path: Path) -> None:
    """The local stack's passwords are never sent to an Elasticsearch off this machine."""
    CredentialStore(tmp_path).ensure()
    remote = Settings(stack_dir=tmp_path, es_url="https://es.example:9200")
    assert credentials_for(remote, StackUser.ADMIN) is None


def test_no_credentials_when_the_stack_made_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stack without security (no credentials dir) means anonymous clients, as before."""
    monkeypatch.setenv("AMF1_STACK_DIR", str(tmp_path))
    assert credentials_for(ElasticsearchSettings(), StackUser.ANALYST) is None


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:9200", True),
        ("http://localhost:9200", True),
        ("https://[::1]:9200", True),
        ("http://10.0.0.5:9200", False),
        ("https://es.example:9200", False),
    ],
)
def test_loopback_urls(url: str, loopback: bool) -> None:
    """Only this machine's addresses count as the native stack."""
    assert is_loopback_url(url) is loopback


def test_a_process_not_given_credentials_gets_none_of_them() -> None:
    """The environment handed to a service drops every Elasticsearch credential variable."""
    environ = {
        "AMF1_ES_URL": "http://127.0.0.1:9200",
        "AMF1_ES_USERNAME": "amf1-admin",
        "AMF1_ES_PASSWORD": "p",
        "amf1_es_password_file": "/run/p",
        "AMF1_ES_API_KEY": "k",
        "PATH": "/usr/bin",
    }
    assert without_credentials(environ) == {
        "AMF1_ES_URL": "http://127.0.0.1:9200",
        "PATH": "/usr/bin",
    }


def test_the_stack_ca_is_trusted_only_for_https_on_loopback(tmp_path: Path) -> None:
    """A client without AMF1_ES_CA_CERT verifies the native stack with the stack's own CA."""
    files = TlsFiles.of(tmp_path)
    files.directory.mkdir()
    files.ca_cert.write_text("-----BEGIN CERTIFICATE-----\n")
    local = Settings(stack_dir=tmp_path, es_url="https://127.0.0.1:9200")
    assert ca_for(local) == files.ca_cert
    assert ca_for(Settings(stack_dir=tmp_path, es_url="http://127.0.0.1:9200")) is None
    assert ca_for(Settings(stack_dir=tmp_path, es_url="https://es.example:9200")) is None
    given = Settings(stack_dir=tmp_path, es_url="https://127.0.0.1:9200", es_ca_cert=tmp_path)
    assert ca_for(given) == tmp_path
