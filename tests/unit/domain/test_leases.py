"""Lease values: durations, lease ids, mode inference, claims from a stored footprint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from semlease.domain.leases import (
    Claim,
    choose_mode,
    claims_from_footprint,
    format_duration,
    iso,
    parse_duration,
    parse_lease_id,
)
from semlease.errors import SemleaseError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("1h30m", 5400), ("90s", 90), ("2d", 172800), ("1w", 604800), ("600", 600),
     ("1.5h", 5400), ("250ms", 0.25), (" 1H 5M ", 3900)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [("0", "--ttl '0' must be longer than zero"), ("0m", "--ttl '0m' must be longer than zero"),
     ("soon", "--ttl 'soon' is not a duration: expected e.g. 30m, 1h30m, 90s, 2d"),
     ("-5m", "--ttl '-5m' is not a duration"), ("", "--ttl '' is not a duration"),
     ("30x", "--ttl '30x' is not a duration"), ("400d", "--ttl '400d' is longer than a year")],
)
def test_bad_durations(text: str, message: str) -> None:
    with pytest.raises(SemleaseError) as error:
        parse_duration(text, "--ttl")
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_format_duration_and_iso() -> None:
    assert format_duration(timedelta(seconds=5400)) == "1h30m"
    assert format_duration(timedelta(seconds=45)) == "45s"
    assert format_duration(timedelta(0)) == "0s"
    assert iso(datetime(2026, 12, 3, 18, 40, tzinfo=UTC)) == "2026-12-03T18:40:00.000Z"
    assert iso(None) is None


@pytest.mark.parametrize(("text", "number"), [("L17", 17), ("l3", 3), ("42", 42), (" L5 ", 5)])
def test_lease_ids(text: str, number: int) -> None:
    assert parse_lease_id(text) == number


@pytest.mark.parametrize("text", ["", "L", "L0", "X17", "L-1", "17a"])
def test_bad_lease_ids(text: str) -> None:
    with pytest.raises(SemleaseError) as error:
        parse_lease_id(text)
    assert str(error.value) == f"not a lease id: {text!r} (expected e.g. L17)"


@pytest.mark.parametrize(
    ("intent", "mode", "cue"),
    [
        ("rename search to find", "rename", "rename"),
        ("move the helper into utils", "rename", "move"),
        ("delete the legacy exporter", "rename", "delete"),
        ("change the return type to a Result", "contract", "return type"),
        ("add a parameter for the currency", "contract", "parameter"),
        ("change the signature", "contract", "signature"),
        ("add fields to Cart", "contract", "fields"),
        ("add tests for refunds", "test", "tests"),
        ("improve coverage", "test", "coverage"),
        ("benchmark search", "observe", "benchmark"),
        ("document the invoice rules", "observe", "document"),
        ("add callers of search in the API", "extend", "add callers"),
        ("fix rounding of cents", "implement", None),
    ],
)
def test_mode_inferred_from_intent(intent: str, mode: str, cue: str | None) -> None:
    choice = choose_mode(None, intent)
    assert (choice.mode, choice.inferred) == (mode, True)
    if cue is None:
        assert choice.cue is None
        assert str(choice) == "implement (inferred, no cue in the intent)"
    else:
        assert choice.cue == cue
        assert str(choice) == f"{mode} (inferred, from {cue!r})"


def test_given_mode_wins_and_is_checked() -> None:
    choice = choose_mode("Contract", "rename everything")
    assert (choice.mode, choice.inferred, str(choice)) == ("contract", False, "contract")
    with pytest.raises(SemleaseError) as error:
        choose_mode("write", "x")
    assert str(error.value) == ("unknown mode 'write': expected one of observe, test, extend, implement, "
                                "contract, rename")


def _entry(node: str, kind: str = "function") -> dict:
    return {"id": node, "kind": kind, "path": node.partition("::")[0], "start_line": 1, "end_line": 2}


def test_claims_from_a_footprint_take_the_strongest_action_per_node() -> None:
    footprint = {"footprint": {
        "definition": [_entry("a.py::f")], "contract": [_entry("a.py::f", "signature")],
        "dependencies": [_entry("b.py::g")], "dependents": [_entry("c.py::h"), _entry("tests/t.py::helper")],
        "tests": [_entry("tests/t.py::test_f", "test")], "fixtures": [_entry("tests/t.py::helper", "fixture")]}}
    assert sorted(claims_from_footprint(footprint, "implement"), key=lambda c: c.node) == [
        Claim(node="a.py::f", path="a.py", action="write:implement"),
        Claim(node="b.py::g", path="b.py", action="rely"),
        Claim(node="c.py::h", path="c.py", action="rely"),
        Claim(node="tests/t.py::helper", path="tests/t.py", action="edit-test"),
        Claim(node="tests/t.py::test_f", path="tests/t.py", action="edit-test"),
    ]
    observed = claims_from_footprint(footprint, "observe")
    assert {c.action for c in observed} == {"rely"}


def test_a_file_definition_is_a_whole_file_claim() -> None:
    footprint = {"footprint": {"definition": [_entry("src/a.py", "file")]}}
    assert claims_from_footprint(footprint, "rename") == [
        Claim(node="src/a.py", path="src/a.py", action="write:rename", whole_file=True)]
