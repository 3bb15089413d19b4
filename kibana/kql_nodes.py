"""The syntax tree of a KQL query, as Kibana's parser builds it (`@kbn/es-query`, `kuery/`).

A `Value` is Kibana's literal or wildcard node: its parts (text and wildcards), trimmed like
Kibana trims an unquoted literal, and whether it was quoted. An unquoted `null`, `true` or
`false` is Kibana's null / boolean literal; `null` as a field name means "no field" (free text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

RangeOp = Literal["lt", "lte", "gt", "gte"]
LiteralValue = str | bool | None

_SPECIAL_LITERALS: Final[dict[str, LiteralValue]] = {"null": None, "true": True, "false": False}


class Wildcard:
    """The `*` of an unquoted literal (an escaped `\\*` is plain text)."""

    def __repr__(self) -> str:
        return "*"


WILDCARD: Final = Wildcard()


@dataclass(frozen=True, slots=True)
class Value:
    """A literal: its parts (text and wildcards) and whether it was quoted (a phrase)."""

    parts: tuple[str | Wildcard, ...]
    quoted: bool

    @property
    def has_wildcard(self) -> bool:
        return any(isinstance(part, Wildcard) for part in self.parts)

    @property
    def is_lone_wildcard(self) -> bool:
        """Exactly one `*` and nothing else (`f: *` is an exists query, `*: *` match all)."""
        return self.parts == (WILDCARD,)

    @property
    def text(self) -> str:
        """The literal's text, each wildcard written `*`."""
        return "".join("*" if isinstance(part, Wildcard) else part for part in self.parts)

    @property
    def literal(self) -> LiteralValue:
        """The value Kibana sends: the text, or null / a boolean for those unquoted words."""
        if self.quoted or self.has_wildcard:
            return self.text
        return _SPECIAL_LITERALS.get(self.text, self.text)


@dataclass(frozen=True, slots=True)
class Is:
    """`field: value` (field None: free text, as `value` alone or `null: value`)."""

    field: Value | None
    value: Value


@dataclass(frozen=True, slots=True)
class Range:
    """`field > value` and the other comparisons."""

    field: Value
    op: RangeOp
    value: Value


@dataclass(frozen=True, slots=True)
class Nested:
    """`path: { query }`: the query runs inside the nested documents under `path`."""

    path: Value
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Is | Range | Nested | And | Or | Not
