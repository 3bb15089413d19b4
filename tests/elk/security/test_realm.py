"""Tests of elk.security.realm: the file realm written for the native Elasticsearch."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import yaml

from elk.security.credentials import ROLE_OF, CredentialStore, StackUser
from elk.security.realm import ROLES_FILE, pbkdf2_hash, write_realm


def _verify(password: str, stored: str) -> bool:
    """Elasticsearch's check of a `{PBKDF2}` hash, for the test's own use."""
    iterations, salt, key = stored.removeprefix("{PBKDF2}").split("$")
    raw_salt, raw_key = base64.b64decode(salt), base64.b64decode(key)
    computed = hashlib.pbkdf2_hmac("sha512", password.encode(), raw_salt, int(iterations), 32)
    return computed == raw_key


def test_hash_verifies_and_is_salted() -> None:
    """The same password hashes differently each time, and each hash verifies it."""
    first, second = pbkdf2_hash("pw-1"), pbkdf2_hash("pw-1")
    assert first.startswith("{PBKDF2}10000$")
    assert first != second
    assert _verify("pw-1", first)
    assert not _verify("pw-2", first)


def test_realm_files_hold_hashes_and_the_agreed_roles(tmp_path: Path) -> None:
    """users has no clear password (0600); users_roles maps each role to its one user."""
    passwords = CredentialStore(tmp_path / "runtime").ensure()
    config = tmp_path / "config"
    config.mkdir()
    write_realm(config, passwords)
    users = (config / "users").read_text()
    for password in passwords.values():
        assert password.get_secret_value() not in users
    assert oct((config / "users").stat().st_mode & 0o777) == "0o600"
    lines = dict(line.split(":", 1) for line in users.splitlines())
    assert _verify(passwords[StackUser.WATCHER].get_secret_value(), lines["amf1-watcher"])
    roles = dict(line.split(":") for line in (config / "users_roles").read_text().splitlines())
    assert roles == {role: str(user) for user, role in ROLE_OF.items()}
    assert (config / "roles.yml").read_text() == ROLES_FILE.read_text()


def test_roles_file_defines_every_role_a_user_holds() -> None:
    """roles.yml has exactly the agreed roles (superuser is built in)."""
    defined = set(yaml.safe_load(ROLES_FILE.read_text()))
    assert defined == set(ROLE_OF.values()) - {"superuser"}
    assert defined == {"amf1_pipeline_writer", "amf1_watcher", "amf1_jaeger", "amf1_analyst"}


def test_pipeline_writer_may_only_add_log_documents() -> None:
    """The writer's role: create_doc/create_index/auto_configure on amf1-logs-*, and only the
    read-only cluster `monitor` (Logstash's output reads `GET /` first)."""
    role = yaml.safe_load(ROLES_FILE.read_text())["amf1_pipeline_writer"]
    assert role["cluster"] == ["monitor"]
    assert role["indices"] == [
        {"names": ["amf1-logs-*"], "privileges": ["create_doc", "create_index", "auto_configure"]}
    ]
