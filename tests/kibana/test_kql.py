"""The KQL parser accepts and refuses what Kibana's grammar (`grammar.peggy`) does, rule by rule.

Each case's id names the grammar rule it exercises.
"""

from __future__ import annotations

import pytest

from kibana.errors import QuerySyntaxError
from kibana.kql import MAX_DEPTH, parse
from kibana.kql_nodes import WILDCARD, And, Is, Nested, Node, Not, Or, Range, Value, Wildcard


def lit(*parts: str | Wildcard, quoted: bool = False) -> Value:
    return Value(parts, quoted)


def field_is(field: str, value: str, quoted: bool = False) -> Is:
    return Is(lit(field), lit(value, quoted=quoted))


PARSED: list[tuple[str, str, Node | None]] = [
    ("start: empty", "", None),
    ("start: only spaces", " \t\n\u00a0", None),
    ("start: leading and trailing Space", "  a:b  ", field_is("a", "b")),
    ("OrQuery", "a:b or c:d", Or((field_is("a", "b"), field_is("c", "d")))),
    (
        "Or: case-insensitive, several spaces",
        "a:b  OR\tc:d",
        Or((field_is("a", "b"), field_is("c", "d"))),
    ),
    (
        "AndQuery binds tighter than Or",
        "a:1 or b:2 and c:3",
        Or((field_is("a", "1"), And((field_is("b", "2"), field_is("c", "3"))))),
    ),
    ("NotQuery", "not a:b", Not(field_is("a", "b"))),
    ("Not: case-insensitive", "NOT a:b", Not(field_is("a", "b"))),
    (
        "SubQuery: grouping",
        "(a:1 or b:2) and c:3",
        And((Or((field_is("a", "1"), field_is("b", "2"))), field_is("c", "3"))),
    ),
    ("SubQuery: spaces inside", "( a:1 )", field_is("a", "1")),
    ("NestedQuery", "p:{ a:1 }", Nested(lit("p"), field_is("a", "1"))),
    ("FieldRangeExpression", "a >= 3", Range(lit("a"), "gte", lit("3"))),
    ("RangeOperator: <= before <", "a<=3", Range(lit("a"), "lte", lit("3"))),
    (
        "RangeOperator: > with a quoted date",
        'a > "2026-01-01T00:00"',
        Range(lit("a"), "gt", lit("2026-01-01T00:00", quoted=True)),
    ),
    (
        "FieldValueExpression: multi-word value",
        "message: connection refused",
        field_is("message", "connection refused"),
    ),
    (
        "FieldValueExpression: quoted field",
        '"my field": x',
        Is(lit("my field", quoted=True), lit("x")),
    ),
    ("Field: whitespace inside, trimmed", "my field : x", field_is("my field", "x")),
    ("ValueExpression: free text of two words", "two words", Is(None, lit("two words"))),
    ("ValueExpression: quoted phrase", '"two words"', Is(None, lit("two words", quoted=True))),
    ("ListOfValues", "a:(x or y z)", Or((field_is("a", "x"), field_is("a", "y z")))),
    (
        "AndListOfValues / NotListOfValues",
        "a:(x and not y)",
        And((field_is("a", "x"), Not(field_is("a", "y")))),
    ),
    ("Value: null literal as field is free text", "null: x", Is(None, lit("x"))),
    ("Keyword: `and` at the start of a value is a value", "a: and", field_is("a", "and")),
    ("Keyword: `or` at the end without a space is a value", "x or", Is(None, lit("x or"))),
    ("Keyword: `not` without a space after is text", "a: nothing", field_is("a", "nothing")),
    ("Keyword: `or` inside a word", "a: order", field_is("a", "order")),
    ("UnquotedLiteral: trimmed", "a:  b  ", field_is("a", "b")),
    ("Wildcard", "a: b*c", Is(lit("a"), lit("b", WILDCARD, "c"))),
    ("Wildcard: field and value", "*:*", Is(lit(WILDCARD), lit(WILDCARD))),
    ("EscapedSpecialCharacter", r"a: \\\(\)\:\<\>\"\*\{\}", field_is("a", '\\():<>"*{}')),
    ("EscapedKeyword", r"a: \and \OR \NOT", field_is("a", "and OR NOT")),
    (
        "EscapedWhitespace before EscapedKeyword: \\not is newline + ot",
        r"a: x\not",
        field_is("a", "x\not"),
    ),
    ("EscapedWhitespace (unquoted)", r"a: x\ty\rz\nw", field_is("a", "x\ty\rz\nw")),
    ("EscapedUnicodeSequence (unquoted)", r"a: caf\u00e9", field_is("a", "café")),
    ("EscapedWhitespace trimmed like a space", r"a: \tx", field_is("a", "x")),
    (
        'QuotedCharacter: \\" and \\\\',
        r'a: "say \"hi\" \\ ok"',
        field_is("a", 'say "hi" \\ ok', True),
    ),
    ("QuotedCharacter: EscapedWhitespace", r'a: "x\ty\rz\n"', field_is("a", "x\ty\rz\n", True)),
    (
        "QuotedCharacter: EscapedUnicodeSequence",
        r'a: "\u0041\ud83d\ude00"',
        field_is("a", "A😀", True),
    ),
    (
        "QuotedCharacter: backslash before other is itself",
        r'a: "\user \x"',
        field_is("a", r"\user \x", True),
    ),
    ("QuotedString: not trimmed, keywords kept", 'a: " x or y "', field_is("a", " x or y ", True)),
    ("QuotedString: no wildcard", 'a: "x*"', field_is("a", "x*", True)),
]


@pytest.mark.parametrize(("kql", "expected"), [c[1:] for c in PARSED], ids=[c[0] for c in PARSED])
def test_grammar_rule_parses(kql: str, expected: Node | None) -> None:
    """The query parses into the node Kibana's grammar builds."""
    assert parse(kql) == expected


REFUSED: list[tuple[str, str, int]] = [
    ("start: trailing Or without operand", "a:b or ", 7),
    ("Keyword: `not ` inside an unquoted value ends it", "message: cannot connect", 12),
    ("NotQuery: not not", "not not a", 4),
    ("FieldValueExpression: not needs a list", "a: not b", 3),
    ("UnquotedCharacter: backslash before another character", r"a: b\x", 4),
    ("EscapedUnicodeSequence: four hex digits", r"a: \u12", 3),
    ("QuotedString: unterminated", 'a: "open', 3),
    ("QuotedString: escaped closing quote", r'a: "x\"', 3),
    ("SubQuery: unclosed", "(a:b", 4),
    ("ListOfValues: unclosed", "a:(b or c", 9),
    ("NestedQuery: unclosed", "a:{b:c", 6),
    ("FieldValueExpression: two colons", "a:b:c", 3),
    ("Value: empty", "a:", 2),
    ("SubQuery: empty", "()", 1),
]


@pytest.mark.parametrize(("kql", "position"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_grammar_rule_refuses(kql: str, position: int) -> None:
    """What Kibana's grammar refuses is a QuerySyntaxError naming the position."""
    with pytest.raises(QuerySyntaxError, match=f"position {position}\\b"):
        parse(kql)


DEPTH_CASES = [
    ("SubQuery", "", "(", "a:b", ")"),
    ("ListOfValues", "a:", "(", "b", ")"),
    ("NestedQuery", "", "a:{", "a:b", "}"),
]


@pytest.mark.parametrize(
    ("prefix", "opening", "inner", "closing"),
    [c[1:] for c in DEPTH_CASES],
    ids=[c[0] for c in DEPTH_CASES],
)
def test_nesting_deeper_than_the_bound_is_a_syntax_error(
    prefix: str, opening: str, inner: str, closing: str
) -> None:
    """Groups nest at most MAX_DEPTH deep; deeper is a syntax error, never a RecursionError."""
    assert parse(prefix + opening * MAX_DEPTH + inner + closing * MAX_DEPTH) is not None
    with pytest.raises(QuerySyntaxError, match="nested"):
        parse(prefix + opening * (MAX_DEPTH + 1) + inner + closing * (MAX_DEPTH + 1))
    with pytest.raises(QuerySyntaxError):
        parse(prefix + opening * 100_000)
