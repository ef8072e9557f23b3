"""The symbol graph: nodes are files and definitions, edges say how one uses another.

Ids are stable and readable: a file's id is its repository-relative path (``src/billing/invoice.py``), a
definition's id is ``path::qualname`` (``src/billing/invoice.py::Invoice.total``).

Two things hold a graph: :class:`SymbolGraph`, a networkx multigraph built by the linker, and the stored
index (adapters) which answers the same questions from SQLite without loading everything. Services only
use the :class:`GraphReader` protocol, so a one-shot command reads a handful of rows while the indexer
and tests work on the in-memory graph.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # networkx costs ~80 ms to import: loaded only when a caller asks for it
    import networkx as nx


# Node kinds
FILE = "file"
FUNCTION = "function"
CLASS = "class"
METHOD = "method"
CONSTANT = "constant"
TEST = "test"  # a test function, test method or test class
FIXTURE = "fixture"

DEFINITION_KINDS = frozenset({FUNCTION, CLASS, METHOD, CONSTANT, TEST, FIXTURE})

# Edge kinds
CONTAINS = "contains"  # file -> top-level definition, class -> method, function -> nested function
IMPORTS = "imports"  # importer (file, or the function holding the import) -> imported file or definition
REFERENCES = "references"  # user -> used (names, attribute chains, annotations, bases, decorators, defaults)
CALLS = "calls"  # caller -> called function, method or class
COVERS = "covers"  # test -> the non-test definition it exercises directly
USES_FIXTURE = "uses_fixture"  # test or fixture -> the fixture definition its request binds to
REEXPORTS = "reexports"  # module -> definition it makes importable under its own name

EDGE_KINDS = (CONTAINS, IMPORTS, REFERENCES, CALLS, COVERS, USES_FIXTURE, REEXPORTS)
# Edges along which a change to the target can break the source.
USE_KINDS = frozenset({IMPORTS, REFERENCES, CALLS, COVERS, USES_FIXTURE, REEXPORTS})


def symbol_id(path: str, qualname: str) -> str:
    return f"{path}::{qualname}"


def split_id(node_id: str) -> tuple[str, str]:
    """``path::qualname`` -> (path, qualname); a file id gives (path, "")."""
    path, _, qualname = node_id.partition("::")
    return path, qualname


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str
    path: str
    qualname: str  # "" for a file
    start_line: int
    end_line: int
    contract_start: int = 0  # contract span (signature lines); 0 when none
    contract_end: int = 0
    signature: str = ""
    parent: str | None = None  # id of the containing definition or file
    fixture_name: str | None = None  # the name tests request, for fixtures
    language: str = ""
    test_support: bool = False  # lives in test code (a test file, conftest, a tests/ folder)
    # Further definitions of the same name in the same scope (a property's setter, `if`/`else`
    # variants): (start, end, contract start, contract end) each. The first one is the node's own span.
    more_spans: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def name(self) -> str:
        return self.qualname.rpartition(".")[2] if self.qualname else self.path.rpartition("/")[2]

    @property
    def is_test(self) -> bool:
        return self.kind == TEST

    def __str__(self) -> str:
        return f"{self.id} ({self.kind}, l. {self.start_line}-{self.end_line})"


@dataclass(frozen=True, slots=True)
class Edge:
    src: str
    dst: str
    kind: str
    how: str = ""  # how the linker found it, e.g. "call billing.create_invoice via import billing"
    line: int = 0  # where in src's file the use is written

    def __str__(self) -> str:
        return f"{self.src} -{self.kind}-> {self.dst} (l. {self.line}: {self.how})"


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A use the linker could not bind inside the repository; kept, never guessed."""

    path: str
    line: int
    scope: str  # id of the definition (or file) holding the use
    text: str  # the import or the dotted name as written
    reason: str  # "module not in repository", "name not defined in module", ...


class GraphReader(Protocol):
    """The questions the resolver asks of a graph."""

    def node(self, node_id: str) -> Node | None: ...

    def out_edges(self, node_id: str, kinds: Collection[str] | None = None) -> list[Edge]: ...

    def in_edges(self, node_id: str, kinds: Collection[str] | None = None) -> list[Edge]: ...

    def nodes_named(self, name: str) -> list[Node]:
        """Definitions whose last qualname part is ``name`` (and, for fixtures, whose fixture name is)."""
        ...

    def nodes_with_qualname(self, qualname: str) -> list[Node]: ...

    def nodes_in_file(self, path: str) -> list[Node]: ...

    def lookup_dotted(self, dotted: str) -> list[str]:
        """Node ids importable as ``dotted`` (module path + name, re-exports included)."""
        ...

    def iter_nodes(self, kinds: Collection[str] | None = None) -> Iterator[Node]: ...

    def names(self, kinds: Collection[str] | None = None) -> list[str]:
        """Distinct short names of the nodes of these kinds, for suggesting the closest to a typo."""
        ...


class SymbolGraph:
    """The in-memory graph built by the linker.

    Adjacency lives in plain dicts keyed by id, because the linker looks nodes up hundreds of thousands
    of times while it builds (networkx's attribute views cost ~5x more per lookup). :meth:`to_networkx`
    gives the same graph as a networkx ``MultiDiGraph`` (edge key = edge kind) for graph algorithms.
    """

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._out: dict[str, dict[tuple[str, str], Edge]] = {}  # src -> (dst, kind) -> edge
        self._in: dict[str, dict[tuple[str, str], Edge]] = {}  # dst -> (src, kind) -> edge
        self._by_name: dict[str, list[str]] = {}
        self._by_qualname: dict[str, list[str]] = {}
        self._by_file: dict[str, list[str]] = {}
        self._dotted: dict[str, dict[str, str]] = {}  # name -> node id -> owner file (insertion-ordered)
        self.unresolved: list[Unresolved] = []
        self._edge_count = 0

    # -- building -------------------------------------------------------------------------------
    def add_node(self, node: Node) -> None:
        if node.id in self._nodes:
            return
        self._nodes[node.id] = node
        self._by_file.setdefault(node.path, []).append(node.id)
        if node.kind != FILE:
            self._by_name.setdefault(node.name, []).append(node.id)
            self._by_qualname.setdefault(node.qualname, []).append(node.id)
            if node.fixture_name and node.fixture_name != node.name:
                self._by_name.setdefault(node.fixture_name, []).append(node.id)

    def replace_node(self, node: Node) -> None:
        """Swap a node for a new version of itself (same id, name and file; a refined kind)."""
        old = self._nodes.get(node.id)
        if old is None or (old.path, old.qualname) != (node.path, node.qualname):
            raise ValueError(f"replace_node needs an existing node with the same place: {node.id}")
        self._nodes[node.id] = node

    def add_edge(self, edge: Edge) -> None:
        """Keep one edge per (src, dst, kind): the first occurrence explains it best."""
        if edge.src == edge.dst:
            return
        out = self._out.setdefault(edge.src, {})
        key = (edge.dst, edge.kind)
        if key in out:
            return
        out[key] = edge
        self._in.setdefault(edge.dst, {})[(edge.src, edge.kind)] = edge
        self._edge_count += 1

    def add_dotted(self, dotted: str, node_id: str, owner: str | None = None) -> None:
        """``dotted`` imports as ``node_id``; ``owner`` is the file whose module name it is written with
        (a package re-exporting a name owns that spelling), the node's own file by default."""
        self._dotted.setdefault(dotted, {}).setdefault(node_id, owner or split_id(node_id)[0])

    # -- reading (GraphReader) --------------------------------------------------------------------
    def node(self, node_id: str) -> Node | None:
        return self._nodes.get(node_id)

    def has_node(self, node_id: str) -> bool:
        return node_id in self._nodes

    def out_edges(self, node_id: str, kinds: Collection[str] | None = None) -> list[Edge]:
        edges = self._out.get(node_id)
        if not edges:
            return []
        return [e for e in edges.values() if kinds is None or e.kind in kinds]

    def in_edges(self, node_id: str, kinds: Collection[str] | None = None) -> list[Edge]:
        edges = self._in.get(node_id)
        if not edges:
            return []
        return [e for e in edges.values() if kinds is None or e.kind in kinds]

    def nodes_named(self, name: str) -> list[Node]:
        return [self._nodes[i] for i in self._by_name.get(name, ())]

    def nodes_with_qualname(self, qualname: str) -> list[Node]:
        return [self._nodes[i] for i in self._by_qualname.get(qualname, ())]

    def nodes_in_file(self, path: str) -> list[Node]:
        return [self._nodes[i] for i in self._by_file.get(path, ())]

    def lookup_dotted(self, dotted: str) -> list[str]:
        return list(self._dotted.get(dotted, ()))

    def iter_nodes(self, kinds: Collection[str] | None = None) -> Iterator[Node]:
        for node in self._nodes.values():
            if kinds is None or node.kind in kinds:
                yield node

    def names(self, kinds: Collection[str] | None = None) -> list[str]:
        return sorted({n.name for n in self.iter_nodes(kinds)})

    # -- bulk access ----------------------------------------------------------------------------
    def all_edges(self) -> Iterable[Edge]:
        return (e for edges in self._out.values() for e in edges.values())

    def dotted_items(self) -> Iterable[tuple[str, str]]:
        return ((dotted, i) for dotted, ids in self._dotted.items() for i in ids)

    def dotted_rows(self) -> Iterable[tuple[str, str, str]]:
        """``(dotted name, node id, owner file)``."""
        return ((dotted, i, owner) for dotted, ids in self._dotted.items() for i, owner in ids.items())

    def to_networkx(self) -> nx.MultiDiGraph:
        """The graph as networkx: node attribute ``data`` is the Node, edge key is the edge kind and
        edge attributes are ``how`` and ``line``."""
        import networkx as nx

        g = nx.MultiDiGraph()
        g.add_nodes_from((i, {"data": n}) for i, n in self._nodes.items())
        g.add_edges_from((e.src, e.dst, e.kind, {"how": e.how, "line": e.line}) for e in self.all_edges())
        return g

    @property
    def node_count(self) -> int:
        return len(self._nodes)

    @property
    def edge_count(self) -> int:
        return self._edge_count
