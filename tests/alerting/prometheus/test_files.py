"""The Prometheus and Alertmanager files hold no secret, and the compose variant matches."""

from __future__ import annotations

import yaml

from tests.alerting.prometheus.tools import PROMETHEUS_DIR


def test_the_compose_prometheus_config_differs_only_in_host_names() -> None:
    """Same jobs, rules, intervals and ports; only the hosts are the compose network's."""
    native = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    compose = yaml.safe_load((PROMETHEUS_DIR / "prometheus.compose.yml").read_text())

    def without_hosts(config: dict[str, object]) -> str:
        text = yaml.safe_dump(config)
        for host in ("127.0.0.1", "localhost", "service", "watcher", "alertmanager"):
            text = text.replace(f"{host}:", "HOST:")
        return text

    assert without_hosts(native) == without_hosts(compose)


def test_alertmanager_secrets_are_files_never_values() -> None:
    """Every receiver's secret is a `*_file` field; no URL, key or password is inline."""
    config = yaml.safe_load((PROMETHEUS_DIR / "alertmanager.yml").read_text())
    inline = {"api_url", "routing_key", "service_key", "auth_password", "smtp_auth_password"}
    found: list[str] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in inline:
                    found.append(f"{path}.{key}")
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{path}[{index}]")

    walk(config, "alertmanager.yml")
    assert found == []
    channels = {
        slack["channel"]
        for receiver in config["receivers"]
        for slack in receiver.get("slack_configs", [])
    }
    assert channels == {"#amf1-alerts", "#amf1-critical", "#amf1-data"}
