"""Prometheus and Alertmanager for real: Prometheus scrapes a running `amf1 serve`, a model that
failed to load fires AMF1ModelNotLoaded in Prometheus's API, and Alertmanager delivers it to
#amf1-critical (a local recording Slack) and PagerDuty (the same recorder), not to #amf1-alerts.

Short scrape and evaluation intervals (1 s); the rules, routes and receivers are the shipped
ones (the rules' group interval shortened, the secrets as local files, nothing off loopback).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from elk.stack.alertmanager import write_local_config
from service.features import STAGE2_NAME
from service.metadata import MODEL_FILE
from service.model_store import model_directory
from tests.alerting.prometheus.tools import PROMETHEUS_DIR, binary
from tests.alerting.slack_server import SlackServer, slack_fixture  # noqa: F401 - fixture
from tests.ports import free_port
from tests.service.conftest import models_dir, small_table, trained  # noqa: F401 - fixtures
from tests.service.test_serve_workers import _serve

START_S = 60.0
FIRE_S = 150.0  # `for: 1m` plus scrapes and evaluations on a loaded machine
DELIVER_S = 60.0


@contextmanager
def _process(argv: list[str], log: Path, ready_url: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise TimeoutError(f"{argv[0]} not ready within {START_S:.0f} s")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _prometheus_config(tmp_path: Path, service: str, alertmanager: str) -> Path:
    rules = yaml.safe_load((PROMETHEUS_DIR / "rules" / "amf1.rules.yml").read_text())
    for group in rules["groups"]:
        group["interval"] = "1s"
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"] |= {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(tmp_path / "rules.yml")]
    config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [alertmanager]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    jobs["amf1-service"]["static_configs"][0]["targets"] = [service]
    config["scrape_configs"] = [jobs["amf1-service"]]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _alertmanager_config(tmp_path: Path, slack: SlackServer) -> Path:
    runtime = tmp_path / "alertmanager"
    path = write_local_config(
        PROMETHEUS_DIR / "alertmanager.yml", runtime, f"http://127.0.0.1:{slack.port}"
    )
    for name, channel in (
        ("slack-alerts-webhook", "alerts"),
        ("slack-data-webhook", "data"),
        ("slack-critical-webhook", "critical"),
    ):
        (runtime / "secrets" / name).write_text(slack.url(channel))
    (runtime / "secrets" / "pagerduty-routing-key").write_text("local-test-key")
    (runtime / "secrets" / "smtp-password").write_text("local-test-password")
    config = yaml.safe_load(path.read_text())
    config["route"] |= {"group_wait": "1s", "group_interval": "1s"}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _firing(prometheus: str) -> list[dict[str, Any]]:
    alerts = httpx.get(f"{prometheus}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return [a for a in alerts if a["state"] == "firing"]


@pytest.mark.timeout(420)
def test_a_broken_model_fires_in_prometheus_and_reaches_the_critical_channel(
    models_dir: Path,  # noqa: F811 - fixture
    tmp_path: Path,
    slack: SlackServer,
) -> None:
    """stage-2's model file is missing: /metrics says amf1_model_loaded 0, Prometheus fires
    AMF1ModelNotLoaded (critical) after its minute, Alertmanager posts it to #amf1-critical and
    to PagerDuty, and nothing to #amf1-alerts."""
    (model_directory(models_dir, STAGE2_NAME) / MODEL_FILE).unlink()
    prometheus_bin, alertmanager_bin = binary("prometheus"), binary("alertmanager")
    am_port, prom_port = free_port(), free_port()
    alertmanager = f"http://127.0.0.1:{am_port}"
    prometheus = f"http://127.0.0.1:{prom_port}"
    with _serve(models_dir, tmp_path / "serve.log", workers=2) as (service, _):
        body = httpx.get(f"{service}/metrics", timeout=10).text
        assert f'amf1_model_loaded{{model="{STAGE2_NAME}"}} 0.0' in body
        am_argv = [str(alertmanager_bin), f"--config.file={_alertmanager_config(tmp_path, slack)}"]
        am_argv += [
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
        ]
        am_argv += ["--cluster.listen-address="]
        prom_config = _prometheus_config(
            tmp_path, service.removeprefix("http://"), f"127.0.0.1:{am_port}"
        )
        prom_argv = [str(prometheus_bin), f"--config.file={prom_config}"]
        prom_argv += [
            f"--storage.tsdb.path={tmp_path / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ]
        with (
            _process(am_argv, tmp_path / "alertmanager.log", f"{alertmanager}/-/ready"),
            _process(prom_argv, tmp_path / "prometheus.log", f"{prometheus}/-/ready"),
        ):
            deadline = time.monotonic() + FIRE_S
            firing: list[dict[str, Any]] = []
            while time.monotonic() < deadline and not firing:
                firing = [
                    a
                    for a in _firing(prometheus)
                    if a["labels"]["alertname"] == "AMF1ModelNotLoaded"
                ]
                time.sleep(1)
            assert firing, f"AMF1ModelNotLoaded not firing within {FIRE_S:.0f} s"
            assert (
                firing[0]["labels"] | {"model": STAGE2_NAME, "severity": "critical"}
                == firing[0]["labels"]
            )
            assert {a["labels"].get("model") for a in firing} == {STAGE2_NAME}

            deadline = time.monotonic() + DELIVER_S
            while time.monotonic() < deadline:
                paths = [r.path for r in slack.received]
                if any("/critical/" in p for p in paths) and any("pagerduty" in p for p in paths):
                    break
                time.sleep(0.5)
            critical = [r for r in slack.received if "/critical/" in r.path]
            assert critical, f"nothing reached #amf1-critical: {[r.path for r in slack.received]}"
            message = yaml.safe_dump(critical[0].body)
            assert "AMF1ModelNotLoaded" in message
            assert f"{STAGE2_NAME} is not loaded in every worker" in message
            assert critical[0].body["channel"] == "#amf1-critical"
            assert any("pagerduty" in r.path for r in slack.received)
            assert not [r for r in slack.received if "/alerts/" in r.path]
