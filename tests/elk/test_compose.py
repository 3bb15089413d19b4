"""docker-compose.elk.yml, as a real compose implementation reads it: valid, secrets kept out of
the repository and off command lines, each container given only its own credentials.

The compose CLI is built from its Go module into the stack's cache (`amf1 stack up`, or `amf1
stack build compose`); `config` needs no Docker engine. Without the binary these tests skip,
and fail under CI=true.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from elk.settings import Settings
from elk.stack.layout import Layout
from tests.stack_fixtures import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.elk.yml"
ENV_EXAMPLE = ROOT / ".env.example"
ROLES = ROOT / "elk" / "security" / "roles.yml"
# Every Elasticsearch/Kibana credential of .env, and the container whose own it is.
PASSWORDS = {
    "ELASTIC_PASSWORD": "set-up one-shots",
    "KIBANA_PASSWORD": "kibana",
    "PIPELINE_PASSWORD": "logstash",
    "WATCHER_PASSWORD": "watcher",
    "JAEGER_ES_PASSWORD": "jaeger",
    "ANALYST_PASSWORD": "people in Kibana",
}
_SETUP_ONE_SHOTS = {"es-users", "elk-setup", "kibana-setup", "elasticsearch"}


def _compose() -> Path:
    binary = Layout.from_settings(Settings()).compose_binary
    if not binary.exists():
        skip_or_fail(f"no compose client: {binary} not built; run `amf1 stack build compose`")
    return binary


def _run(*args: str | Path, compose_file: Path = COMPOSE) -> subprocess.CompletedProcess[str]:
    argv = [_compose(), "--project-directory", ROOT, "-f", compose_file, *args]
    return subprocess.run(
        [str(arg) for arg in argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        # Nothing from the developer's shell (a stray ELASTIC_PASSWORD) reaches compose.
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT), "DOCKER_CONFIG": "/nonexistent"},
    )


def _value(variable: str) -> str:
    """A distinct value per variable, with characters a careless script would break on."""
    return f'dummy-{variable.lower()}-q"b\\s-0123456789'


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    """.env.example with every empty variable given its own dummy value."""
    # Single quotes keep the double quote and the backslash literal in a .env file.
    lines = [
        f"{line}'{_value(line[:-1])}'" if line.endswith("=") and not line.startswith("#") else line
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    ]
    path = tmp_path / ".env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def config(env_file: Path) -> dict[str, Any]:
    """The file as compose resolves it (`config --format json`), passwords filled in."""
    result = _run("--env-file", env_file, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def _strings(node: object) -> list[str]:
    """Every string in a parsed JSON value (keys included)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for key, value in node.items() for text in [key, *_strings(value)]]
    if isinstance(node, list):
        return [text for item in node for text in _strings(item)]
    return []


def _holds(node: object, variable: str) -> bool:
    return any(_value(variable) in text for text in _strings(node))


def _credentials(config: dict[str, Any], name: str) -> set[str]:
    """The .env passwords a service can see: in its environment, or as a secret file."""
    service = config["services"][name]
    seen = {variable for variable in PASSWORDS if _holds(service.get("environment"), variable)}
    for secret in service.get("secrets") or []:
        seen.add(config["secrets"][secret["source"]]["environment"])
    return seen & set(PASSWORDS)


def test_compose_file_is_valid_once_env_is_filled(env_file: Path) -> None:
    """`compose config` accepts the file with the variables .env.example documents."""
    result = _run("--env-file", env_file, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_passwords() -> None:
    """With .env.example as shipped (no passwords) compose stops and names what is missing."""
    result = _run("--env-file", ENV_EXAMPLE, "config", "-q")
    assert result.returncode != 0
    assert "in .env" in result.stderr
    assert "PASSWORD" in result.stderr


def test_compose_rejects_an_invalid_file(env_file: Path, tmp_path: Path) -> None:
    """A misspelt key fails validation, naming it: the check is compose's schema, not ours."""
    broken = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    broken["services"]["watcher"]["restrat"] = "always"
    path = tmp_path / "docker-compose.elk.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = _run("--env-file", env_file, "config", "-q", compose_file=path)
    assert result.returncode != 0
    assert "restrat" in result.stderr


def test_no_password_is_written_in_the_repository() -> None:
    """The example env leaves every secret empty."""
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    for name in PASSWORDS:
        assert example[name] == "", name


def test_no_password_is_on_a_command_line(config: dict[str, Any]) -> None:
    """No command, entrypoint or health check holds a password or expands one onto argv."""
    for name, service in config["services"].items():
        argv = [service.get("command"), service.get("entrypoint"), service.get("healthcheck")]
        for variable in PASSWORDS:
            assert not _holds(argv, variable), (name, variable)
        assert not [text for text in _strings(argv) if "PASSWORD" in text], name


def test_the_service_gets_no_elasticsearch_credentials(config: dict[str, Any]) -> None:
    """The prediction service never talks to Elasticsearch, so it is given no way to."""
    service = config["services"]["service"]
    assert not [key for key in service["environment"] if key.startswith("AMF1_ES_")]
    assert _credentials(config, "service") == set()
    assert not service.get("secrets")


@pytest.mark.parametrize(
    ("name", "username_variable", "user", "password"),
    [
        ("logstash", "AMF1_ES_USERNAME", "amf1-pipeline", "PIPELINE_PASSWORD"),
        ("watcher", "AMF1_ES_USERNAME", "amf1-watcher", "WATCHER_PASSWORD"),
        ("jaeger", "ES_USERNAME", "amf1-jaeger", "JAEGER_ES_PASSWORD"),
        ("kibana", "ELASTICSEARCH_USERNAME", "kibana_system", "KIBANA_PASSWORD"),
    ],
)
def test_each_process_sees_only_its_own_credential(
    config: dict[str, Any], name: str, username_variable: str, user: str, password: str
) -> None:
    """Logstash, the watcher, Jaeger and Kibana each run as their own user with one password."""
    assert config["services"][name]["environment"][username_variable] == user
    assert _credentials(config, name) == {password}


def test_only_the_set_up_one_shots_hold_the_superuser_password(config: dict[str, Any]) -> None:
    """`elastic` is for set-up (users, index template, Kibana import), not for a running process."""
    holders = {
        name for name in config["services"] if "ELASTIC_PASSWORD" in _credentials(config, name)
    }
    assert holders <= _SETUP_ONE_SHOTS
    assert "es-users" in holders


def test_elasticsearch_runs_secured_with_the_committed_roles(config: dict[str, Any]) -> None:
    """Security is on and the roles are elk/security/roles.yml, mounted as file-realm roles."""
    elasticsearch = config["services"]["elasticsearch"]
    assert elasticsearch["environment"]["xpack.security.enabled"] == "true"
    mounts = {
        volume["target"]: volume.get("source")
        for volume in elasticsearch["volumes"]
        if volume["type"] == "bind"
    }
    assert mounts["/usr/share/elasticsearch/config/roles.yml"] == str(ROLES)


def test_every_long_running_service_has_a_health_check_and_named_volumes(
    config: dict[str, Any],
) -> None:
    """Elasticsearch, Logstash, Kibana, Jaeger and the service report health; data is in volumes."""
    services = config["services"]
    for name in ("elasticsearch", "logstash", "kibana", "jaeger", "service"):
        assert services[name].get("healthcheck", {}).get("test"), name
    for name in ("elasticsearch", "logstash", "kibana"):
        assert any(volume["type"] == "volume" for volume in services[name]["volumes"]), name
    assert {"watcher", "logstash"} <= set(services)
