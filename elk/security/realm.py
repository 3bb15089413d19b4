"""Elasticsearch's file realm for the native stack: roles.yml, users and users_roles.

The users file holds PBKDF2 hashes in the format Elasticsearch's own `elasticsearch-users`
writes (`{PBKDF2}<iterations>$<salt>$<hash>`, HMAC-SHA512, 256-bit key), computed here so that
no password ever appears on a command line.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from pydantic import SecretStr

from elk.security.credentials import ROLE_OF, StackUser

ROLES_FILE: Final = Path(__file__).resolve().parent / "roles.yml"
_ITERATIONS: Final = 10_000
_SALT_BYTES: Final = 32
_KEY_BYTES: Final = 32


def pbkdf2_hash(password: str, iterations: int = _ITERATIONS) -> str:
    """The file realm's PBKDF2 hash of `password` (random salt)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, _KEY_BYTES)
    encoded = (base64.b64encode(part).decode() for part in (salt, key))
    return f"{{PBKDF2}}{iterations}${'$'.join(encoded)}"


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    tmp.replace(path)


def write_realm(config_dir: Path, passwords: Mapping[StackUser, SecretStr]) -> None:
    """Install roles.yml and the users (hashes) and users_roles files into `config_dir`."""
    shutil.copyfile(ROLES_FILE, config_dir / "roles.yml")
    users = "".join(
        f"{user}:{pbkdf2_hash(password.get_secret_value())}\n"
        for user, password in passwords.items()
    )
    members: dict[str, list[str]] = {}
    for user in passwords:
        members.setdefault(ROLE_OF[user], []).append(str(user))
    users_roles = "".join(f"{role}:{','.join(names)}\n" for role, names in members.items())
    _write_private(config_dir / "users", users)
    _write_private(config_dir / "users_roles", users_roles)
