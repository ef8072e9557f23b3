"""The overlap policy: DESIGN.md's table cell by cell, and its configuration."""

from __future__ import annotations

import pytest

from semlease.domain import policy as P
from semlease.domain.policy import Policy
from semlease.errors import SemleaseError

C, R, X = P.COMPATIBLE, P.RISKY, P.CONFLICT

# Every unordered pair of actions, spelled out from DESIGN.md ("Overlap classes").
EXPECTED = {
    ("rely", "rely"): C, ("rely", "edit-test"): C, ("rely", "write:test"): C, ("rely", "write:extend"): C,
    ("rely", "write:implement"): C, ("rely", "write:contract"): R, ("rely", "write:rename"): R,
    ("edit-test", "edit-test"): R, ("edit-test", "write:test"): C, ("edit-test", "write:extend"): C,
    ("edit-test", "write:implement"): C, ("edit-test", "write:contract"): R, ("edit-test", "write:rename"): R,
    ("write:test", "write:test"): R, ("write:test", "write:extend"): C, ("write:extend", "write:extend"): C,
    ("write:test", "write:implement"): C, ("write:extend", "write:implement"): C,
    ("write:test", "write:contract"): R, ("write:test", "write:rename"): R,
    ("write:extend", "write:contract"): R, ("write:extend", "write:rename"): R,
    ("write:implement", "write:implement"): X, ("write:implement", "write:contract"): X,
    ("write:implement", "write:rename"): X,
    ("write:contract", "write:contract"): X, ("write:contract", "write:rename"): X, ("write:rename", "write:rename"): X,
}


def test_the_table_covers_every_pair_once() -> None:
    pairs = {frozenset(p) for p in EXPECTED}
    assert len(pairs) == len(P.ACTIONS) * (len(P.ACTIONS) + 1) // 2 == 28
    assert set(Policy.default().table) == pairs


@pytest.mark.parametrize(("pair", "cls"), sorted(EXPECTED.items()))
def test_default_class_is_symmetric(pair: tuple[str, str], cls: str) -> None:
    policy = Policy.default()
    assert policy.classify(*pair) == cls
    assert policy.classify(pair[1], pair[0]) == cls


@pytest.mark.parametrize(
    ("mode_a", "mode_b", "cls"),
    [
        ("implement", "observe", C),  # implement search() / a benchmark of search()
        ("rename", "extend", R),  # rename search() / add callers of search()
        ("contract", "contract", X),  # change its return type / change it differently
    ],
)
def test_design_examples_on_the_definition(mode_a: str, mode_b: str, cls: str) -> None:
    assert Policy.default().classify(P.write(mode_a), P.write(mode_b)) == cls


def test_actions_from_modes() -> None:
    assert [P.write(m) for m in P.MODES] == [
        "rely", "write:test", "write:extend", "write:implement", "write:contract", "write:rename"]
    assert P.edit_test("observe") == "rely"
    assert P.edit_test("implement") == "edit-test"
    assert P.stronger("rely", "edit-test") == "edit-test"
    assert P.stronger("write:rename", "write:implement") == "write:rename"
    assert P.worse(R, X) == X and P.worse(C, R) == R


def test_overrides_replace_one_cell_in_either_order() -> None:
    policy = Policy.from_config({"write:implement x write:implement": "risky", "rely x write:rename": "conflict"})
    assert policy.classify("write:implement", "write:implement") == R
    assert policy.classify("write:rename", "rely") == X
    assert policy.classify("write:contract", "rely") == R  # untouched


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"write:implement": "risky"}, "policy entry 'write:implement': expected 'ACTION x ACTION'"),
        ({"write:implement x write:everything": "risky"}, "expected 'ACTION x ACTION' with actions among rely"),
        ({"rely x rely": "fine"}, "policy entry 'rely x rely' = 'fine': expected one of compatible, risky, conflict"),
    ],
)
def test_bad_overrides_are_refused(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(SemleaseError) as error:
        Policy.from_config(overrides)
    assert message in str(error.value)
