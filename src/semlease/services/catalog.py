"""The regions one can lease, by kind, as the text an agent would type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from semlease.domain import graph as G
from semlease.domain.graph import GraphReader, Node

LIST_KINDS = ("behavior", "export", "symbol", "test", "fixture", "file")
_NODE_KINDS = {
    "export": (G.FUNCTION, G.CLASS, G.CONSTANT),
    "symbol": tuple(sorted(G.DEFINITION_KINDS)),
    "test": (G.TEST,),
    "fixture": (G.FIXTURE,),
    "file": (G.FILE,),
}


@dataclass(frozen=True)
class RegionItem:
    region: str  # what to type: the short form when it is unambiguous, else the path form
    kind: str
    id: str
    path: str
    line: int
    node_kind: str

    def to_json(self) -> dict:
        return {"region": self.region, "kind": self.kind, "id": self.id, "path": self.path,
                "line": self.line, "node_kind": self.node_kind}


def list_regions(graph: GraphReader, kinds: tuple[str, ...] = ("export", "fixture", "test", "file"),
                 match: str | None = None, behaviours: Mapping[str, Sequence[str]] | None = None) -> list[RegionItem]:
    """Regions of the given kinds; ``behaviours`` are the configured ones (``[tool.semlease.regions]``)."""
    items: list[RegionItem] = []
    needle = match.lower() if match else None
    for kind in kinds:
        if kind == "behavior":
            for name, parts in sorted((behaviours or {}).items()):
                text = f"behavior {name}"
                if needle and needle not in text.lower() and not any(needle in p.lower() for p in parts):
                    continue
                items.append(RegionItem(text, kind, name, "; ".join(parts), 0, "behavior"))
            continue
        nodes = [n for n in graph.iter_nodes(_NODE_KINDS[kind]) if _listable(kind, n)]
        short = Counter(_short_name(kind, n) for n in nodes)
        for n in nodes:
            name = _short_name(kind, n)
            if kind == "file":
                text = f"file {n.path}"
            elif kind == "test":
                text = "test " + n.path + "::" + n.qualname.replace(".", "::")
            elif short[name] == 1:
                text = f"{kind} {name}"
            else:
                text = f"{kind} {n.id}"
            if needle and needle not in text.lower() and needle not in n.id.lower():
                continue
            items.append(RegionItem(text, kind, n.id, n.path, n.start_line, n.kind))
    return items


def _listable(kind: str, n: Node) -> bool:
    if kind == "export":
        return n.parent == n.path and not n.qualname.startswith("_") and not n.test_support
    if kind == "test":
        return n.kind == G.TEST and not _is_test_class(n)
    return True


def _is_test_class(n: Node) -> bool:
    return n.signature.startswith("class ")


def _short_name(kind: str, n: Node) -> str:
    if kind == "fixture":
        return n.fixture_name or n.name
    if kind == "symbol":
        return n.qualname
    return n.name
