"""The native stack's Elasticsearch users and the passwords `amf1 stack up` generates for them.

Each user's password is generated on the first start and kept in
`<runtime_dir>/credentials/<user>` (directory 0700, files 0600); Elasticsearch gets only hashes
(`elk.security.realm`). A process given no credentials of its own (`AMF1_ES_USERNAME` +
`AMF1_ES_PASSWORD[_FILE]`, or `AMF1_ES_API_KEY`) falls back to the file of ITS user, and only
when Elasticsearch is on a loopback address: the native stack, never a remote cluster.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from pydantic import SecretStr

from elk.settings import Settings
from logshipping.redaction import register_secrets
from logshipping.settings_groups import ElasticsearchConnection


class StackUser(StrEnum):
    """The users of the stack's Elasticsearch, one per job (the same names in the compose file)."""

    ADMIN = "amf1-admin"  # set-up only: index template, ILM policy; the tests' admin client
    PIPELINE = "amf1-pipeline"  # the collector / Logstash
    WATCHER = "amf1-watcher"  # `amf1 watch`, and the demo
    JAEGER = "amf1-jaeger"  # Jaeger's Elasticsearch span storage (compose)
    ANALYST = "amf1-analyst"  # people: Kibana, `amf1 traces`, `amf1 health`, `amf1 report`


# The role each user holds (roles.yml; `superuser` is built in).
ROLE_OF: Final[dict[StackUser, str]] = {
    StackUser.ADMIN: "superuser",
    StackUser.PIPELINE: "amf1_pipeline_writer",
    StackUser.WATCHER: "amf1_watcher",
    StackUser.JAEGER: "amf1_jaeger",
    StackUser.ANALYST: "amf1_analyst",
}
_PASSWORD_BYTES: Final = 24
# The variables that carry Elasticsearch credentials into a process.
CREDENTIAL_VARIABLES: Final = frozenset(
    {
        "AMF1_ES_USERNAME",
        "AMF1_ES_PASSWORD",
        "AMF1_ES_PASSWORD_FILE",
        "AMF1_ES_API_KEY",
        "AMF1_ES_API_KEY_FILE",
    }
)


@dataclass(frozen=True)
class Credentials:
    """A user name and its password."""

    username: str
    password: SecretStr

    @property
    def basic_auth(self) -> tuple[str, str]:
        """The pair the Elasticsearch client's `basic_auth` takes."""
        return self.username, self.password.get_secret_value()


class CredentialStore:
    """The generated passwords of one native stack (`<runtime_dir>/credentials/`)."""

    def __init__(self, runtime_dir: Path) -> None:
        self.directory = runtime_dir / "credentials"

    def path(self, user: StackUser) -> Path:
        """The file holding `user`'s password (its only content)."""
        return self.directory / str(user)

    def read(self, user: StackUser) -> SecretStr | None:
        """`user`'s password, or None when the stack never generated one (security off)."""
        try:
            text = self.path(user).read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return SecretStr(text) if text else None

    def ensure(self) -> dict[StackUser, SecretStr]:
        """Every user's password, generating the missing ones; modes 0700 (dir) and 0600."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        passwords: dict[StackUser, SecretStr] = {}
        for user in StackUser:
            path = self.path(user)
            password = self.read(user)
            if password is None:
                password = SecretStr(secrets.token_urlsafe(_PASSWORD_BYTES))
                path.unlink(missing_ok=True)
                # Created 0600: the password is never readable by others, not even briefly.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as file:
                    file.write(password.get_secret_value() + "\n")
            path.chmod(0o600)
            passwords[user] = password
        return passwords


def is_loopback_url(url: str) -> bool:
    """Whether `url` names this machine (127.0.0.0/8, ::1 or localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def stack_credentials(
    es_url: str, user: StackUser, runtime_dir: Path | None = None
) -> Credentials | None:
    """`user`'s generated credentials when `es_url` is on loopback and the stack made them."""
    if not is_loopback_url(es_url):
        return None
    directory = runtime_dir if runtime_dir is not None else Settings().runtime_dir
    password = CredentialStore(directory).read(user)
    if password is None:
        return None
    register_secrets([password.get_secret_value()])
    return Credentials(str(user), password)


def credentials_for(settings: ElasticsearchConnection, user: StackUser) -> Credentials | None:
    """The user and password a client of `settings` authenticates with, in the role of `user`.

    Explicit settings win (an API key, when set, is the caller's to use: None here); otherwise
    the native stack's generated credentials of `user`; None when neither exists.
    """
    if settings.es_api_key is not None:
        return None
    if settings.es_username and settings.es_password is not None:
        return Credentials(settings.es_username, settings.es_password)
    runtime_dir = settings.runtime_dir if isinstance(settings, Settings) else None
    return stack_credentials(settings.es_url, user, runtime_dir)


def without_credentials(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` minus the Elasticsearch credentials: what a process not given its own gets."""
    return {k: v for k, v in environ.items() if k.upper() not in CREDENTIAL_VARIABLES}
