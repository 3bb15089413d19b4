"""elk/compose/setup_users.py (the compose one-shot creating the AMF1 users) sends valid JSON
whatever a password holds, reads every password from a file and never prints one."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "elk" / "compose" / "setup_users.py"
ROLES = ROOT / "elk" / "security" / "roles.yml"
TRICKY = "p\"a\\ss'w{o}rd\n\t\u00e9\u2603"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("setup_users", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


setup_users = _load()


class Recorder:
    """An HTTP endpoint on 127.0.0.1 that records each request and answers `status`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                recorder.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "body": json.loads(raw) if raw else None,
                    }
                )
                status = 200 if self.path.startswith("/_cluster") else recorder.status
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_PUT = do_POST = _answer  # noqa: N815 - http.server's names

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def elasticsearch() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.server.shutdown()
    recorder.server.server_close()


def _secrets(tmp_path: Path) -> Path:
    """A secrets directory as compose mounts it: one file per password, no trailing newline."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    names = ["elastic-password", "kibana-system-password"]
    names += [user.secret for user in setup_users.USERS]
    for name in names:
        (secrets / name).write_text(f"{name}:{TRICKY}", encoding="utf-8")
    return secrets


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, elasticsearch: Recorder) -> Path:
    path = _secrets(tmp_path)
    monkeypatch.setenv("AMF1_SECRETS_DIR", str(path))
    monkeypatch.setenv("AMF1_ES_URL", elasticsearch.url)
    return path


def test_passwords_with_quotes_and_backslashes_arrive_intact(
    elasticsearch: Recorder, secrets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every body is valid JSON holding the file's password exactly, with the user's role."""
    assert setup_users.main() == 0
    sent = {r["path"]: r for r in elasticsearch.requests if r["method"] != "GET"}
    kibana = sent["/_security/user/kibana_system/_password"]
    assert kibana["body"] == {"password": f"kibana-system-password:{TRICKY}"}
    for user in setup_users.USERS:
        request = sent[f"/_security/user/{user.name}"]
        assert request["method"] == "PUT"
        assert request["body"] == {
            "password": f"{user.secret}:{TRICKY}",
            "roles": list(user.roles),
        }
    admin = base64.b64encode(f"elastic:elastic-password:{TRICKY}".encode()).decode()
    assert {r["auth"] for r in elasticsearch.requests} == {f"Basic {admin}"}
    output = capsys.readouterr()
    assert TRICKY not in output.out + output.err
    assert "amf1-pipeline, amf1-watcher, amf1-jaeger, amf1-analyst" in output.out


def test_a_missing_password_stops_before_any_user_is_changed(
    elasticsearch: Recorder, secrets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unset password (empty secret file) fails naming its file; nothing is sent."""
    (secrets / "watcher-password").write_text("", encoding="utf-8")
    assert setup_users.main() == 1
    assert "watcher-password is empty" in capsys.readouterr().err
    assert not [r for r in elasticsearch.requests if r["method"] != "GET"]


def test_a_refused_request_is_reported_without_the_password(
    elasticsearch: Recorder, secrets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Elasticsearch refusing a user (403) fails the one-shot, naming the request, not the body."""
    elasticsearch.status = 403
    assert setup_users.main() == 1
    output = capsys.readouterr()
    assert "POST /_security/user/kibana_system/_password: HTTP 403" in output.err
    assert TRICKY not in output.out + output.err


def test_every_role_given_is_defined_in_the_committed_roles_file() -> None:
    """The users get the file-realm roles of elk/security/roles.yml, one role each."""
    roles = yaml.safe_load(ROLES.read_text(encoding="utf-8"))
    assert set(roles) == {
        "amf1_pipeline_writer",
        "amf1_watcher",
        "amf1_jaeger",
        "amf1_analyst",
    }
    assert [role for user in setup_users.USERS for role in user.roles] == list(roles)
