"""The request parsers' nesting check (registry/api/parsers.py): the depth of brackets outside JSON strings."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError

from registry.api.parsers import MAX_DEPTH, json_depth, loads_safely

# The scan the check made before it cut the strings out in C: one token at a time, a string or a bracket.
TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def reference_depth(text: str) -> int:
    depth = deepest = 0
    for match in TOKENS.finditer(text):
        if match.group() in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif match.group() in ("]", "}"):
            depth -= 1
    return deepest


PIECES = st.sampled_from(['"', "\\", "\\\\", '\\"', "[", "]", "{", "}", ",", ":", "a", '"x"', '"[{"', " ", "\n"])


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.lists(PIECES, max_size=60).map("".join))
def test_the_depth_is_the_token_scans_on_any_text_quotes_and_escapes_included(text):
    assert json_depth(text) == reference_depth(text)


def test_brackets_inside_strings_do_not_count_and_too_deep_is_a_400_reason():
    assert json_depth('{"a": "[[[[{{{{", "b": [[1]]}') == 3
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(ParseError, match=f"deeper than {MAX_DEPTH}"):
        loads_safely(deep.encode())
