"""A parser for the Kibana Query Language (KQL), rule for rule Kibana's own PEG grammar.

The grammar is `@kbn/es-query`'s `kuery/grammar/grammar.peggy`; each method below is named after
the rule it implements:

    start          := Space* OrQuery? Space*
    OrQuery        := AndQuery (Or AndQuery)*          Or  := Space+ "or"i Space+
    AndQuery       := NotQuery (And NotQuery)*         And := Space+ "and"i Space+
    NotQuery       := Not SubQuery / SubQuery          Not := "not"i Space+
    SubQuery       := "(" Space* OrQuery Space* ")" / NestedQuery
    NestedQuery    := Field Space* ":" Space* "{" Space* OrQuery Space* "}" / Expression
    Expression     := Field Space* RangeOperator Space* Literal
                    / Field Space* ":" Space* ListOfValues
                    / Value
    ListOfValues   := "(" Space* OrListOfValues Space* ")" / Value   (or/and/not inside)
    Literal, Field, Value := QuotedString / UnquotedLiteral

Whitespace is an ordinary character of an unquoted literal: `message: connection refused` is one
value, trimmed. `or`/`and` are keywords only between whitespace, `not` only when whitespace
follows, so `event.action: and` is a value. Unquoted escapes: `\\t \\r \\n`, `\\uXXXX`, a
backslash before one of `\\():<>"*{}`, and `\\or \\and \\not`; a backslash before anything else
ends the literal (a syntax error). Quoted escapes: `\\t \\r \\n`, `\\uXXXX`, `\\"` and `\\\\`; a
backslash before anything else is a literal backslash.

Where the grammar offers a choice, the first character(s) decide it; once an alternative has
begun, the grammar admits no other way on, so its failure is the query's syntax error.
Parentheses and braces nest at most `MAX_DEPTH` deep, a bound that keeps the recursion far from
Python's limit.
"""

from __future__ import annotations

from typing import Final

from kibana.errors import QuerySyntaxError
from kibana.kql_nodes import (
    WILDCARD,
    And,
    Is,
    Nested,
    Node,
    Not,
    Or,
    Range,
    RangeOp,
    Value,
    Wildcard,
)

MAX_DEPTH: Final = 100

_SPACE: Final = frozenset(" \t\r\n\u00a0")
_SPECIAL: Final = frozenset('\\():<>"*{}')
_ESCAPED_WHITESPACE: Final = {"t": "\t", "r": "\r", "n": "\n"}
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_RANGE_OPS: Final[tuple[tuple[str, RangeOp], ...]] = (
    ("<=", "lte"),
    (">=", "gte"),
    ("<", "lt"),
    (">", "gt"),
)
# What JavaScript's String.prototype.trim removes: Kibana trims an unquoted literal with it.
_JS_WHITESPACE: Final = frozenset(
    "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)


def js_trim(text: str) -> str:
    """`text` without the leading and trailing whitespace JavaScript's `trim()` removes."""
    return text.strip("".join(_JS_WHITESPACE))


def _combine_surrogates(text: str) -> str:
    """Join `\\uD83D\\uDE00`-style escape pairs into one character, as a JS string would."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _value(chars: list[str | Wildcard], quoted: bool) -> Value:
    if not quoted:
        start, end = 0, len(chars)
        while start < end and isinstance(chars[start], str) and chars[start] in _JS_WHITESPACE:
            start += 1
        while end > start and isinstance(chars[end - 1], str) and chars[end - 1] in _JS_WHITESPACE:
            end -= 1
        chars = chars[start:end]
    parts: list[str | Wildcard] = []
    text: list[str] = []
    for char in chars:
        if isinstance(char, Wildcard):
            if text:
                parts.append(_combine_surrogates("".join(text)))
                text = []
            parts.append(WILDCARD)
        else:
            text.append(char)
    if text or not parts:
        parts.append(_combine_surrogates("".join(text)))
    return Value(tuple(parts), quoted)


class _Parser:
    """One pass over the query text; each method is the grammar rule of the same name."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._depth = 0

    # -- helpers -----------------------------------------------------------------------------

    def _error(self, expected: str) -> QuerySyntaxError:
        found = repr(self._text[self._pos]) if self._pos < len(self._text) else "end of input"
        return QuerySyntaxError(f"expected {expected} at position {self._pos}, found {found}")

    def _at(self, offset: int = 0) -> str:
        index = self._pos + offset
        return self._text[index] if index < len(self._text) else ""

    def _spaces(self, pos: int) -> int:
        """The position after the `Space*` starting at `pos`."""
        while pos < len(self._text) and self._text[pos] in _SPACE:
            pos += 1
        return pos

    def _word_at(self, pos: int, word: str) -> bool:
        return self._text[pos : pos + len(word)].lower() == word

    def _keyword_between_spaces(self, word: str) -> int | None:
        """`Or` / `And` (Space+ word Space+) at the current position: the position after it."""
        pos = self._spaces(self._pos)
        if pos == self._pos or not self._word_at(pos, word):
            return None
        after = pos + len(word)
        end = self._spaces(after)
        return end if end > after else None

    def _not_keyword(self) -> int | None:
        """`Not` ("not"i Space+) at the current position: the position after it."""
        if not self._word_at(self._pos, "not"):
            return None
        end = self._spaces(self._pos + 3)
        return end if end > self._pos + 3 else None

    def _open(self, char: str) -> None:
        """Consume an opening `(` or `{`, counting the nesting depth."""
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise QuerySyntaxError(
                f"more than {MAX_DEPTH} nested parentheses or braces at position {self._pos}"
            )
        self._pos = self._spaces(self._pos + len(char))

    def _close(self, char: str) -> None:
        """Consume `Space* <char>`, the end of a group."""
        self._pos = self._spaces(self._pos)
        if self._at() != char:
            raise self._error(repr(char))
        self._pos += 1
        self._depth -= 1

    # -- queries -----------------------------------------------------------------------------

    def start(self) -> Node | None:
        self._pos = self._spaces(0)
        node = None if self._pos == len(self._text) else self.or_query()
        self._pos = self._spaces(self._pos)
        if self._pos != len(self._text):
            raise self._error("'or', 'and' or the end of the query")
        return node

    def or_query(self) -> Node:
        children = [self.and_query()]
        while (after := self._keyword_between_spaces("or")) is not None:
            self._pos = after
            children.append(self.and_query())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_query(self) -> Node:
        children = [self.not_query()]
        while (after := self._keyword_between_spaces("and")) is not None:
            self._pos = after
            children.append(self.not_query())
        return children[0] if len(children) == 1 else And(tuple(children))

    def not_query(self) -> Node:
        after = self._not_keyword()
        if after is None:
            return self.sub_query()
        self._pos = after
        return Not(self.sub_query())

    def sub_query(self) -> Node:
        if self._at() != "(":
            return self.nested_query()
        self._open("(")
        node = self.or_query()
        self._close(")")
        return node

    def nested_query(self) -> Node:
        """NestedQuery and Expression: both begin with the same literal."""
        field = self.literal()
        after_literal = self._pos
        self._pos = self._spaces(self._pos)
        for token, op in _RANGE_OPS:
            if self._text.startswith(token, self._pos):
                self._pos = self._spaces(self._pos + len(token))
                return Range(field, op, self.literal())
        if self._at() != ":":
            # ValueExpression: the spaces after the value belong to what follows.
            self._pos = after_literal
            return Is(None, field)
        self._pos = self._spaces(self._pos + 1)
        if self._at() == "{":
            self._open("{")
            child = self.or_query()
            self._close("}")
            return Nested(field, child)
        return self.list_of_values(None if field.literal is None else field)

    # -- value lists -------------------------------------------------------------------------

    def list_of_values(self, field: Value | None) -> Node:
        if self._at() != "(":
            return Is(field, self.literal())
        self._open("(")
        node = self.or_list_of_values(field)
        self._close(")")
        return node

    def or_list_of_values(self, field: Value | None) -> Node:
        children = [self.and_list_of_values(field)]
        while (after := self._keyword_between_spaces("or")) is not None:
            self._pos = after
            children.append(self.and_list_of_values(field))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_list_of_values(self, field: Value | None) -> Node:
        children = [self.not_list_of_values(field)]
        while (after := self._keyword_between_spaces("and")) is not None:
            self._pos = after
            children.append(self.not_list_of_values(field))
        return children[0] if len(children) == 1 else And(tuple(children))

    def not_list_of_values(self, field: Value | None) -> Node:
        after = self._not_keyword()
        if after is None:
            return self.list_of_values(field)
        self._pos = after
        return Not(self.list_of_values(field))

    # -- literals ----------------------------------------------------------------------------

    def literal(self) -> Value:
        if self._at() == '"':
            return self.quoted_string()
        return self.unquoted_literal()

    def quoted_string(self) -> Value:
        begin = self._pos
        self._pos += 1
        chars: list[str | Wildcard] = []
        while self._pos < len(self._text) and self._at() != '"':
            chars.append(self.quoted_character())
        if self._pos >= len(self._text):
            raise QuerySyntaxError(f"unterminated quoted string starting at position {begin}")
        self._pos += 1
        return _value(chars, quoted=True)

    def quoted_character(self) -> str:
        if self._at() == "\\":
            nxt = self._at(1)
            if nxt in _ESCAPED_WHITESPACE:
                self._pos += 2
                return _ESCAPED_WHITESPACE[nxt]
            unicode = self._unicode_sequence()
            if unicode is not None:
                return unicode
            if nxt in {"\\", '"'}:
                self._pos += 2
                return nxt
        # Any other character, a lone backslash included, is itself.
        self._pos += 1
        return self._text[self._pos - 1]

    def _unicode_sequence(self) -> str | None:
        """`\\uXXXX` at the current position (consumed), else None."""
        digits = self._text[self._pos + 2 : self._pos + 6]
        if self._at(1) != "u" or len(digits) != 4 or not set(digits) <= _HEX:
            return None
        self._pos += 6
        return chr(int(digits, 16))

    def unquoted_literal(self) -> Value:
        chars: list[str | Wildcard] = []
        while (char := self.unquoted_character()) is not None:
            chars.append(char)
        if not chars:
            raise self._error("a value, a field name or '('")
        return _value(chars, quoted=False)

    def unquoted_character(self) -> str | Wildcard | None:
        """The next UnquotedCharacter (consumed), or None where the literal ends."""
        char = self._at()
        if char == "\\":
            return self._unquoted_escape()
        if char == "*":
            self._pos += 1
            return WILDCARD
        if not char or char in _SPECIAL or self._keyword_here():
            return None
        self._pos += 1
        return char

    def _unquoted_escape(self) -> str | None:
        nxt = self._at(1)
        if nxt in _ESCAPED_WHITESPACE:
            self._pos += 2
            return _ESCAPED_WHITESPACE[nxt]
        if nxt and nxt in _SPECIAL:
            self._pos += 2
            return nxt
        unicode = self._unicode_sequence()
        if unicode is not None:
            return unicode
        for word in ("or", "and", "not"):
            if self._word_at(self._pos + 1, word):
                self._pos += 1 + len(word)
                return self._text[self._pos - len(word) : self._pos]
        return None

    def _keyword_here(self) -> bool:
        """The grammar's `Keyword` lookahead: Space or Space, Space and Space, not Space."""
        if self._word_at(self._pos, "not") and self._at(3) in _SPACE:
            return True
        if self._at() not in _SPACE:
            return False
        for word in ("or", "and"):
            after = self._at(1 + len(word))
            if self._word_at(self._pos + 1, word) and after in _SPACE:
                return True
        return False


def parse(text: str) -> Node | None:
    """Parse a KQL query; `None` for an empty query (match everything).

    Raises:
        QuerySyntaxError: the query is not valid KQL; the message names the position.
    """
    return _Parser(text).start()
