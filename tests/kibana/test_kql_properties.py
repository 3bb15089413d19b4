"""Any text gives a translation or the package's own query error, never another exception."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from kibana.errors import ConfigurationError, QuerySyntaxError
from kibana.kql import MAX_DEPTH, parse
from kibana.translate import translate_query

TYPES = {
    "a": "keyword",
    "message": "text",
    "@timestamp": "date",
    "n": "long",
    "b": "boolean",
    "p": "nested",
    "p.x": "keyword",
}

# The characters the grammar gives a meaning to, plus letters and spaces the keywords need.
_KQL_ALPHABET = st.sampled_from(
    [
        *'\\():<>"*{}',
        " ",
        "\t",
        "\u00a0",
        "a",
        "n",
        "o",
        "r",
        "d",
        "t",
        "u",
        "0",
        "f",
        "p",
        ".",
        "x",
    ]
)
_KQL_WORDS = st.sampled_from(
    [
        " and ",
        " or ",
        "not ",
        ": ",
        "a",
        "message",
        "p",
        "*",
        '"',
        "\\",
        "\\u00e9",
        "(",
        ")",
        "{",
        "}",
        ">=",
        "<",
        "@timestamp",
        " ",
        "null",
        "true",
        "n:",
    ]
)
_QUERIES = st.one_of(
    st.text(max_size=40),
    st.text(_KQL_ALPHABET, max_size=40),
    st.lists(_KQL_WORDS, max_size=20).map("".join),
)


def _translate_or_refuse(text: str) -> None:
    try:
        translation = translate_query(text, "kuery", TYPES)
    except ConfigurationError:
        return
    json.dumps(translation.query)


@settings(max_examples=300, deadline=None)
@given(_QUERIES)
def test_any_text_parses_or_is_a_syntax_error(text: str) -> None:
    """parse() returns a tree or raises QuerySyntaxError naming a position; translation then
    returns JSON-ready DSL or one of the package's ConfigurationErrors."""
    try:
        parse(text)
    except QuerySyntaxError as exc:
        assert "position" in str(exc)
    _translate_or_refuse(text)


@settings(max_examples=300, deadline=None)
@given(
    depth=st.integers(min_value=0, max_value=3 * MAX_DEPTH),
    opening=st.sampled_from(["(", "not (", "a:(", "p:{", "(a:x or "]),
    balanced=st.booleans(),
)
def test_any_nesting_depth_parses_or_is_a_syntax_error(
    depth: int, opening: str, balanced: bool
) -> None:
    """Deep nesting of groups, value lists and nested queries never raises RecursionError."""
    prefix, opening = ("a:", "(") if opening == "a:(" else ("", opening)
    inner = "x" if prefix else "x:y"
    closing = {"(": ")", "not (": ")", "p:{": "}", "(a:x or ": ")"}[opening]
    text = prefix + opening * depth + inner + (closing * depth if balanced else "")
    try:
        parse(text)
    except QuerySyntaxError:
        assert depth > MAX_DEPTH or not balanced
    _translate_or_refuse(text)
