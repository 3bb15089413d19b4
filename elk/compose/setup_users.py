"""One-shot run by docker-compose.elk.yml: give each AMF1 user its password and role.

Once Elasticsearch answers, it sets the built-in `kibana_system` user's password and creates (or
updates) the users below with the file-realm roles of elk/security/roles.yml. Idempotent.

Every password is read from a file (the compose secrets in /run/secrets, or AMF1_SECRETS_DIR):
none is taken from argv and none is printed. Request bodies are built with `json.dumps`, so any
character a password holds (quotes, backslashes) reaches Elasticsearch unchanged. Standard
library only, so it runs with any Python 3.11.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ADMIN_USER = "elastic"
# Names of secret files, not secrets.
ADMIN_SECRET = "elastic-password"  # noqa: S105
KIBANA_SYSTEM_SECRET = "kibana-system-password"  # noqa: S105
_TIMEOUT_S = 10.0
_READY_TRIES = 60
_READY_PAUSE_S = 5.0


@dataclass(frozen=True)
class User:
    """An AMF1 user: its name, the secret file holding its password, its roles."""

    name: str
    secret: str
    roles: tuple[str, ...]


USERS = (
    User("amf1-pipeline", "pipeline-password", ("amf1_pipeline_writer",)),
    User("amf1-watcher", "watcher-password", ("amf1_watcher",)),
    User("amf1-jaeger", "jaeger-password", ("amf1_jaeger",)),
    User("amf1-analyst", "analyst-password", ("amf1_analyst",)),
)


class SetupError(RuntimeError):
    """A secret is missing or Elasticsearch refused a request; the message names which."""


def read_secret(secrets_dir: Path, name: str) -> str:
    """The password in `secrets_dir/name`, without a trailing newline; SetupError if empty."""
    path = secrets_dir / name
    try:
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SetupError(f"cannot read the secret {path}: {exc.strerror}") from exc
    if not value:
        raise SetupError(f"the secret {path} is empty: set its variable in .env")
    return value


def requests(secrets_dir: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, body) of every request the set-up sends, passwords read from files."""
    planned: list[tuple[str, str, dict[str, Any]]] = [
        (
            "POST",
            "/_security/user/kibana_system/_password",
            {"password": read_secret(secrets_dir, KIBANA_SYSTEM_SECRET)},
        )
    ]
    for user in USERS:
        body = {"password": read_secret(secrets_dir, user.secret), "roles": list(user.roles)}
        planned.append(("PUT", f"/_security/user/{user.name}", body))
    return planned


class Elasticsearch:
    """Just enough of an HTTP client: JSON bodies, basic auth, a timeout on every request."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self._url = url.rstrip("/")
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        """Send one request; SetupError (naming the path and status, never the body) if refused."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the URL is ours (http/https)
            self._url + path, data=data, headers=self._headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S):  # noqa: S310
                return
        except urllib.error.HTTPError as exc:
            raise SetupError(f"{method} {path}: HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError) as exc:
            raise SetupError(f"{method} {path}: {exc}") from None

    def wait_ready(self) -> None:
        """Wait until the cluster is yellow or better (5 minutes at most)."""
        for _ in range(_READY_TRIES):
            try:
                self.send("GET", "/_cluster/health?wait_for_status=yellow&timeout=5s")
            except SetupError:
                time.sleep(_READY_PAUSE_S)
            else:
                return
        raise SetupError("Elasticsearch not ready after 5 minutes")


def main() -> int:
    """Apply every request; exit 1 with a message (no secret in it) on the first failure."""
    secrets_dir = Path(os.environ.get("AMF1_SECRETS_DIR", "/run/secrets"))
    url = os.environ.get("AMF1_ES_URL", "http://elasticsearch:9200")
    try:
        es = Elasticsearch(url, ADMIN_USER, read_secret(secrets_dir, ADMIN_SECRET))
        planned = requests(secrets_dir)
        es.wait_ready()
        for method, path, body in planned:
            es.send(method, path, body)
    except SetupError as exc:
        print(f"setup-users: {exc}", file=sys.stderr)  # noqa: T201 - a one-shot's only output
        return 1
    names = ", ".join(user.name for user in USERS)
    print(f"setup-users: kibana_system password set; users ready: {names}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
