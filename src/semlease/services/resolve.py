"""Resolve a region to the definitions it names, then to its footprint (six roles) or blast radius.

Everything here reads the graph through :class:`GraphReader`, so it runs on the in-memory graph and on
the stored index alike. A region's *members* are its definitions and everything they contain (a class's
methods and fields): uses of a member count as uses of the region, and members never appear in any
role but ``definition`` and ``contract``.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterable

from semlease.domain import footprint as R
from semlease.domain import graph as G
from semlease.domain.footprint import Entry, Footprint, Radius, RadiusEntry
from semlease.domain.graph import Edge, GraphReader, Node
from semlease.domain.regions import Region
from semlease.errors import AmbiguousRegionError, SemleaseError, UnknownRegionError

_DEPENDENCY_KINDS = (G.REFERENCES, G.CALLS, G.IMPORTS)
_DEPENDENT_KINDS = (G.REFERENCES, G.CALLS, G.IMPORTS, G.REEXPORTS)
_HELPER_DEPTH = 3  # test helper -> helper -> ... -> region
_HELPER_KINDS = frozenset({G.FUNCTION, G.METHOD, G.CLASS, G.CONSTANT})
_EXPORT_KINDS = frozenset({G.FUNCTION, G.CLASS, G.CONSTANT})
_SYMBOL_KINDS = frozenset(G.DEFINITION_KINDS)

DEFAULT_RADIUS_DEPTH = 5


class Resolver:
    def __init__(self, graph: GraphReader, head: str | None = None) -> None:
        self.graph = graph
        self.head = head

    # ================================================================== region -> definitions
    def targets(self, region: Region) -> list[Node]:
        if region.kind == "behavior":
            raise SemleaseError(f"{region.text!r}: a behaviour is resolved from the project's configuration "
                                "(semlease.services.scoping), not from the graph alone")
        finder = {
            "export": self._find_export,
            "symbol": self._find_symbol,
            "test": self._find_test,
            "fixture": self._find_fixture,
            "file": self._find_file,
        }[region.kind]
        found = finder(region)
        if not found:
            raise UnknownRegionError(self._unknown_message(region), candidates=self._closest(region))
        if len(found) > 1:
            ids = sorted(n.id for n in found)
            raise AmbiguousRegionError(
                f"{region.text!r} is ambiguous: {len(ids)} candidates: " + ", ".join(ids[:10])
                + (" ..." if len(ids) > 10 else "")
                + f"; name one as '{region.kind} PATH::NAME'", candidates=ids)
        return found

    def _by_path(self, region: Region, kinds: Iterable[str]) -> list[Node]:
        path, qualname = region.path, region.qualname
        kinds = set(kinds)
        nodes = [n for n in self.graph.nodes_in_file(path or "") if n.kind in kinds]
        exact = [n for n in nodes if n.qualname == qualname]
        if exact:
            return exact
        return [n for n in nodes if n.kind == G.FIXTURE and n.fixture_name == qualname]

    def _find_export(self, region: Region) -> list[Node]:
        """Module-level definitions only, however the name is written (methods are `symbol`s)."""
        if region.path is not None:
            return [n for n in self._by_path(region, _EXPORT_KINDS) if n.parent == n.path]
        name = region.target
        if "." in name:
            return [n for n in self._nodes(self.graph.lookup_dotted(name)) if n.parent == n.path]
        return [n for n in self.graph.nodes_named(name)
                if n.kind in _EXPORT_KINDS and n.qualname == name and not n.test_support] or [
                n for n in self.graph.nodes_named(name) if n.kind in _EXPORT_KINDS and n.qualname == name]

    def _find_symbol(self, region: Region) -> list[Node]:
        if region.path is not None:
            return self._by_path(region, _SYMBOL_KINDS)
        name = region.target
        if "." in name:
            return (self._nodes(self.graph.lookup_dotted(name))
                    or [n for n in self.graph.nodes_with_qualname(name) if n.kind in _SYMBOL_KINDS]
                    or self._inherited(name))
        return [n for n in self.graph.nodes_named(name) if n.kind in _SYMBOL_KINDS and n.name == name]

    def _inherited(self, qualname: str) -> list[Node]:
        """`Flask.route` where `route` is defined on a base class: the definition `Flask` inherits."""
        owner, _, member = qualname.rpartition(".")
        classes = [n for n in self.graph.nodes_with_qualname(owner) if n.kind in (G.CLASS, G.TEST)]
        if not classes:  # a class reached by its module path or through a re-export (`billing.Invoice`)
            classes = [n for n in self._nodes(self.graph.lookup_dotted(owner)) if n.kind in (G.CLASS, G.TEST)]
        found: dict[str, Node] = {}
        for cls in classes:
            own = self.graph.node(f"{cls.id}.{member}")
            if own is not None:
                found[own.id] = own
                continue
            queue, seen = deque([cls.id]), {cls.id}
            while queue:  # breadth first: the nearest base wins, as in a simple MRO
                for e in self.graph.out_edges(queue.popleft(), (G.REFERENCES, G.CALLS)):
                    if not e.how.startswith("base ") or e.dst in seen:
                        continue
                    seen.add(e.dst)
                    hit = self.graph.node(f"{e.dst}.{member}")
                    if hit is not None:
                        found[hit.id] = hit
                        queue.clear()
                        break
                    queue.append(e.dst)
        return list(found.values())

    def _find_test(self, region: Region) -> list[Node]:
        if region.path is not None:
            return self._by_path(region, {G.TEST})
        name = region.target
        if "." in name:
            return [n for n in self.graph.nodes_with_qualname(name) if n.kind == G.TEST] or [
                n for n in self._nodes(self.graph.lookup_dotted(name)) if n.kind == G.TEST]
        return [n for n in self.graph.nodes_named(name) if n.kind == G.TEST and n.name == name]

    def _find_fixture(self, region: Region) -> list[Node]:
        if region.path is not None:
            return self._by_path(region, {G.FIXTURE})
        return [n for n in self.graph.nodes_named(region.target)
                if n.kind == G.FIXTURE and n.fixture_name == region.target]

    def _find_file(self, region: Region) -> list[Node]:
        node = self.graph.node(region.target)
        return [node] if node is not None and node.kind == G.FILE else []

    def _nodes(self, ids: Iterable[str]) -> list[Node]:
        return [n for n in (self.graph.node(i) for i in ids) if n is not None]

    def _unknown_message(self, region: Region) -> str:
        close = self._closest(region)
        hint = f"; closest: {', '.join(close)}" if close else ""
        if region.kind == "file" and region.target.startswith("/"):
            hint = "; give the path relative to the repository's top folder" + hint
        elif region.kind == "file" and any(n.path.startswith(region.target.rstrip("/") + "/")
                                           for n in self.graph.iter_nodes({G.FILE})):
            folder = region.target.rstrip("/")
            hint = (f"; {folder!r} is a folder: name one of its files, or lease its files with "
                    f"--scope '{folder}/**'") + hint
        what = {"file": "no indexed file", "test": "no test", "fixture": "no fixture"}.get(
            region.kind, "nothing")
        return f"{what} matches {region.text!r}{hint}"

    def _closest(self, region: Region) -> list[str]:
        if region.kind == "file":
            paths = [n.path for n in self.graph.iter_nodes({G.FILE})]
            return difflib.get_close_matches(region.target, paths, n=5, cutoff=0.5)
        kinds = {"export": _EXPORT_KINDS, "symbol": _SYMBOL_KINDS, "test": {G.TEST},
                 "fixture": {G.FIXTURE}}[region.kind]
        want = region.qualname.rpartition(".")[2]
        names = self.graph.names(kinds)
        return [f"{region.kind} {n}" for n in difflib.get_close_matches(want, names, n=5, cutoff=0.6)]

    # ================================================================== footprint
    def footprint(self, region: Region) -> Footprint:
        targets = self.targets(region)
        members = self._members(targets)
        roles: dict[str, list[Entry]] = {role: [] for role in R.ROLES}
        roles[R.DEFINITION] = [e for n in targets for e in _entries(n)]
        roles[R.CONTRACT] = self._contract(targets)
        roles[R.DEPENDENCIES] = self._dependencies(members)
        roles[R.DEPENDENTS] = self._dependents(members)
        tests, using_fixtures = self._tests(members)
        roles[R.TESTS] = tests
        roles[R.FIXTURES] = self._fixtures(members, [t.id for t in tests] + [
            n for n in members if self._kind(n) == G.TEST], using_fixtures)
        return Footprint(region=region.text, kind=region.kind, head=self.head,
                         footprint={role: tuple(_dedup(entries)) for role, entries in roles.items()})

    def _kind(self, node_id: str) -> str | None:
        n = self.graph.node(node_id)
        return n.kind if n else None

    def members(self, region: Region) -> list[Node]:
        """The region's definitions and everything they contain (a class's methods and fields)."""
        return list(self._members(self.targets(region)).values())

    def _members(self, targets: list[Node]) -> dict[str, Node]:
        members: dict[str, Node] = {}
        queue = deque(targets)
        while queue:
            n = queue.popleft()
            if n.id in members:
                continue
            members[n.id] = n
            for e in self.graph.out_edges(n.id, (G.CONTAINS,)):
                child = self.graph.node(e.dst)
                if child is not None:
                    queue.append(child)
        return members

    def _contract(self, targets: list[Node]) -> list[Entry]:
        out: list[Entry] = []
        for n in targets:
            if n.kind == G.FILE:
                for child in self._children(n.id):
                    if _is_public(child.name):
                        out += self._contract_of(child)
            else:
                out += self._contract_of(n)
        return out

    def _contract_of(self, n: Node) -> list[Entry]:
        if n.kind == G.CONSTANT:
            return _span_entry(n, "constant")
        if n.kind != G.CLASS and not _is_test_class(n):
            return _span_entry(n, "signature")
        out = _span_entry(n, "class-header")
        for child in self._children(n.id):
            if child.kind == G.CONSTANT:
                out += _span_entry(child, "field")
            elif child.kind in (G.METHOD, G.FUNCTION, G.FIXTURE, G.TEST) and (
                    _is_public(child.name) or child.name in ("__init__", "__call__")):
                out += _span_entry(child, "signature")
            elif child.kind == G.CLASS and _is_public(child.name):
                out += self._contract_of(child)
        return out

    def _children(self, node_id: str) -> list[Node]:
        nodes = self._nodes(e.dst for e in self.graph.out_edges(node_id, (G.CONTAINS,)))
        return sorted(nodes, key=lambda n: n.start_line)

    def _dependencies(self, members: dict[str, Node]) -> list[Entry]:
        out: list[Entry] = []
        for m in members:
            for e in self.graph.out_edges(m, _DEPENDENCY_KINDS):
                if e.dst in members:
                    continue
                n = self.graph.node(e.dst)
                if n is not None:
                    out.append(_entry(n, via=e.how))
        return out

    def _dependents(self, members: dict[str, Node]) -> list[Entry]:
        out: list[Entry] = []
        for enclosing in self._enclosing_functions(members):
            out.append(_entry(enclosing, via="defines it (a nested function is part of its body)"))
        for m in members:
            for e in self.graph.in_edges(m, _DEPENDENT_KINDS):
                if e.src in members:
                    continue
                n = self.graph.node(e.src)
                if n is not None and n.kind not in (G.TEST, G.FIXTURE) and self._enclosing_test(n) is None:
                    out.append(_entry(n, via=f"{e.kind}: {e.how}"))
        return out

    def _tests(self, members: dict[str, Node]) -> tuple[list[Entry], set[str]]:
        """Tests reaching the region directly, through test helpers, or through fixtures."""
        out: list[Entry] = []
        # test helpers: non-test definitions in test code that use the region, a few hops out
        helpers: dict[str, str] = {}  # helper id -> why
        frontier = list(members)
        for _ in range(_HELPER_DEPTH):
            nxt = []
            for node_id in frontier:
                for e in self.graph.in_edges(node_id, (G.CALLS, G.REFERENCES)):
                    src = self.graph.node(e.src)
                    if (src is None or e.src in members or e.src in helpers or not src.test_support
                            or src.kind not in _HELPER_KINDS):
                        continue
                    helpers[e.src] = f"through helper {src.qualname}"
                    nxt.append(e.src)
            frontier = nxt
        # fixtures that are the region or use it (or a helper). A test's uses_fixture edges already hold
        # its whole fixture closure, bound from the test's place, so no fixture chain is walked here.
        fixtures: dict[str, str] = {}
        for node_id in [*members, *helpers]:
            n = members.get(node_id)
            if n is not None and n.kind == G.FIXTURE:
                fixtures[node_id] = f"through fixture {n.fixture_name}"
            for e in self.graph.in_edges(node_id, (G.CALLS, G.REFERENCES)):
                src = self.graph.node(e.src)
                if src is not None and src.kind == G.FIXTURE and e.src not in fixtures:
                    fixtures[e.src] = f"through fixture {src.fixture_name}"
        for node_id in members:
            for e in self.graph.in_edges(node_id, (G.CALLS, G.REFERENCES, G.COVERS)):
                self._add_test(out, members, e.src, "direct")
        for helper, why in helpers.items():
            for e in self.graph.in_edges(helper, (G.CALLS, G.REFERENCES)):
                self._add_test(out, members, e.src, why)
        for fixture, why in fixtures.items():
            for e in self.graph.in_edges(fixture, (G.USES_FIXTURE,)):
                self._add_test(out, members, e.src, why)
        return out, set(fixtures) - set(members)

    def _add_test(self, out: list[Entry], members: dict[str, Node], node_id: str, why: str) -> None:
        if node_id in members:
            return
        n = self.graph.node(node_id)
        if n is None:
            return
        if n.kind != G.TEST:
            # a function nested in a test (a route, a callback) is the test's own code
            n = self._enclosing_test(n)
            if n is None or n.id in members:
                return
            why = f"{why}, inside the test"
        if _is_test_class(n):  # a test class: its methods are the tests
            for child in self._children(n.id):
                if child.kind == G.TEST:
                    out.append(_entry(child, via=why))
            return
        out.append(_entry(n, via=why))

    def _enclosing_functions(self, members: dict[str, Node]) -> list[Node]:
        """Functions that hold a member as a nested function (a decorator's wrapper, a closure): a
        change to the nested function changes what the enclosing one returns or does."""
        out = []
        for m in members.values():
            if m.parent and m.parent not in members and m.kind in (G.FUNCTION, G.CLASS):
                parent = self.graph.node(m.parent)
                if parent is not None and parent.kind in (G.FUNCTION, G.METHOD, G.FIXTURE):
                    out.append(parent)
        return out

    def _enclosing_test(self, n: Node) -> Node | None:
        """The test a definition is nested in, if any (a test's helper function, a test's route)."""
        parent = n.parent
        while parent and "::" in parent:
            p = self.graph.node(parent)
            if p is None:
                return None
            if p.kind == G.TEST and not _is_test_class(p):
                return p
            parent = p.parent
        return None

    def _fixtures(self, members: dict[str, Node], tests: list[str], using: set[str]) -> list[Entry]:
        """Fixtures the tests use (each test's edges hold its closure), plus fixtures using the region."""
        seen: set[str] = set()
        out: list[Entry] = []
        for t in tests:
            for e in self.graph.out_edges(t, (G.USES_FIXTURE,)):
                if e.dst in seen or e.dst in members:
                    continue
                seen.add(e.dst)
                n = self.graph.node(e.dst)
                if n is not None:
                    out.append(_entry(n, via=e.how))
        for f in sorted(using - seen):
            n = self.graph.node(f)
            if n is not None:
                out.append(_entry(n, via="uses the region"))
        return out

    # ================================================================== radius
    def radius(self, region: Region, depth: int | None = DEFAULT_RADIUS_DEPTH) -> Radius:
        """Transitive dependents, nearest first, and every test that exercises the region or them.

        Tests and fixtures are not dependents: the tests that reach the region or any listed dependent
        (directly, through fixtures, or through test helpers) are listed under ``tests``.
        """
        targets = self.targets(region)
        members = self._members(targets)
        seen: set[str] = set(members)
        dependents: list[RadiusEntry] = []
        reached: dict[str, Node] = dict(members)
        frontier = list(members)
        distance = 0
        while frontier and (depth is None or distance < depth):
            distance += 1
            nxt: list[str] = []
            for node_id in sorted(frontier):
                edges = sorted(self.graph.in_edges(node_id, G.USE_KINDS), key=_edge_key)
                node = reached.get(node_id) or self.graph.node(node_id)
                edges += [Edge(p.id, node_id, G.CONTAINS, "encloses") for p in
                          self._enclosing_functions({node_id: node} if node is not None else {})]
                for e in edges:
                    if e.src in seen:
                        continue
                    seen.add(e.src)
                    n = self.graph.node(e.src)
                    if n is None or n.kind in (G.TEST, G.FIXTURE) or self._enclosing_test(n) is not None:
                        continue
                    dependents.append(RadiusEntry(**_entry(n).model_dump(exclude={"via"}),
                                                  distance=distance, via=node_id))
                    reached[n.id] = n
                    # A file is listed for its module-level uses (an import line, a top-level call) but
                    # not followed: whoever imports that module uses its definitions, which the graph
                    # already links one by one. Following files would reach every importer of a package.
                    if n.kind != G.FILE:
                        nxt.append(e.src)
            frontier = nxt
        tests, _ = self._tests(reached)
        test_ids = sorted({t.id for t in tests})
        files = sorted({d.path for d in dependents} | {t.partition("::")[0] for t in test_ids})
        return Radius(region=region.text, depth=depth, dependents=tuple(dependents), files=tuple(files),
                      tests=tuple(test_ids))


def _entry(n: Node, via: str | None = None) -> Entry:
    return Entry(id=n.id, kind=n.kind, path=n.path, start_line=n.start_line, end_line=n.end_line, via=via)


def _entries(n: Node) -> list[Entry]:
    """The node's own span, then each further definition of the same name (a setter, a variant)."""
    return [_entry(n)] + [Entry(id=n.id, kind=n.kind, path=n.path, start_line=start, end_line=end,
                                via="defined again under the same name")
                          for start, end, _, _ in n.more_spans]


def _span_entry(n: Node, kind: str) -> list[Entry]:
    start = n.contract_start or n.start_line
    end = n.contract_end or start
    return [Entry(id=n.id, kind=kind, path=n.path, start_line=start, end_line=end)] + [
        Entry(id=n.id, kind=kind, path=n.path, start_line=cs or s, end_line=ce or cs or s)
        for s, _, cs, ce in n.more_spans]


def _is_test_class(n: Node) -> bool:
    return n.kind == G.TEST and n.signature.startswith("class ")


def _is_public(name: str) -> bool:
    return not name.startswith("_")


def _edge_key(e: Edge) -> tuple[str, str]:
    return (e.src, e.kind)


def _dedup(entries: list[Entry]) -> list[Entry]:
    seen: set[tuple[str, str, int]] = set()
    out: list[Entry] = []
    for e in entries:
        key = (e.id, e.kind, e.start_line)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return sorted(out, key=lambda e: (e.path, e.start_line, e.id))
