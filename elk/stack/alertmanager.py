"""The native stack's Alertmanager configuration: prometheus/alertmanager.yml kept on loopback.

The shipped file names the deployment's secret files (/etc/alertmanager/secrets/...) and real
endpoints (an SMTP relay, PagerDuty's events API). The local stack runs the same routes and
receivers with the secrets read from its runtime directory and every non-Slack endpoint pointed
at `sink_url` (by default a closed loopback port: the delivery fails and is logged, nothing
leaves the machine). Slack webhooks come from the secret files, as deployed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEPLOYED_SECRETS_DIR = "/etc/alertmanager/secrets"
# Nothing listens there: deliveries to it fail at once, on loopback.
CLOSED_LOOPBACK = "127.0.0.1:9"


def local_config(source: Path, secrets_dir: Path, sink_url: str | None = None) -> dict[str, Any]:
    """`source` with secret files under `secrets_dir` and PagerDuty/SMTP on loopback.

    Args:
        source: the shipped alertmanager.yml.
        secrets_dir: where the local secret files are (same names as deployed).
        sink_url: base URL receiving PagerDuty events (`<sink_url>/pagerduty`); default none.
    """
    config: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: rewrite(value) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if isinstance(node, str) and node.startswith(DEPLOYED_SECRETS_DIR + "/"):
            return str(secrets_dir / node.removeprefix(DEPLOYED_SECRETS_DIR + "/"))
        return node

    config = rewrite(config)
    config["global"]["smtp_smarthost"] = CLOSED_LOOPBACK
    config["global"]["smtp_require_tls"] = False
    pagerduty_url = f"{sink_url}/pagerduty" if sink_url else f"http://{CLOSED_LOOPBACK}/"
    for receiver in config["receivers"]:
        for pagerduty in receiver.get("pagerduty_configs", []):
            pagerduty["url"] = pagerduty_url
    return config


def write_local_config(source: Path, runtime_dir: Path, sink_url: str | None = None) -> Path:
    """Write `local_config` into `runtime_dir` (secrets expected in `runtime_dir/secrets`)."""
    secrets = runtime_dir / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    path = runtime_dir / "alertmanager.yml"
    text = yaml.safe_dump(local_config(source, secrets, sink_url), sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path
