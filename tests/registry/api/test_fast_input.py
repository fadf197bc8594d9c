"""The bulk endpoint's fast path through the serializers: whatever it accepts, the serializer accepts, equally."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from bench import data
from registry.api.fast_input import fast_validator
from registry.api.serializers import AmendIn, ReleaseCreateIn, WithdrawIn


def drf(serializer: type[serializers.Serializer], raw: Any) -> dict[str, Any] | None:
    try:
        return serializer().run_validation(raw)
    except serializers.ValidationError:
        return None


def valid_release() -> dict[str, Any]:
    raw = data.release_item(42, 3)
    raw["release_date"] = "2024-02-29"
    raw["artwork"] = "partly"
    raw["artists"].append({"name": "Ada", "isni": "0000000121032683", "persona": "synthetic"})
    raw["tracks"][0]["audio_sha256"] = "ab" * 32
    raw["tracks"][0]["artists"] = [{"name": "Ada", "isni": None}]
    raw["tracks"][1]["ai"]["voice_likeness"] = {"imitates_real_person": True, "consent_reference": "contract 12"}
    raw["tracks"][2]["ai"]["voice_likeness"] = {"consent_reference": ""}
    raw["tracks"][2].pop("position")
    raw["action"] = "declare"  # unknown members are ignored by both
    return raw


def test_a_plainly_valid_release_gets_the_serializers_own_answer():
    raw = valid_release()
    fast = fast_validator(ReleaseCreateIn)(raw)
    assert fast is not None
    assert fast == drf(ReleaseCreateIn, raw)
    assert fast["tracks"][0]["ai"]["tools"] == []  # the defaults are filled in as DRF fills them


def test_withdrawals_and_amendments_without_answers_get_the_serializers_answer_too():
    for serializer, raw in (
        (WithdrawIn, {"reason": "Mistake", "expected_version": 2}),
        (AmendIn, {"reason": "New artwork", "artwork": "all", "release_date": "2025-01-31"}),
        (AmendIn, {"reason": "Vocals", "ai": {"QZES52400001": data.track_facts(["QZES52400001"])["QZES52400001"]}}),
    ):
        fast = fast_validator(serializer)(raw)
        assert fast is not None and fast == drf(serializer, raw)


# Values that are refused, or that DRF converts (trimmed text, numbers as text), in every position.
ODD = st.sampled_from(
    [
        None,
        "",
        " ",
        " padded ",
        "x" * 300,
        "\x00",
        "a\u202eb",
        "\ud800",
        "7",
        "true",
        7,
        0,
        -1,
        1000,
        10**30,
        True,
        False,
        1.5,
        [],
        {},
        ["x"],
        {"a": 1},
        "none",
        "all",
        "maybe",
        "2024-02-30",
        "20240201",
        "2024-02-01T00:00:00",
        "ab" * 32,
        "AB" * 31,
    ]
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def mutate(raw: dict[str, Any], path: tuple, how: str, odd: Any) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    if not path:
        return odd
    *head, last = path
    parent = raw
    for step in head:
        parent = parent[step]
    if how == "drop":
        del parent[last]
    else:
        parent[last] = odd
    return raw


BASE = valid_release()
PATHS = paths(BASE)


@pytest.mark.parametrize("serializer", [ReleaseCreateIn])
@settings(max_examples=600, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), how=st.sampled_from(["set", "drop"]), odd=ODD)
def test_whatever_the_fast_path_accepts_the_serializer_accepts_with_the_same_value(serializer, path, how, odd):
    raw = mutate(BASE, path, how, odd)
    fast = fast_validator(serializer)(raw)
    expected = drf(serializer, raw)
    if fast is not None:
        assert expected is not None, f"the fast path accepted what DRF refuses at {path}: {odd!r}"
        assert fast == expected


def test_the_fast_path_is_undecided_rather_than_wrong_on_input_drf_converts():
    raw = valid_release()
    raw["title"] = "  Padded  "  # DRF trims; the fast path leaves it to DRF
    assert fast_validator(ReleaseCreateIn)(raw) is None
    assert drf(ReleaseCreateIn, raw)["title"] == "Padded"
    raw = valid_release()
    raw["tracks"][0]["duration"] = "180"  # DRF reads a number given as text
    assert fast_validator(ReleaseCreateIn)(raw) is None
    assert drf(ReleaseCreateIn, raw)["tracks"][0]["duration"] == 180
