"""The overlap policy: how two leases that share graph nodes get along (DESIGN.md, "Overlap classes").

On each node two footprints share, each side has an *action*, from its mode and the role the node plays
in its footprint:

* ``write:<mode>`` where the node is the lease's definition or contract (or a member of it, or a path
  given with ``--scope``), for every mode but observe;
* ``edit-test`` where the node is one of its tests or fixtures (mode other than observe);
* ``rely`` where the node is only a dependency or dependent, or the mode is observe.

A pair of actions gives a class (compatible, risky, conflict); an overlap's class is the worst over its
shared nodes. The table is configuration (``[tool.semlease.policy]``) with the default below.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from semlease.errors import SemleaseError

OBSERVE, TEST, EXTEND, IMPLEMENT, CONTRACT, RENAME = "observe", "test", "extend", "implement", "contract", "rename"
MODES = (OBSERVE, TEST, EXTEND, IMPLEMENT, CONTRACT, RENAME)

RELY = "rely"
EDIT_TEST = "edit-test"
WRITE_MODES = (TEST, EXTEND, IMPLEMENT, CONTRACT, RENAME)
ACTIONS = (RELY, EDIT_TEST) + tuple(f"write:{m}" for m in WRITE_MODES)

COMPATIBLE, RISKY, CONFLICT = "compatible", "risky", "conflict"
CLASSES = (COMPATIBLE, RISKY, CONFLICT)
_SEVERITY = {COMPATIBLE: 0, RISKY: 1, CONFLICT: 2}

# How strongly a lease acts on a node: where a node plays several roles, the strongest action counts.
_STRENGTH = {RELY: 0, EDIT_TEST: 1, **{f"write:{m}": 2 + i for i, m in enumerate(WRITE_MODES)}}


def write(mode: str) -> str:
    return RELY if mode == OBSERVE else f"write:{mode}"


def edit_test(mode: str) -> str:
    return RELY if mode == OBSERVE else EDIT_TEST


def stronger(a: str, b: str) -> str:
    return a if _STRENGTH[a] >= _STRENGTH[b] else b


def worse(a: str, b: str) -> str:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def _default_table() -> dict[frozenset[str], str]:
    """DESIGN.md's table, one entry per unordered pair of actions."""
    groups = {RELY: [RELY], EDIT_TEST: [EDIT_TEST], "test/extend": ["write:test", "write:extend"],
              "implement": ["write:implement"], "contract/rename": ["write:contract", "write:rename"]}
    rows = {  # upper triangle, in the order of the columns
        RELY: {RELY: COMPATIBLE, EDIT_TEST: COMPATIBLE, "test/extend": COMPATIBLE, "implement": COMPATIBLE,
               "contract/rename": RISKY},
        EDIT_TEST: {EDIT_TEST: RISKY, "test/extend": COMPATIBLE, "implement": COMPATIBLE,
                    "contract/rename": RISKY},
        "test/extend": {"test/extend": COMPATIBLE, "implement": COMPATIBLE, "contract/rename": RISKY},
        "implement": {"implement": CONFLICT, "contract/rename": CONFLICT},
        "contract/rename": {"contract/rename": CONFLICT},
    }
    table: dict[frozenset[str], str] = {}
    for row, cells in rows.items():
        for column, cls in cells.items():
            for a in groups[row]:
                for b in groups[column]:
                    table[frozenset((a, b))] = cls
    table[frozenset(("write:test",))] = RISKY  # two leases both adding tests for one thing
    return table


DEFAULT_TABLE = _default_table()


class Policy(BaseModel):
    """The class of every pair of actions; ``Policy.from_config`` applies overrides to the default."""

    model_config = ConfigDict(frozen=True)

    table: dict[frozenset[str], str]

    @classmethod
    def default(cls) -> Policy:
        return cls(table=dict(DEFAULT_TABLE))

    @classmethod
    def from_config(cls, overrides: Mapping[str, str]) -> Policy:
        """``{"write:implement x write:implement": "risky", ...}``: keys are two actions joined by `` x ``
        (either order), values a class."""
        table = dict(DEFAULT_TABLE)
        for key, value in overrides.items():
            parts = [p.strip() for p in key.split(" x ")]
            if len(parts) != 2 or any(p not in ACTIONS for p in parts):
                raise SemleaseError(f"policy entry {key!r}: expected 'ACTION x ACTION' with actions among "
                                    + ", ".join(ACTIONS))
            if value not in CLASSES:
                raise SemleaseError(f"policy entry {key!r} = {value!r}: expected one of " + ", ".join(CLASSES))
            table[frozenset(parts)] = value
        return cls(table=table)

    def classify(self, a: str, b: str) -> str:
        return self.table[frozenset((a, b))]


_DESCRIBE = {
    RELY: "relies on it",
    EDIT_TEST: "edits it as a test or fixture",
    "write:test": "adds tests to it",
    "write:extend": "adds uses of it",
    "write:implement": "changes its body",
    "write:contract": "changes its contract",
    "write:rename": "renames, moves or deletes it",
}


def describe(action: str) -> str:
    return _DESCRIBE[action]
