"""The tests of a patch: exactly those that exercise what it touched, or anything that depends on it.

A change to a body can break every caller's behaviour, so the tests of a touched symbol are the tests of
its whole blast radius (``semlease radius --depth 0``): those that reach it or any transitive dependent
directly, through fixtures or through test helpers. For every symbol the patch leaves in place (modified,
added, renamed, moved) they are read from the graph of the patched tree, with the symbol itself when it is a
test. For a file changed outside its definitions (an import): the tests of the whole file's radius. For a
symbol the patch deletes, renames or moves: the tests that reached it before, from the graph of the old
tree, as long as they still exist after the patch.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from semlease.domain import graph as G
from semlease.domain import patch as P
from semlease.domain.graph import GraphReader
from semlease.domain.patch import PatchFootprint
from semlease.domain.regions import parse_region
from semlease.errors import SemleaseError
from semlease.services.resolve import Resolver


class Selection(BaseModel):
    model_config = ConfigDict(frozen=True)

    tests: tuple[str, ...]  # graph ids, sorted
    why: dict[str, tuple[str, ...]]  # test id -> the touched nodes that brought it in
    notes: tuple[str, ...] = ()


def select_tests(after: GraphReader, patch: PatchFootprint, before: GraphReader | None = None) -> Selection:
    why: dict[str, set[str]] = {}
    notes: list[str] = []

    def add(test: str, because: str) -> None:
        why.setdefault(test, set()).add(because)

    resolver = Resolver(after)
    for symbol in patch.symbols:
        if symbol.change != P.DELETED:
            node = after.node(symbol.id)
            if node is None:
                notes.append(f"{symbol.id} is not in the index of the patched tree")
                continue
            if node.kind == G.TEST:
                add(node.id, symbol.id)
            for test in _tests(resolver, f"symbol {symbol.id}"):
                add(test, symbol.id)
        gone = symbol.old_id if symbol.old_id else symbol.id if symbol.change == P.DELETED else None
        if gone is None:
            continue
        if before is None:
            notes.append(f"the tests of {gone} before the patch are unknown (its old version is not a commit)")
            continue
        for test in _tests(Resolver(before), f"symbol {gone}"):
            if after.node(test) is not None:
                add(test, gone)
    for touch in patch.files:
        if touch.language and not touch.binary and touch.status != "deleted" and (
                touch.module_lines or touch.old_module_lines) and after.node(touch.path) is not None:
            for test in _tests(resolver, f"file {touch.path}"):
                add(test, touch.path)
    return Selection(tests=tuple(sorted(why)), why={t: tuple(sorted(b)) for t, b in sorted(why.items())},
                     notes=tuple(notes))


def _tests(resolver: Resolver, region: str) -> list[str]:
    try:
        radius = resolver.radius(parse_region(region), depth=None)
    except SemleaseError:
        return []
    return list(radius.tests)
