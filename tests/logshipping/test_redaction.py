"""Secrets never reach a log line: by key name anywhere, by known value anywhere."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

import logshipping
from logshipping import Action, Settings, emit, render
from logshipping.redaction import REDACTED, Redactor, native_event_hint_free
from logshipping.settings_base import AMF1Settings
from logshipping.settings_groups import ElasticsearchConnection, ServiceAdmin
from tests.logshipping.conftest import Captured

WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"
ES_PASSWORD = 'pa"ss\\word-42'
ADMIN_TOKEN = "admin-token-0123456789"


class _PackageSettings(AMF1Settings, ElasticsearchConnection, ServiceAdmin):
    """A package's settings with secrets of shared groups and one of its own."""

    slack_webhook_url: SecretStr | None = None


@pytest.fixture(params=[True, False], ids=["c", "python"])
def native(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Each path of the renderer's event check in turn: C (`logshipping/_hotpath.c`; skipped
    where it was not built, a failure in CI, where `uv sync` must have built it), then Python."""
    if not request.param:
        monkeypatch.setattr(render, "native_event_hint_free", None)
    elif native_event_hint_free is None:
        message = "logshipping/_hotpath.c was not built (no C compiler at `uv sync`?)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return bool(request.param)


def _configure(settings_for: Callable[..., Settings], stdout: Captured) -> None:
    _PackageSettings(slack_webhook_url=WEBHOOK, es_password=ES_PASSWORD, admin_token=ADMIN_TOKEN)
    logshipping.configure(settings_for(), stream=stdout)


def _assert_clean(stdout: Captured) -> None:
    text = stdout.getvalue().decode()
    for secret in (WEBHOOK, ES_PASSWORD, ADMIN_TOKEN, "XXXXSECRETXXXX", 'pa\\"ss\\\\word-42'):
        assert secret not in text


def test_secret_looking_keys_are_redacted_case_insensitively_at_any_depth(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """authorization, password, token, api_key, secret, webhook: top level, nested, in lists."""
    _configure(settings_for, stdout)
    emit(
        Action.SERVICE_STARTED,
        "config",
        {
            "http.request.headers.Authorization": "Bearer abc",
            "amf1.es.PASSWORD": "hunter2",
            "amf1.config": {"slack": {"Webhook_URL": "x"}, "items": [{"api_key": "k"}]},
            "amf1.client_secret": "s",
            "amf1.refresh_token": "t",
            "amf1.driver": "VER",
        },
    )
    (event,) = stdout.events()
    assert event["http.request.headers.Authorization"] == REDACTED
    assert event["amf1.es.PASSWORD"] == REDACTED
    assert event["amf1.config"] == {
        "slack": {"Webhook_URL": REDACTED},
        "items": [{"api_key": REDACTED}],
    }
    assert event["amf1.client_secret"] == REDACTED
    assert event["amf1.refresh_token"] == REDACTED
    assert event["amf1.driver"] == "VER"


def test_known_secret_values_are_redacted_in_messages_and_fields(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """A registered secret is replaced wherever it appears, also inside longer text."""
    _configure(settings_for, stdout)
    emit(Action.SERVICE_STARTED, f"posting to {WEBHOOK}", {"url.full": f"{WEBHOOK}?x=1"})
    emit(Action.SERVICE_STARTED, "auth", {"amf1.note": f"user elastic:{ES_PASSWORD}"})
    emit(Action.SERVICE_STARTED, "tok", {"amf1.note": f"X-Admin {ADMIN_TOKEN}"})
    _assert_clean(stdout)
    first, second, third = stdout.events()
    assert first["message"] == f"posting to {REDACTED}"
    assert second["amf1.note"] == f"user elastic:{REDACTED}"
    assert third["amf1.note"] == f"X-Admin {REDACTED}"


def test_secrets_in_exception_messages_and_stack_traces_are_redacted(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """error.message and error.stack_trace never leak a known secret."""
    _configure(settings_for, stdout)

    def call_slack(url: str) -> None:
        raise ConnectionError(f"cannot reach {url}")

    try:
        call_slack(WEBHOOK)
    except ConnectionError:
        structlog.get_logger().exception("slack delivery failed")
        logging.getLogger("httpx").exception("request to %s failed", WEBHOOK)
    _assert_clean(stdout)
    for event in stdout.events():
        assert REDACTED in event["error.message"]
        assert REDACTED in event["error.stack_trace"]


def test_url_encoded_secret_is_redacted(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """A secret that appears percent-encoded (e.g. in a URL) is caught too."""
    _configure(settings_for, stdout)
    emit(Action.SERVICE_STARTED, "url", {"url.full": "https://u:pa%22ss%5Cword-42@es:9200/"})
    assert "pa%22ss%5Cword-42" not in stdout.getvalue().decode()


def test_secrets_added_after_start_up_are_redacted(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """logshipping.add_secrets registers values learnt later."""
    logshipping.configure(settings_for(), stream=stdout)
    logshipping.add_secrets(["late-secret-value"])
    emit(Action.SERVICE_STARTED, "got late-secret-value")
    assert stdout.events()[0]["message"] == f"got {REDACTED}"


def test_lines_without_secrets_are_unchanged() -> None:
    """Redaction leaves ordinary bytes alone, and does nothing without registered secrets."""
    line = b'{"message":"token bucket refilled"}\n'
    assert Redactor().scrub(line) == line
    assert Redactor(["s3cr3t-value"]).scrub(line) == line


def test_too_short_secrets_are_not_registered() -> None:
    """A 1-3 character 'secret' would redact ordinary words everywhere."""
    assert not Redactor(["abc", ""]).has_secrets


def test_credentials_written_into_text_are_redacted(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """`password=...`, `api_key: ...`, a Bearer token and a URL's password, in any message."""
    logshipping.configure(settings_for(), stream=stdout)
    emit(
        Action.SERVICE_STARTED,
        "connect failed: password=hunter2x; retry with Authorization: Bearer abc.def-ghi_jkl",
        {"error.message": "GET http://elastic:s3cr3tpw@127.0.0.1:9200/ api_key='kkkk1234'"},
    )
    text = stdout.getvalue().decode()
    for secret in ("hunter2x", "abc.def-ghi_jkl", "s3cr3tpw", "kkkk1234"):
        assert secret not in text
    (event,) = stdout.events()
    assert event["message"] == (
        f"connect failed: password={REDACTED}; retry with Authorization: Bearer {REDACTED}"
    )
    assert event["error.message"] == (
        f"GET http://elastic:{REDACTED}@127.0.0.1:9200/ api_key='{REDACTED}'"
    )


def test_credentials_are_redacted_however_the_event_spells_them(
    settings_for: Callable[..., Settings], stdout: Captured, native: bool
) -> None:
    """The renderer skips the inline search only for events whose every key and string is free
    of keywords: a keyword in a field's name, a keyword completed by a control character's JSON
    escape (tab + `oken=` renders as `\\token=`), a value after the same value was seen
    clean, or a value that merely starts like an id or a timestamp still get it."""
    logshipping.configure(settings_for(), stream=stdout)
    emit(Action.SERVICE_STARTED, "clean", {"db.host": "db", "amf1.driver": "VER"})
    emit(Action.SERVICE_STARTED, "field", {"db_pwd": "hunter3x"})
    emit(Action.SERVICE_STARTED, "escape", {"db.host": "\toKEN=hunter4x"})
    emit(Action.SERVICE_STARTED, "repeat", {"db.host": "db", "amf1.driver": "token=hunter5x"})
    ids = {"trace.id": "0af7651916cd43dd8448eb211c80319c", "span.id": "b7ad6b7169203331"}
    emit(Action.SERVICE_STARTED, "ids", ids | {"db.host": "2026-12-07T14:03:35Z token=hunter6x"})
    text = stdout.getvalue().decode()
    for secret in ("hunter3x", "hunter4x", "hunter5x", "hunter6x"):
        assert secret not in text
    events = stdout.events()
    assert events[0]["db.host"] == "db"
    assert events[1]["db_pwd"] == REDACTED
    assert events[2]["db.host"] == f"\toKEN={REDACTED}"
    assert events[3]["amf1.driver"] == f"token={REDACTED}"
    assert events[4]["trace.id"] == ids["trace.id"]
    assert events[4]["db.host"] == f"2026-12-07T14:03:35Z token={REDACTED}"


class _Text(str):
    """A str subclass: rendered by its own rules, so never taken for a text seen before."""


_EVENTS: list[tuple[dict[Any, Any], bool]] = [
    ({"message": "POST /predict/qualifying 200", "http.response.status_code": 200}, True),
    ({"event.id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "span.id": "b7ad6b7169203331"}, True),
    ({"@timestamp": "2026-12-07T14:03:35.123456Z"}, True),
    ({"amf1.trace.kept": False, "amf1.model.version": None, "amf1.lap_time_s": 80.1}, True),
    ({"db_password": "x"}, False),
    ({"db.host": "token=abc"}, False),
    ({"db.host": "\toKEN=abc"}, False),
    ({"db.host": "2026-12-07T14:03:35Z token=abc"}, False),
    ({"db.host": "Zürich"}, True),
    ({"db.host": _Text("db")}, False),
    ({"db.hosts": ["db"]}, False),
    ({7: "db"}, False),
]


@pytest.mark.parametrize(("event", "free"), _EVENTS)
def test_the_event_check_finds_what_could_spell_a_credential(
    event: dict[Any, Any], free: bool, native: bool
) -> None:
    """Either path answers the same: keys and texts free of keywords (or seen before), ids,
    times, numbers, bools and nulls pass; a keyword, a control character, any other type fails
    (the renderer then searches the whole line), whether the texts are new or seen before."""
    redactor = Redactor()
    check = render.JsonRenderer(redactor)._event_hint_free
    assert (check is native_event_hint_free) is native
    for _ in range(2):
        assert check(redactor, event) is free


def test_words_that_merely_name_secrets_are_unchanged() -> None:
    """A message about a token or a variable naming one keeps its words."""
    redactor = Redactor()
    for text in (
        "AMF1_FEEDBACK_TOKEN: field required",
        "token bucket refilled",
        "amf1.token_count=5",
        "basic statistics computed",
    ):
        assert redactor.redact_text(text) == text
        assert redactor.scrub(text.encode()) == text.encode()


def test_a_string_found_clean_is_checked_again_once_a_secret_is_added() -> None:
    """The cache of clean strings (spans' repeated values) forgets them when a secret is added."""
    redactor = Redactor()
    text = "the vault answered late-registered-value"
    assert not redactor.any_may_hold_secret([text])
    redactor.add_secrets(["late-registered-value"])
    assert redactor.any_may_hold_secret([text])
    assert redactor.redact_text(text) == f"the vault answered {REDACTED}"
