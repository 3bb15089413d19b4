"""Install the `amf1-logs` index template and, where the server has lifecycle management, its
30-day retention policy. Idempotent: running it again changes nothing that is already right.

The native stack runs Elasticsearch's stripped integ-test distribution, which has no index
lifecycle management (ILM); a full Elasticsearch 8/9 has it. The installer asks the server rather
than guessing from its version, and on a server without ILM retention is `prune` (delete daily
indices older than the retention), which `amf1 elk prune` runs.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from elasticsearch import ApiError, Elasticsearch, TransportError

from elk import pipeline_rules

TEMPLATE_NAME: Final = "amf1-logs"
POLICY_NAME: Final = "amf1-logs-30d"
RETENTION_DAYS: Final = 30
_DIR = Path(__file__).parent / "index"
TEMPLATE_FILE: Final = _DIR / "amf1-logs.template.json"
POLICY_FILE: Final = _DIR / "amf1-logs-30d.ilm.json"

# Status codes with which a server says "no such API here": the integ-test distribution answers
# 405 (the path falls through to another handler), others 400 "no handler found", 404 or 410.
_ABSENT = frozenset({400, 404, 405, 410})


class InstallError(Exception):
    """The template or policy could not be installed; the message says which and why."""


@dataclass(slots=True)
class Report:
    """What `install` found and did, for the CLI to print."""

    ilm_supported: bool
    actions: list[str] = field(default_factory=list)


def load_json(path: Path) -> dict[str, Any]:
    """Read one of the shipped JSON bodies; raises InstallError naming the file if it is broken."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InstallError(f"{path}: cannot read JSON body: {exc}") from exc
    if not isinstance(body, dict):
        raise InstallError(f"{path}: expected a JSON object")
    return body


def ilm_supported(client: Elasticsearch) -> bool:
    """Return whether the server has index lifecycle management (asks `GET _ilm/status`)."""
    try:
        client.ilm.get_status()
    except ApiError as exc:
        if exc.meta.status in _ABSENT:
            return False
        raise
    return True


def template_body(*, with_ilm: bool) -> dict[str, Any]:
    """Return the index template, naming the lifecycle policy only when the server has ILM."""
    body = copy.deepcopy(load_json(TEMPLATE_FILE))
    if body.get("index_patterns") != [pipeline_rules.INDEX_PATTERN]:
        raise InstallError(
            f"{TEMPLATE_FILE}: index_patterns must be [{pipeline_rules.INDEX_PATTERN!r}]"
        )
    if with_ilm:
        body["template"]["settings"]["index"]["lifecycle"] = {"name": POLICY_NAME}
    return body


def _install_policy(client: Elasticsearch, report: Report) -> None:
    wanted = load_json(POLICY_FILE)["policy"]
    try:
        current = client.ilm.get_lifecycle(name=POLICY_NAME)[POLICY_NAME]["policy"]
    except ApiError as exc:
        if exc.meta.status != 404:
            raise
        current = None
    if current is not None and current.get("phases") == wanted["phases"]:
        report.actions.append(f"lifecycle policy {POLICY_NAME}: unchanged")
        return
    client.ilm.put_lifecycle(name=POLICY_NAME, policy=wanted)
    report.actions.append(f"lifecycle policy {POLICY_NAME}: installed (delete after 30 d)")


def _install_template(client: Elasticsearch, report: Report) -> None:
    wanted = template_body(with_ilm=report.ilm_supported)
    # The server hands mappings back re-shaped (dotted names expanded, numbers as strings), so
    # "already right" is judged by a checksum of what we sent, kept in the template's _meta.
    wanted["_meta"] = {**wanted.get("_meta", {}), "checksum": _checksum(wanted)}
    try:
        found = client.indices.get_index_template(name=TEMPLATE_NAME)["index_templates"]
    except ApiError as exc:
        if exc.meta.status != 404:
            raise
        found = []
    current_meta = found[0]["index_template"].get("_meta", {}) if found else {}
    if current_meta.get("checksum") == wanted["_meta"]["checksum"]:
        report.actions.append(f"index template {TEMPLATE_NAME}: unchanged")
        return
    client.indices.put_index_template(name=TEMPLATE_NAME, **wanted)
    report.actions.append(
        f"index template {TEMPLATE_NAME}: installed for {pipeline_rules.INDEX_PATTERN}"
    )


def _checksum(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


def install(client: Elasticsearch) -> Report:
    """Install the policy (where supported) and the template; returns what was done.

    Raises:
        InstallError: the server refused a body (the message names it and quotes the reason).
    """
    try:
        report = Report(ilm_supported=ilm_supported(client))
        if report.ilm_supported:
            _install_policy(client, report)
        else:
            report.actions.append(
                "lifecycle management not supported by this server: retention by `amf1 elk prune`"
            )
        _install_template(client, report)
    except ApiError as exc:
        raise InstallError(f"Elasticsearch refused the set-up: {exc.meta.status} {exc}") from exc
    except TransportError as exc:
        raise InstallError(f"Elasticsearch unreachable: {exc}") from exc
    return report


def prune(
    client: Elasticsearch, *, older_than_days: int = RETENTION_DAYS, now: datetime | None = None
) -> list[str]:
    """Delete daily `amf1-logs-*` indices whose UTC day is more than `older_than_days` ago.

    Returns the deleted index names. Indices whose name carries no date are left alone.
    """
    cutoff = (now or datetime.now(UTC)).date() - timedelta(days=older_than_days)
    names = client.indices.get(index=pipeline_rules.INDEX_PATTERN, expand_wildcards="open,closed")
    doomed = []
    for name in sorted(names):
        try:
            # The name's date is already a UTC day; only its calendar date matters here.
            day = date.fromisoformat(
                name.removeprefix(pipeline_rules.INDEX_PREFIX).replace(".", "-")
            )
        except ValueError:
            continue
        if day < cutoff:
            doomed.append(name)
    for name in doomed:
        client.indices.delete(index=name)
    return doomed
