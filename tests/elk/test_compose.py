"""docker-compose.elk.yml is a valid compose file that keeps every password out of the repo."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.elk.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SECRETS = ("ELASTIC_PASSWORD", "KIBANA_PASSWORD", "LOGSTASH_WRITER_PASSWORD")


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def _config(env_file: Path) -> subprocess.CompletedProcess[str]:
    command = _compose_command()
    if command is None:
        pytest.skip("no compose client (`docker compose` or `docker-compose`) on this machine")
    return subprocess.run(
        [*command, "--env-file", str(env_file), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
    )


def _env_with_values(tmp_path: Path) -> Path:
    filler = "dummy-value-for-config-check-0123456789"
    lines = [
        line + filler if line.endswith("=") and not line.startswith("#") else line
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    ]
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return env_file


def test_compose_file_is_valid_once_env_is_filled(tmp_path: Path) -> None:
    """`compose config` accepts the file with the variables .env.example documents."""
    result = _config(_env_with_values(tmp_path))
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_passwords(tmp_path: Path) -> None:
    """With .env.example as shipped (no passwords) compose stops and names what is missing."""
    result = _config(ENV_EXAMPLE)
    assert result.returncode != 0
    assert "set ELASTIC_PASSWORD in .env" in result.stderr


def test_no_password_is_written_in_the_repository() -> None:
    """The example env leaves every secret empty; the compose file only references variables."""
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    for name in SECRETS:
        assert example[name] == ""
        assert f"${{{name}:?" in COMPOSE.read_text(encoding="utf-8")


def test_every_long_running_service_has_a_health_check_and_named_volumes() -> None:
    """Elasticsearch, Logstash, Kibana, Jaeger and the service report health; data is in volumes."""
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    for name in ("elasticsearch", "logstash", "kibana", "jaeger", "service"):
        assert "healthcheck" in services[name], name
    for name in ("elasticsearch", "logstash", "kibana"):
        assert any(not volume.startswith(".") for volume in services[name]["volumes"]), name
    assert {"watcher", "logstash"} <= set(services)
