"""A region's footprint (six roles) and its blast radius, as immutable values ready to print or store."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFINITION = "definition"  # the region's own spans
CONTRACT = "contract"  # its signature, header or fields: what others rely on
DEPENDENCIES = "dependencies"  # definitions it uses
DEPENDENTS = "dependents"  # who uses it, one hop
TESTS = "tests"  # tests that exercise it: directly, through fixtures, or through test helpers
FIXTURES = "fixtures"  # fixtures those tests use

ROLES = (DEFINITION, CONTRACT, DEPENDENCIES, DEPENDENTS, TESTS, FIXTURES)


class Entry(BaseModel):
    """One span in a footprint. ``via`` says why it is there when that is not obvious."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    path: str
    start_line: int
    end_line: int
    via: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.start_line}" + (f"-{self.end_line}" if self.end_line != self.start_line
                                                     else "")
        return f"{self.id}  [{self.kind}]  {where}" + (f"  ({self.via})" if self.via else "")


class Footprint(BaseModel):
    model_config = ConfigDict(frozen=True)

    region: str
    kind: str
    head: str | None
    footprint: dict[str, tuple[Entry, ...]] = Field(default_factory=dict)

    def role(self, role: str) -> tuple[Entry, ...]:
        return self.footprint.get(role, ())

    def node_ids(self) -> set[str]:
        return {e.id for entries in self.footprint.values() for e in entries}

    def files(self) -> list[str]:
        return sorted({e.path for entries in self.footprint.values() for e in entries})


class RadiusEntry(Entry):
    distance: int
    via: str | None = None  # the node one step nearer the region


class Radius(BaseModel):
    model_config = ConfigDict(frozen=True)

    region: str
    depth: int | None  # None: unbounded
    dependents: tuple[RadiusEntry, ...]
    files: tuple[str, ...]
    tests: tuple[str, ...]
