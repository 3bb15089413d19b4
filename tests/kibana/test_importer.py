"""`amf1 kibana import` posts the NDJSON to Kibana's import API and reports every rejection."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from amf1.cli import main
from kibana.importer import Imported, parse_import_response
from kibana.settings import Settings
from tracing import correlation

SAVED_OBJECTS = Settings().saved_objects_dir


class KibanaStandIn:
    """A local HTTP server implementing the parts of `_import` the importer relies on."""

    def __init__(
        self, reject: dict[str, dict[str, Any]], destination: dict[str, str] | None = None
    ) -> None:
        self.reject = reject
        # Ids Kibana gives to imported objects (as when an id is taken in another space).
        self.destination = destination or {}
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw
                )
                parts = {
                    p.get_param("name", header="content-disposition"): p
                    for p in message.iter_parts()
                }
                ndjson = parts["file"].get_payload(decode=True).decode()
                objects = [json.loads(line) for line in ndjson.splitlines() if line]
                outer.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "objects": objects}
                )
                if not re.fullmatch(r"(/s/[a-z0-9_-]+)?/api/saved_objects/_import\?.*", self.path):
                    self._answer(404, {"message": "Not Found"})
                    return
                if self.headers.get("kbn-xsrf") is None:
                    self._answer(400, {"message": "Request must contain a kbn-xsrf header."})
                    return
                errors = [
                    {
                        "id": o["id"],
                        "type": o["type"],
                        "title": o["id"],
                        "error": outer.reject[o["id"]],
                    }
                    for o in objects
                    if o["id"] in outer.reject
                ]
                successes = [
                    {
                        "type": o["type"],
                        "id": o["id"],
                        "meta": {"title": o["id"]},
                        **(
                            {"destinationId": outer.destination[o["id"]]}
                            if o["id"] in outer.destination
                            else {}
                        ),
                    }
                    for o in objects
                    if o["id"] not in outer.reject
                ]
                self._answer(
                    200,
                    {
                        "success": not errors,
                        "successCount": len(successes),
                        "successResults": successes,
                        "errors": errors,
                    },
                )

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def kibana() -> Iterator[KibanaStandIn]:
    server = KibanaStandIn(
        reject={
            "amf1-search-errors": {"type": "conflict"},
            "amf1-search-drift-detected": {
                "type": "missing_references",
                "references": [{"type": "index-pattern", "id": "amf1-logs"}],
            },
        }
    )
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_import_posts_every_object_with_overwrite_and_xsrf(
    kibana: KibanaStandIn, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """All saved objects go in one multipart POST with overwrite=true, kbn-xsrf and basic auth
    (the password from AMF1_KIBANA_PASSWORD)."""
    monkeypatch.setenv("AMF1_KIBANA_PASSWORD", "pw")
    code = main(["kibana", "import", "--url", kibana.url, "--user", "elastic"])
    request = kibana.requests[0]
    assert request["path"] == "/api/saved_objects/_import?overwrite=true"
    assert request["headers"]["kbn-xsrf"]
    assert (
        request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"elastic:pw").decode()
    )
    shipped = [
        json.loads(line)
        for path in sorted(SAVED_OBJECTS.glob("*.ndjson"))
        for line in path.read_text().splitlines()
    ]
    assert [o["id"] for o in request["objects"]] == [o["id"] for o in shipped]
    err = capsys.readouterr().err
    assert "rejected search amf1-search-errors: conflict" in err
    assert (
        "rejected search amf1-search-drift-detected: missing_references (index-pattern:amf1-logs)"
        in err
    )
    assert code == 1


def test_import_with_api_key_and_nothing_rejected(
    kibana: KibanaStandIn,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An API key (from the file AMF1_KIBANA_API_KEY_FILE names) is sent as `Authorization:
    ApiKey`; a clean import exits 0."""
    kibana.reject.clear()
    key_file = tmp_path / "kibana-api-key"
    key_file.write_text("k3y\n", encoding="utf-8")
    monkeypatch.setenv("AMF1_KIBANA_API_KEY_FILE", str(key_file))
    code = main(["kibana", "import", "--url", kibana.url])
    assert kibana.requests[0]["headers"]["Authorization"] == "ApiKey k3y"
    assert code == 0
    assert "0 rejected" in capsys.readouterr().out


def test_unreachable_kibana_fails_without_leaking_credentials(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kibana down: exit code 2 and a message that never shows the password."""
    monkeypatch.setenv("AMF1_KIBANA_PASSWORD", "s3cret")
    code = main(["kibana", "import", "--url", "http://127.0.0.1:9", "--user", "u"])
    assert code == 2
    captured = capsys.readouterr()
    assert "s3cret" not in captured.err + captured.out


@pytest.mark.parametrize("option", ["--password", "--api-key"])
def test_credentials_are_refused_as_arguments(
    option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A secret on the command line (visible to every user of the machine) is refused."""
    with pytest.raises(SystemExit) as exited:
        main(["kibana", "import", "--url", "http://127.0.0.1:9", option, "s3cret"])
    assert exited.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_trace_links_point_at_the_configured_jaeger(
    kibana: KibanaStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AMF1_JAEGER_UI_URL becomes the base of the data view's trace.id link on import (where
    a Jaeger UI answers there)."""
    monkeypatch.setenv("AMF1_JAEGER_UI_URL", "https://jaeger.example.org/")
    monkeypatch.setattr(correlation, "jaeger_ui_served", lambda url, timeout_s: True)
    main(["kibana", "import", "--url", kibana.url])
    [view] = [o for o in kibana.requests[0]["objects"] if o["type"] == "index-pattern"]
    formats = json.loads(view["attributes"]["fieldFormatMap"])
    assert (
        formats["trace.id"]["params"]["urlTemplate"] == "https://jaeger.example.org/trace/{{value}}"
    )


def test_import_into_a_space_reports_the_ids_kibana_assigns(
    kibana: KibanaStandIn, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--space posts to /s/<space>/...; each destinationId that differs from the id is printed."""
    kibana.reject.clear()
    kibana.destination["amf1-dashboard"] = "0f6a-new-id"
    code = main(["kibana", "import", "--url", kibana.url, "--space", "ml-ops"])
    assert kibana.requests[0]["path"] == "/s/ml-ops/api/saved_objects/_import?overwrite=true"
    out = capsys.readouterr().out
    assert "imported dashboard amf1-dashboard as 0f6a-new-id" in out
    assert "into space ml-ops, 0 rejected" in out
    assert code == 0
    monkeypatch.setenv("AMF1_KIBANA_SPACE", "team-b")
    main(["kibana", "import", "--url", kibana.url])
    assert kibana.requests[1]["path"].startswith("/s/team-b/api/saved_objects/_import")


def test_parse_import_response_keeps_destination_ids() -> None:
    """successResults become Imported entries; without destinationId the id is kept."""
    result = parse_import_response(
        {
            "successCount": 2,
            "successResults": [
                {"type": "search", "id": "a", "destinationId": "b"},
                {"type": "index-pattern", "id": "c"},
            ],
        }
    )
    assert result.imported == [
        Imported("search", "a", "b"),
        Imported("index-pattern", "c", "c"),
    ]


def test_without_a_jaeger_ui_trace_links_open_discover_and_name_the_command(
    kibana: KibanaStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The native Jaeger serves no UI: the trace.id link opens the trace's events in Discover,
    its label names `amf1 trace`."""
    monkeypatch.setattr(correlation, "jaeger_ui_served", lambda url, timeout_s: False)
    main(["kibana", "import", "--url", kibana.url])
    [view] = [o for o in kibana.requests[0]["objects"] if o["type"] == "index-pattern"]
    params = json.loads(view["attributes"]["fieldFormatMap"])["trace.id"]["params"]
    assert params["urlTemplate"].startswith("/app/discover#/")
    assert "trace.id" in params["urlTemplate"]
    assert "{{value}}" in params["urlTemplate"]
    assert params["labelTemplate"] == "{{value}} (amf1 trace {{value}})"
