"""Least privilege on the real, secured Elasticsearch: each user does its job and no more.

The native stack (`amf1 stack up`) runs Elasticsearch with security on, users in the file realm
and roles from elk/security/roles.yml; these tests use each role's own generated credentials.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import AuthorizationException, Elasticsearch

from alerting.state_store import RuleCursor, StateStore, Versioned
from amf1.demo.processes import amf1_command
from elk.security.credentials import CredentialStore, StackUser
from elk.settings import Settings
from elk.stack.layout import Layout
from elk.stack.processes import alive_record
from tests.integration.pipeline_support import (
    Pipeline,
    by_run,
    event_line,
    send_lines,
    wait_for_hits,
)
from tests.stack_fixtures import StackEndpoints, skip_or_fail

pytestmark = pytest.mark.integration

# A day no other test writes (the watcher tests use 2001-2003, prune's scratch days 2000).
SCRATCH_LOGS = "amf1-logs-2004.06.01"
SCRATCH_STATE = "amf1-watcher-state-security-test"
Client = Callable[[StackUser], Elasticsearch]


def _anonymous_status(
    stack: StackEndpoints, path: str, method: str = "GET", body: bytes | None = None
) -> int:
    url = f"{stack.es_url.rstrip('/')}{path}"
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    ca = stack.es_ca_cert
    context = ssl.create_default_context(cafile=str(ca)) if ca is not None else None
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def secured(stack: StackEndpoints) -> StackEndpoints:
    """The stack's Elasticsearch refuses anonymous requests (else: skip, or fail in CI)."""
    if _anonymous_status(stack, "/") != 401:
        skip_or_fail(
            f"Elasticsearch at {stack.es_url} answers anonymous requests: security is off "
            "(restart it with `amf1 stack down elasticsearch && amf1 stack up`)"
        )
    return stack


@pytest.fixture
def scratch(secured: StackEndpoints, es: Elasticsearch) -> Iterator[str]:
    """A log index of a day no other test uses, with one document; removed afterwards."""
    es.indices.delete(index=f"{SCRATCH_LOGS},{SCRATCH_STATE}", ignore_unavailable=True)
    es.index(index=SCRATCH_LOGS, id="seed", document={"message": "seed"}, refresh=True)
    yield SCRATCH_LOGS
    es.indices.delete(index=f"{SCRATCH_LOGS},{SCRATCH_STATE}", ignore_unavailable=True)


def _stack_passwords() -> list[str]:
    store = CredentialStore(Settings().runtime_dir)
    passwords = [p.get_secret_value() for user in StackUser if (p := store.read(user)) is not None]
    if not passwords:
        skip_or_fail("the stack made no credentials: Elasticsearch security is off")
    return passwords


def test_anonymous_requests_are_refused(secured: StackEndpoints) -> None:
    """Without credentials, reading, searching and writing all answer 401."""
    assert _anonymous_status(secured, "/_cluster/health") == 401
    assert _anonymous_status(secured, "/amf1-logs-*/_search") == 401
    doc = b'{"message": "anonymous"}'
    assert _anonymous_status(secured, f"/{SCRATCH_LOGS}/_doc", "POST", doc) == 401


def test_the_collector_writes_as_the_pipeline_user(
    secured: StackEndpoints, es: Elasticsearch
) -> None:
    """An event sent to the real collector is indexed into today's amf1-logs-* index."""
    run_id = uuid.uuid4().hex
    event_id, line = event_line(run_id)
    pipeline = Pipeline(
        "collector", secured.log_tcp_host, secured.log_tcp_port, stop=_no, start=_no
    )
    send_lines(pipeline, [line])
    (hit,) = wait_for_hits(es, by_run(run_id), 1)
    assert hit["_id"] == event_id
    assert hit["_index"] == f"amf1-logs-{datetime.now(UTC):%Y.%m.%d}"


def _no() -> None:
    raise AssertionError("this test never stops or starts the collector")


def test_pipeline_writer_adds_documents_and_nothing_else(scratch: str, es_as: Client) -> None:
    """The writer creates documents; reading, overwriting and deleting are refused (403)."""
    writer = es_as(StackUser.PIPELINE)
    writer.create(index=scratch, id=uuid.uuid4().hex, document={"message": "written"})
    with pytest.raises(AuthorizationException):
        writer.search(index="amf1-logs-*")
    with pytest.raises(AuthorizationException):
        writer.get(index=scratch, id="seed")
    with pytest.raises(AuthorizationException):
        writer.index(index=scratch, id="seed", document={"message": "overwritten"})
    with pytest.raises(AuthorizationException):
        writer.delete(index=scratch, id="seed")
    with pytest.raises(AuthorizationException):
        writer.indices.delete(index=scratch)
    with pytest.raises(AuthorizationException):
        writer.index(index=SCRATCH_STATE, document={"kind": "forged"})


def test_watcher_reads_the_logs_and_keeps_its_state(scratch: str, es_as: Client) -> None:
    """The watcher searches the logs and creates, writes and reads its own state index."""
    watcher = es_as(StackUser.WATCHER)
    found = watcher.search(index="amf1-logs-*", query={"ids": {"values": ["seed"]}})
    assert found["hits"]["total"]["value"] == 1
    store = StateStore(watcher, SCRATCH_STATE)
    store.ensure_index()
    cursor = RuleCursor(rule="security-test", active_groups=["a"])
    store.put_cursor(Versioned(RuleCursor(rule="security-test")), cursor)
    assert store.get_cursor("security-test").doc.active_groups == ["a"]


def test_watcher_cannot_write_or_delete_logs(scratch: str, es_as: Client) -> None:
    """A forged event through the watcher's credentials is refused (403)."""
    watcher = es_as(StackUser.WATCHER)
    with pytest.raises(AuthorizationException):
        watcher.index(index=scratch, document={"event.action": "model-loaded"})
    with pytest.raises(AuthorizationException):
        watcher.delete(index=scratch, id="seed")
    with pytest.raises(AuthorizationException):
        watcher.indices.delete(index=scratch)


def test_analyst_reads_and_writes_nothing(scratch: str, es_as: Client) -> None:
    """The analyst searches logs and cluster health; any write or delete is refused (403)."""
    analyst = es_as(StackUser.ANALYST)
    found = analyst.search(index="amf1-logs-*", query={"ids": {"values": ["seed"]}})
    assert found["hits"]["total"]["value"] == 1
    assert analyst.cluster.health()["status"] in {"yellow", "green"}
    with pytest.raises(AuthorizationException):
        analyst.index(index=scratch, document={"message": "analyst"})
    with pytest.raises(AuthorizationException):
        analyst.delete(index=scratch, id="seed")
    with pytest.raises(AuthorizationException):
        analyst.indices.delete(index=scratch)
    with pytest.raises(AuthorizationException):
        analyst.index(index=SCRATCH_STATE, document={"kind": "alert"})


def test_jaeger_user_cannot_touch_the_logs(scratch: str, es_as: Client) -> None:
    """Jaeger's storage user neither reads nor writes amf1-logs-* (403)."""
    jaeger = es_as(StackUser.JAEGER)
    with pytest.raises(AuthorizationException):
        jaeger.search(index=scratch)
    # A pattern resolves to the indices the user may read: none of the logs.
    assert jaeger.search(index="amf1-logs-*")["hits"]["total"]["value"] == 0
    with pytest.raises(AuthorizationException):
        jaeger.index(index=scratch, document={"message": "span"})


def test_credential_files_are_private(secured: StackEndpoints) -> None:
    """Each generated password is a 0600 file in a 0700 directory."""
    store = CredentialStore(Settings().runtime_dir)
    assert oct(store.directory.stat().st_mode & 0o777) == "0o700"
    for user in StackUser:
        assert oct(store.path(user).stat().st_mode & 0o777) == "0o600", user


def test_no_password_on_any_command_line(secured: StackEndpoints) -> None:
    """No process of this machine has a stack password in its argv; the collector has only
    the pipeline writer's credentials, Elasticsearch none."""
    passwords = _stack_passwords()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue  # the process ended
        assert not any(p in argv for p in passwords), cmdline.parent.name
    layout = Layout.from_settings(Settings())
    collector = alive_record(layout.pid_file("collector"))
    if collector is not None:
        environ = _environ(collector.pid)
        assert environ.get("AMF1_ES_USERNAME") == str(StackUser.PIPELINE)
    elasticsearch = alive_record(layout.pid_file("elasticsearch"))
    if elasticsearch is not None:
        assert "AMF1_ES_PASSWORD" not in _environ(elasticsearch.pid)


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def test_stack_up_prints_no_password(secured: StackEndpoints) -> None:
    """`amf1 stack up elasticsearch` on the running stack says nothing secret."""
    passwords = _stack_passwords()
    result = subprocess.run(
        amf1_command("stack", "up", "elasticsearch"),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "AMF1_STACK_MODE": "native"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "elasticsearch" in output
    assert not any(p in output for p in passwords)
