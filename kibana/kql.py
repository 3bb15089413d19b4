"""A parser for the Kibana Query Language (KQL): tokens, then recursive descent into an AST.

The grammar follows Kibana's own (`@kbn/es-query`, `kuery/grammar/grammar.peggy`):

    query      := or_query?
    or_query   := and_query ("or" and_query)*
    and_query  := not_query ("and" not_query)*
    not_query  := "not" sub_query | sub_query
    sub_query  := "(" or_query ")" | expression
    expression := field RANGE_OP literal | field ":" value_list | value
    value_list := "(" or_values ")" | value      (or/and/not inside, as above)

There is no implicit conjunction (`a:b c` is a syntax error, as in Kibana), keywords are
case-insensitive, `*` in an unquoted literal is a wildcard unless escaped, and nested queries
(`field:{...}`) are refused because the product's data view has no nested fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from kibana.errors import QuerySyntaxError

RangeOp = Literal["lt", "lte", "gt", "gte"]

_RANGE_OPS: Final[dict[str, RangeOp]] = {"<=": "lte", ">=": "gte", "<": "lt", ">": "gt"}
_SPECIAL: Final = frozenset('\\():<>"*{}')
_KEYWORDS: Final = frozenset({"and", "or", "not"})
_QUOTED_ESCAPES: Final = {"t": "\t", "r": "\r", "n": "\n", '"': '"', "\\": "\\"}


class Wildcard:
    """The `*` of an unquoted literal."""

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
    def is_match_all(self) -> bool:
        return self.parts == (WILDCARD,)

    @property
    def text(self) -> str:
        """The literal text (valid when there is no wildcard)."""
        return "".join(part for part in self.parts if isinstance(part, str))


@dataclass(frozen=True, slots=True)
class Is:
    """`field: value` (field None: free text against every field)."""

    field: Value | None
    value: Value


@dataclass(frozen=True, slots=True)
class Range:
    """`field > value` and the other comparisons."""

    field: Value
    op: RangeOp
    value: Value


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Is | Range | And | Or | Not


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", ":", "{", "}", "range", "value", "and", "or", "not", "end"
    pos: int
    value: Value | None = None
    op: RangeOp | None = None


def _quoted(text: str, start: int) -> tuple[Value, int]:
    """Read a quoted string starting at the opening quote; returns it and the next position."""
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == '"':
            return Value((("".join(chars)),), quoted=True), i + 1
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and i + 5 < len(text):
                chars.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            chars.append(_QUOTED_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        chars.append(char)
        i += 1
    raise QuerySyntaxError(f"unterminated quoted string starting at position {start}")


def _unquoted(text: str, start: int) -> tuple[Value, bool, int]:
    """Read an unquoted literal; returns it, whether any character was escaped, next position."""
    parts: list[str | Wildcard] = []
    buf: list[str] = []
    escaped = False
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            buf.append(text[i + 1])
            escaped = True
            i += 2
            continue
        if char == "*":
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(WILDCARD)
            i += 1
            continue
        if char.isspace() or char in _SPECIAL:
            break
        buf.append(char)
        i += 1
    if buf:
        parts.append("".join(buf))
    return Value(tuple(parts), quoted=False), escaped, i


def tokenize(text: str) -> list[_Token]:
    """Split a KQL query into tokens; raises `QuerySyntaxError` on a character it cannot read."""
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "():{}":
            tokens.append(_Token(char, i))
            i += 1
        elif char in "<>":
            op = text[i : i + 2] if text[i + 1 : i + 2] == "=" else char
            tokens.append(_Token("range", i, op=_RANGE_OPS[op]))
            i += len(op)
        elif char == '"':
            value, end = _quoted(text, i)
            tokens.append(_Token("value", i, value=value))
            i = end
        else:
            value, escaped, end = _unquoted(text, i)
            if end == i:
                raise QuerySyntaxError(f"unexpected {char!r} at position {i}")
            word = value.text.lower()
            is_keyword = not escaped and not value.has_wildcard and word in _KEYWORDS
            tokens.append(_Token(word if is_keyword else "value", i, value=value))
            i = end
    tokens.append(_Token("end", len(text)))
    return tokens


class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, text: str) -> None:
        self._tokens = tokenize(text)
        self._i = 0

    def _peek(self, offset: int = 0) -> _Token:
        return self._tokens[min(self._i + offset, len(self._tokens) - 1)]

    def _take(self, kind: str) -> _Token:
        token = self._peek()
        if token.kind != kind:
            found = "end of input" if token.kind == "end" else repr(token.kind)
            raise QuerySyntaxError(f"expected {kind!r} at position {token.pos}, found {found}")
        self._i += 1
        return token

    def parse(self) -> Node | None:
        if self._peek().kind == "end":
            return None
        node = self._or()
        self._take("end")
        return node

    def _or(self) -> Node:
        children = [self._and()]
        while self._peek().kind == "or":
            self._i += 1
            children.append(self._and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _and(self) -> Node:
        children = [self._not()]
        while self._peek().kind == "and":
            self._i += 1
            children.append(self._not())
        return children[0] if len(children) == 1 else And(tuple(children))

    def _not(self) -> Node:
        if self._peek().kind == "not":
            self._i += 1
            return Not(self._sub())
        return self._sub()

    def _sub(self) -> Node:
        if self._peek().kind == "(":
            self._i += 1
            node = self._or()
            self._take(")")
            return node
        first = self._take("value")
        assert first.value is not None
        nxt = self._peek()
        if nxt.kind == "range":
            self._i += 1
            assert nxt.op is not None
            return Range(first.value, nxt.op, self._literal())
        if nxt.kind == ":":
            self._i += 1
            if self._peek().kind == "{":
                raise QuerySyntaxError(f"nested queries are not supported (position {nxt.pos})")
            return self._value_list(first.value)
        return Is(None, first.value)

    def _literal(self) -> Value:
        token = self._take("value")
        assert token.value is not None
        return token.value

    def _value_list(self, field: Value) -> Node:
        if self._peek().kind != "(":
            return Is(field, self._literal())
        self._i += 1
        node = self._values_or(field)
        self._take(")")
        return node

    def _values_or(self, field: Value) -> Node:
        children = [self._values_and(field)]
        while self._peek().kind == "or":
            self._i += 1
            children.append(self._values_and(field))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _values_and(self, field: Value) -> Node:
        children = [self._values_not(field)]
        while self._peek().kind == "and":
            self._i += 1
            children.append(self._values_not(field))
        return children[0] if len(children) == 1 else And(tuple(children))

    def _values_not(self, field: Value) -> Node:
        if self._peek().kind == "not":
            self._i += 1
            return Not(self._value_list(field))
        return self._value_list(field)


def parse(text: str) -> Node | None:
    """Parse a KQL query; `None` for an empty query (match everything).

    Raises:
        QuerySyntaxError: the query is not valid KQL; the message names the position.
    """
    return _Parser(text).parse()
