"""Import the saved objects into Kibana through its saved-objects import API.

`POST <kibana>[/s/<space>]/api/saved_objects/_import?overwrite=true`, multipart with the NDJSON as
the `file` part, header `kbn-xsrf`, basic auth or `Authorization: ApiKey ...`. Kibana answers 200
even when some objects are refused; each refusal is in `errors` with the object's id and a reason,
each success in `successResults`, with the `destinationId` Kibana gave it when that differs from
the id in the file.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from kibana.errors import BackendUnavailableError, ConfigurationError

DEFAULT_SPACE = "default"


@dataclass(frozen=True, slots=True)
class Rejected:
    """One object Kibana refused."""

    type: str
    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Imported:
    """One object Kibana imported, and the id it has there."""

    type: str
    id: str
    destination_id: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    success_count: int
    rejected: list[Rejected]
    imported: list[Imported]


def _reason(error: dict[str, Any]) -> str:
    kind = str(error.get("type", "unknown"))
    if kind == "missing_references":
        refs = ", ".join(f"{r.get('type')}:{r.get('id')}" for r in error.get("references", []))
        return f"missing_references ({refs})"
    message = error.get("message") or error.get("reason")
    return f"{kind}: {message}" if message else kind


def parse_import_response(body: dict[str, Any]) -> ImportResult:
    """The objects refused by an import, each with its reason, and those imported."""
    rejected = [
        Rejected(str(e.get("type", "?")), str(e.get("id", "?")), _reason(e.get("error") or {}))
        for e in body.get("errors") or []
    ]
    imported = [
        Imported(str(s.get("type", "?")), str(s["id"]), str(s.get("destinationId") or s["id"]))
        for s in body.get("successResults") or []
        if "id" in s
    ]
    return ImportResult(int(body.get("successCount", 0)), rejected, imported)


def import_endpoint(url: str, space: str = DEFAULT_SPACE) -> str:
    """The import API of `space` (the default space has no `/s/<space>` prefix)."""
    prefix = "" if space == DEFAULT_SPACE else f"/s/{quote(space, safe='')}"
    return f"{url.rstrip('/')}{prefix}/api/saved_objects/_import"


# Without a Jaeger UI: the trace's log events in Discover, labelled with the command that shows
# the whole trace (spans and events) in a terminal.
NO_UI_URL_TEMPLATE = (
    "/app/discover#/?_a=(query:(language:kuery,query:'trace.id:\"{{value}}\"'))"
    "&_g=(time:(from:now-7d,to:now))"
)
NO_UI_LABEL_TEMPLATE = "{{value}} (amf1 trace {{value}})"


def _with_jaeger(line: str, jaeger_ui_url: str | None, ui_served: bool = True) -> str:
    """The line, with the data view's `trace.id` link pointed at this site's Jaeger UI, or,
    where no UI is served, at the trace's events in Discover labelled with `amf1 trace`."""
    if (jaeger_ui_url is None and ui_served) or '"index-pattern"' not in line:
        return line
    obj = json.loads(line)
    attributes = obj.get("attributes") or {}
    formats = json.loads(attributes.get("fieldFormatMap") or "{}")
    params = (formats.get("trace.id") or {}).get("params")
    if obj.get("type") != "index-pattern" or not isinstance(params, dict):
        return line
    if ui_served and jaeger_ui_url is not None:
        params["urlTemplate"] = f"{jaeger_ui_url.rstrip('/')}/trace/{{{{value}}}}"
    else:
        params["urlTemplate"] = NO_UI_URL_TEMPLATE
        params["labelTemplate"] = NO_UI_LABEL_TEMPLATE
    attributes["fieldFormatMap"] = json.dumps(formats)
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def bundle(
    directory: Path, jaeger_ui_url: str | None = None, *, jaeger_ui_served: bool = True
) -> bytes:
    """Every `*.ndjson` file of `directory`, concatenated (one object per line).

    `jaeger_ui_url` replaces the base of the data view's trace link (the files say
    http://127.0.0.1:16686); with `jaeger_ui_served` false the link opens the trace's events in
    Discover instead, labelled with the `amf1 trace` command.
    """
    lines: list[str] = []
    for path in sorted(directory.glob("*.ndjson")):
        text = path.read_text(encoding="utf-8")
        lines.extend(
            _with_jaeger(line, jaeger_ui_url, jaeger_ui_served)
            for line in text.splitlines()
            if line.strip()
        )
    if not lines:
        raise ConfigurationError(f"{directory}: no saved objects (*.ndjson)")
    return ("\n".join(lines) + "\n").encode("utf-8")


def import_saved_objects(
    url: str,
    ndjson: bytes,
    *,
    space: str = DEFAULT_SPACE,
    api_key: SecretStr | None = None,
    username: str | None = None,
    password: SecretStr | None = None,
    ca_cert: Path | None = None,
    timeout_s: float = 30.0,
) -> ImportResult:
    """Post `ndjson` to the import API of Kibana's `space`, with overwrite.

    Raises:
        BackendUnavailableError: Kibana unreachable or answering an HTTP error (the status and
            Kibana's message are in the text; never the credentials).
    """
    headers = {"kbn-xsrf": "amf1"}
    auth: httpx.BasicAuth | None = None
    if api_key is not None:
        headers["Authorization"] = f"ApiKey {api_key.get_secret_value()}"
    elif username and password is not None:
        auth = httpx.BasicAuth(username, password.get_secret_value())
    verify: ssl.SSLContext | bool = True
    if ca_cert is not None:
        verify = ssl.create_default_context(cafile=str(ca_cert))
    endpoint = import_endpoint(url, space)
    files = {"file": ("amf1.ndjson", ndjson, "application/ndjson")}
    try:
        with httpx.Client(timeout=timeout_s, verify=verify, auth=auth) as client:
            response = client.post(
                endpoint, params={"overwrite": "true"}, headers=headers, files=files
            )
    except httpx.HTTPError as exc:
        raise BackendUnavailableError(f"Kibana at {url}: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise BackendUnavailableError(
            f"Kibana import: HTTP {response.status_code}: {response.text[:300]}"
        )
    return parse_import_response(response.json())
