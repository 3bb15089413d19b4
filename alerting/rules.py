"""The rules file: typed models, validated on load with errors naming the file, rule and field.

A rule references a saved search by id and adds a condition on what the search finds in a
sliding window: a count, the ratio of two searches, or a metric (max/min/avg/latest/percentile)
of a field, optionally per group (a field's value) with the groups that must be present listed.
Severity comes from two thresholds: crossing `critical` makes the alert critical (which
suppresses the same rule's warning), crossing only `warning` makes it a warning.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from alerting.errors import ConfigurationError

Severity = Literal["warning", "critical"]
# `data`: data quality and the pipeline that feeds it (routed to #amf1-data); `general`: the rest.
Category = Literal["general", "data"]
Op = Literal["gt", "gte", "lt", "lte"]
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
OP_SYMBOL = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _seconds(value: Any) -> Any:
    """Accept `90`, `"90s"`, `"5m"`, `"1h"` for durations (in seconds)."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration like 30s, 5m, 1h")
        return float(match.group(1)) * _UNIT_S[match.group(2) or "s"]
    return value


Seconds = Annotated[float, BeforeValidator(_seconds), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountCondition(_Strict):
    """Number of hits in the window (`op: gt, critical: 0` is "any hit")."""

    type: Literal["count"]


class RatioCondition(_Strict):
    """Hits of `numerator` (another saved search) / hits of the rule's search."""

    type: Literal["ratio"]
    numerator: str = Field(min_length=1)
    min_sample: int = Field(default=1, ge=1)


class MetricCondition(_Strict):
    """An aggregate of a numeric (or boolean) field over the window's hits, times `scale`."""

    type: Literal["metric"]
    field: str = Field(min_length=1)
    agg: Literal["max", "min", "avg", "latest", "percentile"]
    percent: float = Field(default=95.0, gt=0, lt=100)
    scale: float = Field(default=1.0, gt=0)
    min_sample: int = Field(default=1, ge=1)


Condition = Annotated[
    CountCondition | RatioCondition | MetricCondition, Field(discriminator="type")
]


class Rule(_Strict):
    """One alert rule."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    search: str = Field(min_length=1, description="Id of the saved search (the denominator).")
    window: Seconds
    condition: Condition
    op: Op = "gt"
    warning: float | None = None
    critical: float | None = None
    unit: str = ""
    group_by: str | None = None
    expected_groups: tuple[str, ...] = ()
    on_missing: Literal["ignore", "fire"] = Field(
        default="ignore",
        description="A metric rule's verdict for an expected group with no data in the window.",
    )
    resolve_after: int | None = Field(default=None, ge=1)
    repeat_after: Seconds | None = None
    runbook: str | None = None
    category: Category = Field(
        default="general", description="Routing label: `data` warnings go to the data channel."
    )

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if self.warning is None and self.critical is None:
            raise ValueError("set `warning`, `critical` or both")
        if self.expected_groups and not self.group_by:
            raise ValueError("`expected_groups` needs `group_by`")
        return self

    def severity_of(self, value: float) -> Severity | None:
        """The severity `value` breaches, critical first; None when within thresholds."""
        compare = COMPARE[self.op]
        if self.critical is not None and compare(value, self.critical):
            return "critical"
        if self.warning is not None and compare(value, self.warning):
            return "warning"
        return None

    def threshold(self, severity: Severity) -> float:
        value = self.critical if severity == "critical" else self.warning
        return float(value if value is not None else 0.0)

    @property
    def runbook_path(self) -> str:
        return self.runbook or f"alerting/runbooks/{self.id}.md"


def _error_text(path: Path, label: str, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(rule)"
        lines.append(f"{path}: rule {label}: field {field}: {error['msg']}")
    return "\n".join(lines)


def load_rules(path: Path) -> list[Rule]:
    """Read and validate the rules file.

    Raises:
        ConfigurationError: unreadable YAML, or invalid rules; one line per problem, each naming
            the file, the rule (id or position) and the field.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path}: cannot read the rules: {exc}") from exc
    items = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items:
        raise ConfigurationError(f"{path}: expected a top-level `rules:` list")
    rules: list[Rule] = []
    problems: list[str] = []
    for position, item in enumerate(items, 1):
        label = f"#{position}"
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            label = f"{item['id']!r}"
        try:
            rules.append(Rule.model_validate(item))
        except ValidationError as exc:
            problems.append(_error_text(path, label, exc))
    ids = [rule.id for rule in rules]
    problems.extend(
        f"{path}: rule {rid!r}: field id: duplicate id"
        for rid in sorted(set(ids))
        if ids.count(rid) > 1
    )
    if problems:
        raise ConfigurationError("\n".join(problems))
    return rules
