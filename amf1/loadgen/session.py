"""One scenario run end to end: valid values from the service, set-up actions, load, tear-down.

`amf1 loadgen` and `amf1 demo` both call `run_scenario`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from amf1.loadgen import actions
from amf1.loadgen.client import Connection, LoadgenError, Request, Target
from amf1.loadgen.payloads import PayloadFactory, training_source
from amf1.loadgen.runner import LoadPlan, Scenario, run_load
from amf1.loadgen.scenarios import (
    BadRequestsScenario,
    DriftScenario,
    FeedbackScenario,
    MixedScenario,
    NormalScenario,
    SlowScenario,
)

SLOW_HEADER: Final = "X-AMF1-Test-Delay-Ms"
SCENARIOS: Final = (
    "normal",
    "bad-requests",
    "slow",
    "corrupt-model",
    "drift",
    "feedback-mae",
    "mixed",
    "recovery",
)


@dataclass(frozen=True, slots=True)
class Options:
    """What some scenarios need beyond the plan.

    Attributes:
        models_dir: the service's models directory (corrupt-model edits a file in it).
        model: which model corrupt-model breaks.
        admin_token: bearer token of the reload endpoint.
        feedback_token: bearer token of `POST /feedback` (AMF1_FEEDBACK_TOKEN).
        feedback_error_s: how far feedback lap times are from the predictions.
        slow_delay_ms: the delay the slow scenario asks for, through the service's test-only
            `X-AMF1-Test-Delay-Ms` header (honoured only with AMF1_TEST_DELAY_ENABLED=true).
    """

    models_dir: Path = Path("models")
    model: str = "stage1-qualifying"
    admin_token: str | None = None
    feedback_token: str | None = None
    feedback_error_s: float = 0.6
    slow_delay_ms: int = 400


async def _get_json(connection: Connection, path: str) -> Any:
    response = await connection.send(Request("GET", path))
    return orjson.loads(response.body) if response.status == 200 else None


async def payloads_for(target: Target) -> PayloadFactory:
    """Request bodies matching what the service at `target` knows and was trained on.

    Raises:
        LoadgenError: the service does not answer.
    """
    connection = Connection(target, timeout_s=10)
    try:
        drivers = await _get_json(connection, "/drivers") or {}
        circuits = await _get_json(connection, "/circuits") or {}
        models = await _get_json(connection, "/models") or {}
    except (OSError, TimeoutError, orjson.JSONDecodeError) as exc:
        raise LoadgenError(f"cannot reach the service at {target.url}: {exc!r}") from exc
    finally:
        await connection.close()
    sources = [
        (entry.get("training_data") or {}).get("source")
        for entry in models.get("models", [])
        if isinstance(entry, dict)
    ]
    seasons, seed = training_source(next((s for s in sources if s), None))
    return PayloadFactory.synthetic(
        drivers.get("drivers") or None, circuits.get("circuits") or None, seasons=seasons, seed=seed
    )


def build_scenario(name: str, payloads: PayloadFactory, options: Options) -> Scenario:
    """The scenario object for `name` (corrupt-model sends normal traffic at a broken model)."""
    drifted = dataclasses.replace(payloads, shift={})
    factories: dict[str, Callable[[], Scenario]] = {
        "normal": lambda: NormalScenario(payloads),
        "corrupt-model": lambda: NormalScenario(payloads, race_share=0.3),
        "bad-requests": lambda: BadRequestsScenario(payloads),
        "slow": lambda: SlowScenario(payloads, (SLOW_HEADER, str(options.slow_delay_ms))),
        "drift": lambda: DriftScenario(drifted),
        "feedback-mae": lambda: FeedbackScenario(
            payloads, options.feedback_error_s, token=options.feedback_token
        ),
        "recovery": lambda: FeedbackScenario(
            payloads, error_s=0.05, honest=True, token=options.feedback_token
        ),
        "mixed": lambda: MixedScenario(
            [
                (NormalScenario(payloads), 0.6),
                (BadRequestsScenario(payloads), 0.1),
                (DriftScenario(drifted), 0.15),
                (
                    FeedbackScenario(
                        payloads, options.feedback_error_s, token=options.feedback_token
                    ),
                    0.15,
                ),
            ]
        ),
    }
    if name not in factories:
        raise LoadgenError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    scenario = factories[name]()
    scenario.name = name
    return scenario


async def run_scenario(
    target: Target,
    name: str,
    plan: LoadPlan,
    options: Options,
    *,
    progress: Callable[[str], None] = lambda _line: None,
    payloads: PayloadFactory | None = None,
) -> dict[str, Any]:
    """Run scenario `name` against `target`; returns the load summary plus any actions taken."""
    if payloads is None:
        payloads = await payloads_for(target)
    scenario = build_scenario(name, payloads, options)
    if name != "corrupt-model":
        return await run_load(target, scenario, plan)
    steps: list[dict[str, Any]] = []
    progress(f"corrupting {actions.model_file(options.models_dir, options.model)}")
    actions.corrupt_model(options.models_dir, options.model)
    try:
        reload = await actions.reload_models(target, options.admin_token)
        steps.append({"step": "reload after corruption", **dataclasses.asdict(reload)})
        progress(f"reload -> HTTP {reload.status}, loaded {reload.loaded} {reload.errors}")
        summary = await run_load(target, scenario, plan)
    finally:
        actions.restore_model(options.models_dir, options.model)
        reload = await actions.reload_models(target, options.admin_token)
        steps.append({"step": "reload after restore", **dataclasses.asdict(reload)})
        progress(f"model restored; reload -> HTTP {reload.status}, loaded {reload.loaded}")
    summary["actions"] = steps
    return summary
