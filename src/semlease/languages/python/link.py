"""Cross-file linking for Python: bind every import, reference and fixture request to a definition.

Module names come from the folders the files live in. A *root* is a folder imports are written from: the
repository itself, ``src/``-style folders, and any top folder that holds packages without being one. A
file can be reached by several names (``src.billing.invoice`` and ``billing.invoice``): all are kept.
Relative imports are resolved by path, so they never depend on guessing a root.

Values met while resolving are modules (a ``.py`` file or a folder, namespace packages included) or
definitions. An attribute of a package is first looked up in its ``__init__.py`` (following its own
imports, star imports and ``__all__``), then as a submodule. A name that cannot be bound inside the
repository is recorded in ``graph.unresolved`` with the reason, never guessed.

Instances are followed only where the source states their type (``Binding`` facts): a parameter or a
variable annotated with a class, a variable assigned a class's instance or the result of a function whose
return annotation names a class, ``self.attr`` set so in a method, a class-level field annotated with a
class. ``x.method()`` then links to the method (found in the class or its bases); a name whose bindings
disagree or cannot be resolved links nowhere, and ``x.unknown()`` never links to the class itself.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from semlease.domain import facts as F
from semlease.domain import graph as G
from semlease.domain.facts import Binding, Definition, FileFacts, Import, Reference

_MOD = "mod"
_SYM = "sym"
_INST = "inst"  # only while following a typed chain: an instance of the class whose node id follows
Value = tuple[str, str]  # (_MOD, file path or folder) | (_SYM, node id) | (_INST, class node id)
_PROPERTY_DECORATORS = frozenset(("property", "cached_property", "functools.cached_property"))

_TEST_DIRS = frozenset({"tests", "test", "testing"})
_ROOT_NAMES = ("src", "lib", "python", "Lib")
_MAX_ROOT_DEPTH = 2


def link_python(facts: Mapping[str, FileFacts], graph: G.SymbolGraph, *, files: Iterable[str] | None = None,
                targets: Iterable[str] | None = None, base: G.GraphReader | None = None) -> dict[str, set[str]]:
    """Link every file (or only ``targets``, see :class:`PythonLinker`); returns, per linked file, the files
    its linking read."""
    linker = PythonLinker(facts, graph, files=files, targets=targets, base=base)
    linker.link()
    return linker.file_reads


def interface_digest(facts: FileFacts) -> str:
    """What other files' linking can read of this file, as a digest: its definitions (names, kinds, places
    in each other, decorators, bases, return annotations, fixtures and the fixtures they request), its
    imports, ``__all__``, the types it states at module and class level, its pytest plugins. Not its
    line numbers, nor what its function bodies use: a change that keeps the digest cannot change another
    file's edges, so only the file itself is relinked."""
    kinds = {d.qualname: d.kind for d in facts.definitions}
    parts: list[object] = [
        [(d.qualname, d.kind, d.parent, d.decorators, d.bases, d.returns, d.is_async, d.is_test,
          (d.fixture.name, d.fixture.autouse, d.fixture.scope) if d.fixture else None,
          d.fixture_requests if d.fixture else ()) for d in facts.definitions],
        [(i.module, i.name, i.alias, i.level, i.type_checking) for i in facts.imports if not i.scope],
        facts.dunder_all, facts.pytest_plugins, facts.module_fixture_requests,
        [(b.scope, b.name, b.type_chain, b.how) for b in facts.bindings
         if not b.scope or kinds.get(b.scope) == F.CLASS],
    ]
    return hashlib.sha1(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()


def interface_names(facts: FileFacts) -> set[str]:
    """The names a file offers others: definitions, fixtures, module-level imports, ``__all__``."""
    names = {d.qualname.rpartition(".")[2] for d in facts.definitions}
    names |= {d.fixture.name for d in facts.definitions if d.fixture}
    names |= {i.bound_name for i in facts.imports if not i.scope and i.bound_name}
    names |= set(facts.dunder_all or ())
    if posixpath.basename(facts.path) == "__init__.py":  # the submodules it imports (see _submodule_bound)
        names |= {i.module.partition(".")[0] for i in facts.imports if not i.scope and i.level == 1 and i.module}
    return names


def is_test_support_path(path: str) -> bool:
    """Test code by pytest's conventions: test files, conftest.py, anything under a tests/ folder."""
    parts = path.split("/")
    name = parts[-1]
    return (name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py")
            or any(p in _TEST_DIRS for p in parts[:-1]))


def _import_roots(files: Iterable[str], dirs: set[str], package_dirs: set[str]) -> set[str]:
    """The folders a module name is counted from (``""`` for the top, ``src`` in a src layout, ...), filling
    ``dirs`` (every folder holding a file) and ``package_dirs`` (folders with an ``__init__.py``)."""
    for path in files:
        d = posixpath.dirname(path)
        if path.endswith("/__init__.py") or path == "__init__.py":
            package_dirs.add(d)
        while d:
            if d in dirs:
                break
            dirs.add(d)
            d = posixpath.dirname(d)
    roots = {""}
    for d in dirs:
        depth = d.count("/") + 1
        if d in package_dirs or depth > _MAX_ROOT_DEPTH:
            continue
        if posixpath.basename(d) in _ROOT_NAMES or any(posixpath.dirname(p) == d for p in package_dirs):
            if not any(a in package_dirs for a in _ancestors(d)):
                roots.add(d)
    return roots


MODULE_READ = "?"  # a link dependency on a module name looked up (`?billing.invoice`), not on a file


def module_reads(paths: Iterable[str], files: Iterable[str]) -> set[str]:
    """What files added (or removed) at ``paths`` answer for the files that looked for them: their paths,
    and each module name they bear (one per import root holding them), as the linker records lookups."""
    found = set(paths)
    modules = [p for p in found if p.endswith(".py") and posixpath.basename(p) != "__init__.py"]
    if not modules:  # an __init__.py added or removed changes the layout: everything is linked again
        return found
    roots = _import_roots([f for f in files if f.endswith(".py")], set(), set())
    for path in modules:
        for root in roots:
            prefix = root + "/" if root else ""
            if path.startswith(prefix):
                name = path[len(prefix):-3].replace("/", ".")
                if all(part.isidentifier() for part in name.split(".")):
                    found.add(MODULE_READ + name)
    return found


def layout(files: Iterable[str]) -> tuple:
    """What module names are counted from: the import roots, the folders and the packages. Files added or
    removed while it stays the same change only the names of those files, so linking again what read them
    (or read their absence) is exact; when it changes, every file is linked again."""
    dirs: set[str] = set()
    packages: set[str] = set()
    roots = _import_roots([f for f in files if f.endswith(".py")], dirs, packages)
    return tuple(sorted(roots)), tuple(sorted(dirs)), tuple(sorted(packages))


def import_roots(files: Iterable[str]) -> list[str]:
    """The folders to put on ``sys.path`` so that the repository's modules import from it: ``src`` and its
    kind first, then other roots, the top last: what a test run needs to test this tree rather than an
    installed copy."""
    roots = _import_roots([f for f in files if f.endswith(".py")], set(), set())
    # src/, lib/... first (where a src layout keeps its packages), then other roots, the top last
    return sorted(roots, key=lambda r: (r == "", posixpath.basename(r) not in _ROOT_NAMES, r.count("/"), r))


def pytest_node_id(node_id: str) -> str:
    """``tests/test_a.py::TestA.test_b`` -> ``tests/test_a.py::TestA::test_b``, as pytest selects it."""
    path, _, qualname = node_id.partition("::")
    return f"{path}::{qualname.replace('.', '::')}" if qualname else path


@dataclass
class _FileScope:
    """Per-file lookup tables built once before linking."""

    facts: FileFacts
    defs: dict[str, Definition]  # qualname -> definition
    module_imports: dict[str, Import]  # bound name -> first module-level import binding it
    scoped_imports: dict[tuple[str, str], Import]  # (scope qualname, bound name) -> import
    star_imports: list[Import]
    # constants per holding scope ("" = module, or a class qualname): (first line, last line, qualname)
    constants: dict[str, list[tuple[int, int, str]]]
    bindings: dict[tuple[str, str], list[Binding]]  # (scope qualname, name) -> its typed bindings
    bound_names: set[str]  # every name in `bindings`
    returning: dict[str, Definition]  # qualname -> the (first) non-async function with a `returns` chain
    properties: dict[str, Definition]  # qualname -> a property getter with a `returns` chain
    fallback_imports: dict[str, list[Import]] = field(default_factory=dict)  # later imports of a name

    def constant_at(self, scope: str, line: int) -> str | None:
        """The constant whose statement holds `line`, so `ROUTES = {"/x": handler}` is ROUTES' use."""
        for start, end, qualname in self.constants.get(scope, ()):
            if start <= line <= end:
                return qualname
        return None


class _Reads:
    """Which files the linking of each file reads (their facts, their nodes), for relinking only what a
    change can reach. A cached answer carries the reads that produced it, so a file answered from a cache
    still depends on what the answer was read from."""

    def __init__(self) -> None:
        self.frames: list[set[str]] = [set()]

    def note(self, path: str) -> None:
        self.frames[-1].add(path)

    def begin(self) -> None:
        self.frames.append(set())

    def end(self) -> frozenset[str]:
        found = self.frames.pop()
        self.frames[-1] |= found
        return frozenset(found)

    def replay(self, paths: frozenset[str]) -> None:
        self.frames[-1] |= paths

    def take(self) -> set[str]:
        found, self.frames = self.frames[0], [set()]
        return found


class _Cycles:
    """Which answers may be cached. Inside a lookup cycle (`from .a import *` in b and `from .b import *`
    in a) an answer found while one of its lookups met a key still being computed further out depends on
    where the cycle was entered: caching it would make what a file links to, and what it reads, depend on
    which file was linked first. Such answers are computed again when asked again; the outermost key of
    the cycle, which met only itself, is cached."""

    def __init__(self) -> None:
        self.depth: dict[object, int] = {}  # key being computed -> its place on the stack
        self.low: list[int] = []  # per frame: the lowest stack place its lookups met

    def reached(self, ident: object) -> None:
        """A lookup met ``ident`` in the cache: an answer, or (while it is computed) its placeholder."""
        place = self.depth.get(ident)
        if place is not None and self.low:
            self.low[-1] = min(self.low[-1], place)

    def enter(self, ident: object) -> None:
        self.depth[ident] = len(self.low)
        self.low.append(len(self.low))

    def leave(self, ident: object) -> bool:
        """Done computing ``ident``: may its answer be cached?"""
        place, low = self.depth.pop(ident), self.low.pop()
        if low < place:
            self.low[-1] = min(self.low[-1], low)
            return False
        return True


class _Scopes:
    """Each file's lookup tables, built when first asked for (a relink reads a handful of files), every
    access noted as a read."""

    def __init__(self, linker: PythonLinker) -> None:
        self.linker = linker
        self.built: dict[str, _FileScope] = {}

    def __getitem__(self, path: str) -> _FileScope:
        self.linker.reads.frames[-1].add(path)
        scope = self.built.get(path)
        if scope is None:
            scope = self.built[path] = self.linker._build_scope(path, self.linker.facts[path])
        return scope

    def get(self, path: str) -> _FileScope | None:
        return self[path] if path in self.linker.files else None

    def __contains__(self, path: object) -> bool:
        return path in self.linker.files


_MISSING = object()


class PythonLinker:
    """Links files into the graph. Given ``targets``, it links only those files: the facts of the others
    are read (lazily, from ``facts``) where a target's names lead, and their nodes come from ``base``, the
    graph as it stands. ``reads`` then tells, per target, which files its edges were read from."""

    def __init__(self, facts: Mapping[str, FileFacts], graph: G.SymbolGraph, *, files: Iterable[str] | None = None,
                 targets: Iterable[str] | None = None, base: G.GraphReader | None = None) -> None:
        self.facts = facts if files is not None else {p: f for p, f in facts.items() if f.language == "python"}
        self.graph = graph
        self.files: set[str] = set(files) if files is not None else set(self.facts)
        self.targets: list[str] = sorted(targets) if targets is not None else sorted(self.files)
        self._target_set = set(self.targets)
        self.base = base
        self.reads = _Reads()
        self.cycles = _Cycles()
        self.file_reads: dict[str, set[str]] = {}  # target -> files its linking read
        self.dirs: set[str] = set()
        self.package_dirs: set[str] = set()
        self.roots: set[str] = set()
        self.first_root = ""  # the import root whose modules no other root's can displace
        self.modmap: dict[str, str] = {}  # dotted module name -> file path or folder
        self.module_names: dict[str, list[str]] = {}  # file path or folder -> its dotted names
        self.scopes = _Scopes(self)
        # Caches hold (answer, the files read to find it).
        self._export_cache: dict[tuple[str, str], tuple[Value | None, frozenset[str]]] = {}
        self._bases_cache: dict[str, tuple[list[str], frozenset[str]]] = {}
        # (path, scope, name) -> (class node id, how it was stated) of a typed name, None when unknown
        self._type_cache: dict[tuple[str, str, str], tuple[tuple[str, str] | None, frozenset[str]]] = {}
        self._attribute_cache: dict[tuple[str, str], tuple[tuple[str, str] | None, frozenset[str]]] = {}

    # ---------------------------------------------------------------- driver
    def link(self) -> None:
        self._build_module_map()
        self._add_nodes()
        self._mark_unittest_classes()
        self._link_imports()
        self._link_references()
        self._link_fixtures()
        self._link_covers()
        self._add_dotted_names()

    def _each_target(self) -> Iterator[tuple[str, _FileScope]]:
        """The target files in order, each one's reads noted under its name."""
        for path in self.targets:
            self.reads.take()
            yield path, self.scopes[path]
            self.file_reads.setdefault(path, set()).update(self.reads.take())

    def _node(self, node_id: str) -> G.Node | None:
        """A node of a target from the graph being built, of any other file from the graph as it stands;
        noted as a read of its file (its absence too). Hot: a few hundred thousand calls per full link."""
        if self.base is None:
            node = self.graph.node(node_id)
        else:
            path = node_id.partition("::")[0]
            if path in self._target_set:
                node = self.graph.node(node_id)
            else:  # a file removed since the stored graph was built has no nodes any more
                node = self.base.node(node_id) if path in self.files else None
        if node is not None:
            self.reads.frames[-1].add(node.path)
        else:
            path, sep, _ = node_id.partition("::")
            if sep:
                self.reads.frames[-1].add(path)
        return node

    def _cached(self, cache: dict, key: object, compute: Callable[[], object], placeholder: object = _MISSING):
        """``compute()`` once per key; a hit replays the reads the first computation made. ``placeholder``
        is the answer while the key is being computed (a guard against cycles)."""
        ident = (id(cache), key)
        hit = cache.get(key, _MISSING)
        if hit is not _MISSING:
            self.cycles.reached(ident)
            self.reads.replay(hit[1])
            return hit[0]
        if placeholder is not _MISSING:
            cache[key] = (placeholder, frozenset())
        self.cycles.enter(ident)
        self.reads.begin()
        try:
            value = compute()
        finally:
            deps = self.reads.end()
            cacheable = self.cycles.leave(ident)
        if cacheable:
            cache[key] = (value, deps)
        else:
            cache.pop(key, None)  # the placeholder
        return value

    # ---------------------------------------------------------------- modules
    def _build_module_map(self) -> None:
        roots = _import_roots(self.files, self.dirs, self.package_dirs)
        # Deeper roots first so that `billing.invoice` prefers src/billing/invoice.py over a stray
        # top-level billing/ folder only when both exist; every name is still recorded.
        self.roots = roots
        ordered = sorted(roots, key=lambda r: (-r.count("/") - (1 if r else 0), r))
        self.first_root = ordered[0] + "/" if ordered[0] else ""
        for root in ordered:
            prefix = root + "/" if root else ""
            for key in list(self.files) + list(self.dirs):
                if not key.startswith(prefix) or key == root:
                    continue
                rel = key[len(prefix):]
                if key in self.files:
                    if not rel.endswith(".py"):
                        continue
                    rel = rel[:-3]
                    if rel.endswith("/__init__") or rel == "__init__":
                        continue  # the package folder stands for it
                name = rel.replace("/", ".")
                if not all(part.isidentifier() for part in name.split(".")):
                    continue
                self.modmap.setdefault(name, key)
                self.module_names.setdefault(key, []).append(name)

    def _init_file(self, folder: str) -> str | None:
        init = f"{folder}/__init__.py" if folder else "__init__.py"
        return init if init in self.files else None

    def _module_node_id(self, key: str) -> str | None:
        if key in self.files:
            return key
        return self._init_file(key)

    def _find_absolute(self, module: str, importer: str) -> str | None:
        # A module file under the first root can only be displaced by a change of layout (which links
        # everything): the file is the read. Otherwise the name is, found or not: a file added under any
        # root can change what it means (module_reads is how an added file finds who looked for it).
        key = self.modmap.get(module)
        if key is not None and key.startswith(self.first_root) and key in self.files:
            self.reads.frames[-1].add(key)
            return key
        self.reads.frames[-1].add(MODULE_READ + module)
        if key is not None:
            return key
        # A script (or a pytest test module outside any package) imports its siblings: sys.path[0]
        # is the first folder above it that is not a package.
        base = posixpath.dirname(importer)
        while base and base in self.package_dirs:
            base = posixpath.dirname(base)
        if base in self.roots:
            return None  # the module map holds every name under an import root (and the name is read)
        return self._key_at(base, module.replace(".", "/"))

    def _key_at(self, base: str, rel: str) -> str | None:
        target = f"{base}/{rel}" if base else rel
        if not rel:
            return base if base in self.dirs or not base else None
        self.reads.frames[-1].add(target + ".py")  # present or not: a file added there answers it
        if target + ".py" in self.files:
            return target + ".py"
        if target in self.dirs:
            return target
        return None

    def _module_value(self, importer: str, module: str, level: int) -> str | None:
        if level == 0:
            return self._find_absolute(module, importer)
        base = posixpath.dirname(importer)
        for _ in range(level - 1):
            if not base:
                return None
            base = posixpath.dirname(base)
        return self._key_at(base, module.replace(".", "/"))

    # ---------------------------------------------------------------- per-file tables
    def _build_scope(self, path: str, ff: FileFacts) -> _FileScope:
        module_imports: dict[str, Import] = {}
        fallbacks: dict[str, list[Import]] = {}
        scoped: dict[tuple[str, str], Import] = {}
        stars: list[Import] = []
        for imp in ff.imports:
            if imp.is_star:
                if not imp.scope:
                    stars.append(imp)
                continue
            bound = imp.bound_name
            if bound is None:
                continue
            if imp.scope:
                scoped[(imp.scope, bound)] = imp
            elif bound in module_imports:
                # `try: from fast import dumps / except ImportError: from slow import dumps`: the
                # first is what runs where it can; the others stand in when it is not in the repo.
                fallbacks.setdefault(bound, []).append(imp)
            else:
                module_imports[bound] = imp
        defs = {d.qualname: d for d in ff.definitions}
        constants: dict[str, list[tuple[int, int, str]]] = {}
        for d in ff.definitions:
            if d.kind == F.CONSTANT and (d.parent is None or defs[d.parent].kind == F.CLASS):
                constants.setdefault(d.parent or "", []).append(
                    (d.span.start_line, d.span.end_line, d.qualname))
        bindings: dict[tuple[str, str], list[Binding]] = {}
        for b in ff.bindings:
            bindings.setdefault((b.scope, b.name), []).append(b)
        returning: dict[str, Definition] = {}
        properties: dict[str, Definition] = {}
        for d in ff.definitions:
            if d.returns and not d.is_async and d.kind in (F.FUNCTION, F.METHOD):
                if any(deco in _PROPERTY_DECORATORS for deco in d.decorators):
                    properties.setdefault(d.qualname, d)
                else:
                    returning.setdefault(d.qualname, d)
        return _FileScope(ff, defs, module_imports, scoped, stars, constants, bindings,
                          {name for _, name in bindings}, returning, properties, fallback_imports=fallbacks)

    # ---------------------------------------------------------------- nodes
    def _add_nodes(self) -> None:
        for path in self.targets:
            ff = self.facts[path]
            support = is_test_support_path(path)
            self.graph.add_node(G.Node(id=path, kind=G.FILE, path=path, qualname="", start_line=1,
                                       end_line=max(ff.line_count, 1), language="python",
                                       test_support=support))
            for d in ff.definitions:
                kind = d.kind
                if d.is_test:
                    kind = G.TEST
                elif d.fixture is not None:
                    kind = G.FIXTURE
                parent = G.symbol_id(path, d.parent) if d.parent else path
                node = G.Node(id=G.symbol_id(path, d.qualname), kind=kind, path=path,
                              qualname=d.qualname, start_line=d.span.start_line,
                              end_line=d.span.end_line, contract_start=d.contract.start_line,
                              contract_end=d.contract.end_line, signature=d.signature,
                              parent=parent, fixture_name=d.fixture.name if d.fixture else None,
                              language="python", test_support=support)
                first = self.graph.node(node.id)
                if first is not None:  # the same name defined again in the same scope
                    extra = (d.span.start_line, d.span.end_line, d.contract.start_line, d.contract.end_line)
                    self.graph.replace_node(replace(first, more_spans=first.more_spans + (extra,)))
                    continue
                self.graph.add_node(node)
                self.graph.add_edge(G.Edge(parent, node.id, G.CONTAINS, "definition",
                                           d.span.start_line))

    def _mark_unittest_classes(self) -> None:
        """pytest collects every `unittest.TestCase` subclass, whatever its name, and its `test*` methods.

        A class is one when a base is written `...TestCase` (unittest's, Django's, asyncio's) or is a
        class of the repository that is one; its nodes become tests.
        """
        memo: dict[str, tuple[bool, frozenset[str]]] = {}

        def is_case(class_id: str, depth: int = 0) -> bool:
            def compute() -> bool:
                path, qualname = G.split_id(class_id)
                d = self.scopes[path].defs.get(qualname) if path in self.scopes else None
                if d is None or d.kind != F.CLASS or depth > 20:
                    return False
                return any(b.rpartition(".")[2].endswith("TestCase") for b in d.bases) or any(
                    is_case(base, depth + 1) for base in self._class_bases(class_id))

            return self._cached(memo, class_id, compute, placeholder=False)  # False guards against cycles

        for path, fs in self._each_target():
            for d in fs.facts.definitions:
                if d.kind != F.CLASS or d.is_test or not d.bases:
                    continue
                class_id = G.symbol_id(path, d.qualname)
                if not is_case(class_id):
                    continue
                self.graph.replace_node(replace(self.graph.node(class_id), kind=G.TEST))
                for m in fs.facts.definitions:
                    if m.parent == d.qualname and m.kind == F.METHOD and m.name.startswith("test"):
                        self.graph.replace_node(replace(self.graph.node(G.symbol_id(path, m.qualname)),
                                                        kind=G.TEST))

    # ---------------------------------------------------------------- resolution core
    def _export(self, path: str, name: str, seen: frozenset[tuple[str, str]] = frozenset()) -> Value | None:
        """What `name` means as an attribute of the module in file `path`."""
        key = (path, name)
        # None while being computed: a cycle of imports (or star imports) ends there
        return self._cached(self._export_cache, key, lambda: self._export_uncached(path, name, seen | {key}),
                            placeholder=None)

    def _export_uncached(self, path: str, name: str, seen: frozenset[tuple[str, str]]) -> Value | None:
        scope = self.scopes.get(path)
        result: Value | None = None
        if scope is not None:
            d = scope.defs.get(name)
            if d is not None and d.parent is None:
                result = (_SYM, G.symbol_id(path, name))
            elif name in scope.module_imports:
                result = self._resolve_import(path, scope.module_imports[name], seen)
                for alternative in scope.fallback_imports.get(name, ()):
                    if result is not None:
                        break
                    result = self._resolve_import(path, alternative, seen)
            else:
                for star in scope.star_imports:
                    mod = self._module_value(path, star.module, star.level)
                    if mod is None or not self._star_exports(mod, name):
                        continue
                    result = self._attr((_MOD, mod), name, seen)
                    if result is not None:
                        break
            if result is None and posixpath.basename(path) == "__init__.py":
                result = self._submodule_bound(path, scope, name)
        return result

    def _submodule_bound(self, path: str, scope: _FileScope, name: str) -> Value | None:
        """Importing a submodule binds it in its package: in a package's ``__init__.py``,
        `from .invoice import *` (or `from .invoice import x`) makes `invoice` a name of the package."""
        for imp in scope.facts.imports:
            if not imp.scope and imp.level == 1 and imp.module.partition(".")[0] == name:
                sub = self._key_at(posixpath.dirname(path), name)
                return (_MOD, sub) if sub is not None else None
        return None

    def _star_exports(self, mod: str, name: str) -> bool:
        """Does `from mod import *` bind `name`? `__all__` decides when present, else public names."""
        file = mod if mod in self.files else self._init_file(mod)
        ff = self.scopes[file].facts if file else None
        if ff is not None and ff.dunder_all is not None:
            return name in ff.dunder_all
        return not name.startswith("_")

    def _star_names(self, mod: str) -> set[str]:
        """The names `from mod import *` binds: `__all__`, else the public module-level names."""
        file = mod if mod in self.files else self._init_file(mod)
        if file is None:
            return set()
        fs = self.scopes[file]
        if fs.facts.dunder_all is not None:
            return set(fs.facts.dunder_all)
        names = {d.qualname for d in fs.facts.definitions if d.parent is None}
        names |= set(fs.module_imports)
        return {n for n in names if not n.startswith("_")}

    def _attr(self, value: Value, name: str, seen: frozenset[tuple[str, str]] = frozenset()) -> Value | None:
        kind, ref = value
        if kind == _MOD:
            if ref in self.files:
                return self._export(ref, name, seen)
            init = self._init_file(ref)
            if init is not None:
                found = self._export(init, name, seen)
                if found is not None:
                    return found
            sub = self._key_at(ref, name)
            return (_MOD, sub) if sub is not None else None
        # a definition: its members, then (for classes) the members of its bases
        if self._node(f"{ref}.{name}") is not None:
            return (_SYM, f"{ref}.{name}")
        for base in self._class_bases(ref):
            if (base, name) in seen:
                continue
            found = self._attr((_SYM, base), name, seen | {(base, name)})
            if found is not None:
                return found
        return None

    def _class_bases(self, class_id: str) -> list[str]:
        # [] guards against cycles while resolving
        return self._cached(self._bases_cache, class_id, lambda: self._bases_uncached(class_id), placeholder=[])

    def _bases_uncached(self, class_id: str) -> list[str]:
        path, qualname = G.split_id(class_id)
        scope = self.scopes.get(path)
        d = scope.defs.get(qualname) if scope else None
        bases: list[str] = []
        if d is not None and d.kind == F.CLASS:
            for base in d.bases:
                if "=" in base or "(" in base or "[" in base:
                    continue
                value = self._resolve_chain(path, d.parent or "", tuple(base.split(".")))
                if value is not None and value[0] == _SYM:
                    bases.append(value[1])
        return bases

    def _resolve_import(self, path: str, imp: Import, seen: frozenset[tuple[str, str]] = frozenset()) -> Value | None:
        if imp.name is None:  # import a.b.c [as x]
            module = imp.module if imp.alias else imp.module.split(".")[0]
            key = self._find_absolute(module, path)
            return (_MOD, key) if key is not None else None
        mod = self._module_value(path, imp.module, imp.level)
        if mod is None:
            return None
        return self._attr((_MOD, mod), imp.name, seen)

    def _resolve_head(self, path: str, scope: str, head: str) -> Value | None:
        fs = self.scopes[path]
        if head == "super" and scope:  # `super().m()`: look `m` up from the enclosing class's bases
            cls = self._enclosing_class(fs, scope)
            bases = self._class_bases(G.symbol_id(path, cls)) if cls is not None else []
            return (_SYM, bases[0]) if bases else None
        if head in ("self", "cls") and scope:
            cls = self._enclosing_class(fs, scope)
            if cls is not None:
                return (_SYM, G.symbol_id(path, cls))
        # Enclosing function scopes, innermost first; a class body is visible only from itself.
        s = scope
        while s:
            d = fs.defs.get(s)
            imp = fs.scoped_imports.get((s, head))
            if imp is not None:
                return self._resolve_import(path, imp)
            if d is not None and (d.kind != F.CLASS or s == scope):
                if f"{s}.{head}" in fs.defs:
                    return (_SYM, G.symbol_id(path, f"{s}.{head}"))
            s = d.parent or "" if d is not None else s.rpartition(".")[0]
        return self._export(path, head)

    @staticmethod
    def _enclosing_class(fs: _FileScope, scope: str) -> str | None:
        s: str | None = scope
        while s:
            d = fs.defs.get(s)
            if d is None:
                return None
            if d.kind == F.CLASS:
                return s
            s = d.parent
        return None

    def _resolve_chain(self, path: str, scope: str, chain: tuple[str, ...]) -> Value | None:
        return self._resolve_steps(path, scope, chain)[0]

    def _resolve_steps(self, path: str, scope: str, chain: tuple[str, ...]) -> tuple[Value | None, int]:
        """What the longest resolvable prefix of `chain` means, and how many attributes it spans."""
        value = self._resolve_head(path, scope, chain[0])
        if value is None:
            return None, 0
        steps = 0
        for name in chain[1:]:
            nxt = self._attr(value, name)
            if nxt is None:
                break
            value = nxt
            steps += 1
        return value, steps

    def _resolve_strict(self, path: str, scope: str, chain: tuple[str, ...]) -> Value | None:
        """What the whole of `chain` means, or None."""
        value, steps = self._resolve_steps(path, scope, chain)
        return value if steps == len(chain) - 1 else None

    # ---------------------------------------------------------------- stated types
    def _local_bindings(self, fs: _FileScope, scope: str, head: str) -> list[Binding] | None:
        """Typed bindings of `head` by the innermost function scope around `scope` that has them; None when
        no function binds it so (or an import or a nested definition there binds it first)."""
        s = scope
        while s:
            d = fs.defs.get(s)
            if d is None:
                return None
            if d.kind != F.CLASS:
                if (s, head) in fs.scoped_imports or f"{s}.{head}" in fs.defs:
                    return None
                found = fs.bindings.get((s, head))
                if found is not None:
                    return found
            s = d.parent or ""
        return None

    def _stated_type(self, path: str, scope: str, name: str) -> tuple[str, str] | None:
        """(class node id, how it is stated) for a name whose bindings in `scope` all give one class."""
        bindings = self.scopes[path].bindings.get((scope, name))
        if not bindings:
            return None

        def compute() -> tuple[str, str] | None:
            classes: set[str] = set()
            via = ""
            for b in bindings:
                found = self._binding_class(path, b)
                if found is None:
                    return None
                classes.add(found[0])
                via = via or found[1]
            return (classes.pop(), via) if len(classes) == 1 else None

        # None while being resolved: guards `a = b.f(); b = a.g()`
        return self._cached(self._type_cache, (path, scope, name), compute, placeholder=None)

    def _binding_class(self, path: str, b: Binding) -> tuple[str, str] | None:
        chain = b.type_chain
        text = ".".join(chain)
        if b.how == F.BINDING_ANNOTATION:
            value = self._resolve_strict(path, b.scope, chain)
            if value is not None and self._is_class(value):
                return value[1], f"{b.name}: {text}"
            return None
        value = self._evaluate(path, b.scope, chain)
        if value is None or value[0] != _SYM:
            return None
        target = "self." + b.name if b.how == F.BINDING_ATTRIBUTE else b.name
        if self._is_class(value):
            return value[1], (f"{target}: {text}" if b.how == F.BINDING_ATTRIBUTE else f"{target} = {text}()")
        returned = self._returned_class(value[1])
        return (returned, f"{target} = {text}()") if returned is not None else None

    def _is_class(self, value: Value) -> bool:
        if value[0] != _SYM:
            return False
        node = self._node(value[1])
        return node is not None and node.kind == G.CLASS

    def _returned_class(self, function_id: str) -> str | None:
        """The class a (non-async) function's return annotation names."""
        path, qualname = G.split_id(function_id)
        fs = self.scopes.get(path)
        d = fs.returning.get(qualname) if fs is not None else None
        if d is None:
            return None
        value = self._resolve_strict(path, d.parent or "", d.returns)
        return value[1] if value is not None and self._is_class(value) else None

    def _evaluate(self, path: str, scope: str, chain: tuple[str, ...]) -> Value | None:
        """What the whole of `chain` means, following stated types (`app.test_client` with `app: Flask`)."""
        head = chain[0]
        fs = self.scopes[path]
        local = self._local_bindings(fs, scope, head) if scope and head in fs.bound_names else None
        if local is not None:
            found = self._stated_type(path, local[0].scope, head)
            if found is None:
                return None
            value: Value | None = (_INST, found[0])
        else:
            value = self._resolve_head(path, scope, head)
            if value is not None and head == "self" and self._is_class(value):
                value = (_INST, value[1])
        for name in chain[1:]:
            if value is None:
                return None
            value = self._step(value, name)[0]
        return value

    def _step(self, value: Value, name: str) -> tuple[Value | None, str | None]:
        """One attribute further, following stated types: (next value, how a type was stated on the way)."""
        kind, ref = value
        if kind == _INST:
            member = self._attr((_SYM, ref), name)
            if member is not None:
                return member, None
            found = self._attribute_type(ref, name)
            return ((_INST, found[0]), found[1]) if found is not None else (None, None)
        if kind == _SYM:
            found = self._instance_of(ref)
            if found is not None:
                nxt, via = self._step((_INST, found[0]), name)
                return nxt, via or found[1]
        return self._attr(value, name), None

    def _instance_of(self, node_id: str) -> tuple[str, str] | None:
        """The stated type of a constant or field, or the class a property returns."""
        node = self._node(node_id)
        if node is None or node.kind not in (G.CONSTANT, G.METHOD):
            return None
        path, qualname = G.split_id(node_id)
        parent, _, name = qualname.rpartition(".")
        if node.kind == G.CONSTANT:
            return self._stated_type(path, parent, name)
        d = self.scopes[path].properties.get(qualname)
        if d is None:
            return None
        value = self._resolve_strict(path, d.parent or "", d.returns)
        if value is None or not self._is_class(value):
            return None
        return value[1], f"{name} -> {'.'.join(d.returns)}"

    def _attribute_type(self, class_id: str, name: str) -> tuple[str, str] | None:
        """The stated type of `self.name` for an instance of a class: set in the class or in a base."""
        # None guards against cycles while resolving
        return self._cached(self._attribute_cache, (class_id, name),
                            lambda: self._attribute_lookup(class_id, name), placeholder=None)

    def _attribute_lookup(self, class_id: str, name: str) -> tuple[str, str] | None:
        todo = [class_id]
        done: set[str] = set()
        while todo:
            current = todo.pop(0)
            if current in done:
                continue
            done.add(current)
            path, qualname = G.split_id(current)
            if (qualname, name) in self.scopes[path].bindings:
                return self._stated_type(path, qualname, name)
            todo.extend(self._class_bases(current))
        return None

    def _walk(self, value: Value, names: tuple[str, ...]) -> tuple[str | None, str | None]:
        """Follow `names` from `value`: (the last member reached, how the first stated type was stated)."""
        last: str | None = None
        via: str | None = None
        current: Value | None = value
        for name in names:
            current, stated = self._step(current, name)  # type: ignore[arg-type]
            if current is None:
                break
            via = via or stated
            if current[0] == _SYM:
                last = current[1]
        return last, via

    def _value_node(self, value: Value) -> str | None:
        kind, ref = value
        if kind == _SYM:
            return ref if self._node(ref) is not None else None
        return self._module_node_id(ref)

    # ---------------------------------------------------------------- edges
    def _link_imports(self) -> None:
        for path, fs in self._each_target():
            is_init = path.endswith("__init__.py")
            exported = set(fs.facts.dunder_all or ())
            for imp in fs.facts.imports:
                src = G.symbol_id(path, imp.scope) if imp.scope else path
                text = _import_text(imp)
                if imp.is_star:
                    mod = self._module_value(path, imp.module, imp.level)
                    if mod is None:
                        self._unresolved(path, imp.line, src, text, "module not in repository")
                        continue
                    node = self._module_node_id(mod)
                    if node is not None:
                        self.graph.add_edge(G.Edge(src, node, G.IMPORTS, text, imp.line))
                    if is_init and not imp.scope:
                        for name in self._star_names(mod):
                            value = self._attr((_MOD, mod), name)
                            if value is not None and value[0] == _SYM:
                                self.graph.add_edge(G.Edge(path, value[1], G.REEXPORTS, text, imp.line))
                    continue
                value = self._resolve_import(path, imp)
                if value is None:
                    reason = ("module not in repository"
                              if self._module_value(path, imp.module, imp.level) is None
                              else f"{imp.name!r} not defined in {imp.module or '.' * imp.level}")
                    self._unresolved(path, imp.line, src, text, reason)
                    continue
                node = self._value_node(value)
                if node is None:
                    continue
                self.graph.add_edge(G.Edge(src, node, G.IMPORTS, text, imp.line))
                bound = imp.bound_name
                if (value[0] == _SYM and not imp.scope and imp.name is not None
                        and (bound in exported or (is_init and not bound.startswith("_")))):
                    self.graph.add_edge(G.Edge(path, node, G.REEXPORTS, text, imp.line))

    def _link_references(self) -> None:
        for path, fs in self._each_target():
            for ref in fs.facts.references:
                self._link_reference(path, fs, ref)

    def _link_reference(self, path: str, fs: _FileScope, ref: Reference) -> None:
        owner = fs.constant_at(ref.scope, ref.line) or ref.scope
        src = G.symbol_id(path, owner) if owner else path
        text = ".".join(ref.chain)
        if len(ref.chain) > 1 and ref.scope and ref.chain[0] in fs.bound_names:
            local = self._local_bindings(fs, ref.scope, ref.chain[0])
            if local is not None:  # a local whose type is stated: nothing else can be meant
                found = self._stated_type(path, local[0].scope, ref.chain[0])
                if found is not None:
                    last, _ = self._walk((_INST, found[0]), ref.chain[1:])
                    if last is not None:
                        self._add_use(src, last, ref, f"{ref.kind} {text} via {found[1]}")
                return
        value, steps = self._resolve_steps(path, ref.scope, ref.chain)
        if value is not None and steps < len(ref.chain) - 1:
            # Stuck on an instance: a typed constant or field, a property, `self.attr` set in a method.
            start = value
            if steps == 0 and ref.chain[0] == "self" and self._is_class(value):
                start = (_INST, value[1])
            last, via = self._walk(start, ref.chain[steps + 1:])
            if last is not None and via is not None:
                self._add_use(src, last, ref, f"{ref.kind} {text} via {via}")
        if value is not None and steps == 0 and ref.chain[0] in ("self", "cls", "super"):
            # `self` alone, or `self.attr` set at run time: a method does not depend on its whole class
            return
        if value is None:
            head = ref.chain[0]
            if head in ("self", "cls", "super"):
                return  # an instance attribute set at run time, or a base outside the repository
            bound = head in fs.module_imports or any(k[1] == head for k in fs.scoped_imports)
            if not bound:
                self._unresolved(path, ref.line, src, text, "name not bound in module")
            return  # bound to an import outside the repository: recorded with the import
        dst = self._value_node(value)
        if dst is None or dst == src:
            return
        self._add_use(src, dst, ref, f"{ref.kind} {text}")

    def _add_use(self, src: str, dst: str, ref: Reference, how: str) -> None:
        dst_node = self._node(dst)
        kind = G.CALLS if ref.kind == F.CALL and dst_node is not None and dst_node.kind in (
            G.FUNCTION, G.METHOD, G.CLASS, G.FIXTURE) else G.REFERENCES
        self.graph.add_edge(G.Edge(src, dst, kind, how, ref.line))

    # ---------------------------------------------------------------- pytest
    def _link_fixtures(self) -> None:
        """Bind fixture requests the way pytest does, from the requesting *test's* place.

        A fixture's own requests are bound twice: once from where the fixture is defined (the static
        edge fixture -> fixture), and once per test that uses it, from the test's place. pytest does the
        latter: a shared fixture in tests/conftest.py asking for `settings` gets tests/api's override
        when the test lives under tests/api. Each test therefore gets an edge to every fixture in its
        closure; indirect ones say through which fixture.

        The tables of a file (its fixtures, those it imports, its autouse ones, the plugins it names) are
        read only for the files on some target's way up: the target itself and the conftests above it.
        """
        conftests = {posixpath.dirname(p): p for p in self.files if posixpath.basename(p) == "conftest.py"}
        tables = _FixtureTables(self)

        def chain(path: str) -> list[str]:
            """The files whose fixtures a test in `path` sees, nearest first: itself, then the conftests."""
            found = [path]
            d = posixpath.dirname(path)
            while True:
                conftest = conftests.get(d)
                if conftest is not None and conftest != path:
                    found.append(conftest)
                if not d:
                    break
                d = posixpath.dirname(d)
            return found

        def visible(path: str, owner: Definition | None, name: str) -> list[str]:
            """Definitions of fixture `name` seen from a definition in `path`, nearest first."""
            found: list[dict[str, str]] = []
            cls = owner.parent if owner is not None else None
            while cls:
                found.append(tables.by_class(path, cls))
                parent = self.scopes[path].defs.get(cls)
                cls = parent.parent if parent else None
            files = chain(path)
            found += [tables.by_file(f) for f in files]
            # `pytest_plugins = ["pkg.fixtures"]`: the named modules' fixtures, after the conftest chain, for
            # the tests under that conftest (or in that test module)
            for named_in in files:
                found += [tables.by_file(plugin) for plugin in tables.plugins(named_in)]
            return [t[name] for t in found if name in t]

        def bind(path: str, owner: Definition | None, name: str, requester: str | None) -> str | None:
            found = visible(path, owner, name)
            if requester in found:  # a fixture overriding its own name asks for the next one out
                rest = found[found.index(requester) + 1:]
                return rest[0] if rest else None
            return found[0] if found else None

        def autouse_for(path: str) -> list[str]:
            files = chain(path)
            names = [name for f in reversed(files) for name in tables.autouse(f)]
            # autouse fixtures of the plugins named along the way apply as the plugins' other fixtures do
            return names + [name for f in files for plugin in tables.plugins(f) for name in tables.autouse(plugin)]

        # the plugins a target names that are not in the repository
        for path, fs in self._each_target():
            for module in fs.facts.pytest_plugins:
                if tables.plugin_file(path, module) is None:
                    self._unresolved(path, 1, path, module, "pytest plugin not in repository")

        # static edges: every request bound from the requester's own place
        for path, fs in self._each_target():
            for d in fs.facts.definitions:
                requester = G.symbol_id(path, d.qualname)
                requests = list(d.fixture_requests)
                if d.is_test:
                    requests += [(n, F.FIXTURE_USEFIXTURES) for n in fs.facts.module_fixture_requests]
                for name, how in requests:
                    target = bind(path, d, name, requester if d.fixture else None)
                    if target is None:
                        self._unresolved(path, d.span.start_line, requester, name,
                                         "fixture not defined in repository (pytest builtin or plugin)")
                        continue
                    if not d.is_test:
                        self.graph.add_edge(G.Edge(requester, target, G.USES_FIXTURE, f"{how} {name}",
                                                   d.contract.start_line))

        # per test: the closure of its fixtures, bound from the test's place
        for path, fs in self._each_target():
            autos = autouse_for(path)
            for t in fs.facts.definitions:
                if not t.is_test or t.kind == F.CLASS:
                    continue
                test_id = G.symbol_id(path, t.qualname)
                queue: list[tuple[str, str, str | None]] = [(n, f"{how} {n}", None)
                                                             for n, how in t.fixture_requests]
                queue += [(n, f"usefixtures {n}", None) for n in fs.facts.module_fixture_requests]
                queue += [(n, f"autouse {n}", None) for n in autos]
                seen: set[str] = set()
                while queue:
                    name, how, requester = queue.pop(0)
                    target = bind(path, t, name, requester)
                    if target is None or target in seen:
                        continue
                    seen.add(target)
                    self.graph.add_edge(G.Edge(test_id, target, G.USES_FIXTURE, how, t.contract.start_line))
                    fdef = tables.definition(target)
                    for sub, _ in fdef.fixture_requests:
                        queue.append((sub, f"{sub} through {fdef.fixture.name}", target))

    def _link_covers(self) -> None:
        tests = [n.id for n in self.graph.iter_nodes({G.TEST})]
        for test in tests:
            for edge in self.graph.out_edges(test, (G.CALLS, G.REFERENCES)):
                dst = self._node(edge.dst)
                if dst is not None and dst.kind not in (G.TEST, G.FIXTURE, G.FILE):
                    self.graph.add_edge(G.Edge(test, edge.dst, G.COVERS, "direct", edge.line))

    # ---------------------------------------------------------------- dotted names
    def _add_dotted_names(self) -> None:
        by_file: dict[str, list[str]] = {}
        for key, names in self.module_names.items():
            file = key if key in self.files else self._init_file(key)
            if file is not None and file in self._target_set:
                by_file.setdefault(file, []).extend(names)
        for file, fs in self._each_target():
            for name in by_file.get(file, ()):
                for d in fs.facts.definitions:
                    self.graph.add_dotted(f"{name}.{d.qualname}", G.symbol_id(file, d.qualname), file)
                # names a package makes importable: its re-exports, `__all__`, and star imports
                public: set[str] = set(fs.module_imports) if file.endswith("__init__.py") else set()
                public |= set(fs.facts.dunder_all or ())
                for star in fs.star_imports:
                    mod = self._module_value(file, star.module, star.level)
                    if mod is not None:
                        public |= self._star_names(mod)
                for bound in public:
                    if bound in fs.defs:
                        continue
                    value = self._export(file, bound)
                    if value is not None and value[0] == _SYM:
                        self.graph.add_dotted(f"{name}.{bound}", value[1], file)

    def _unresolved(self, path: str, line: int, scope: str, text: str, reason: str) -> None:
        self.graph.unresolved.append(G.Unresolved(path, line, scope, text, reason))


class _FixtureTables:
    """Each file's fixture tables, built when a target's way up first reaches the file."""

    def __init__(self, linker: PythonLinker) -> None:
        self.linker = linker
        self._files: dict[str, dict[str, str]] = {}
        self._classes: dict[tuple[str, str], dict[str, str]] = {}
        self._autouse: dict[str, list[str]] = {}
        self._plugins: dict[str, tuple[list[str], frozenset[str]]] = {}
        self._done: dict[str, tuple[None, frozenset[str]]] = {}  # path -> (None, the files reading it read)

    def _read(self, path: str) -> None:
        """Module-level fixtures by requested name (defined there, or imported into it), fixtures of its
        classes, its autouse fixtures; once per file, each later asker noted as reading what it read."""
        self.linker._cached(self._done, path, lambda: self._read_uncached(path))

    def _read_uncached(self, path: str) -> None:
        linker = self.linker
        fs = linker.scopes[path]
        own: dict[str, str] = {}
        autouse: list[str] = []
        for d in fs.facts.definitions:
            if d.fixture is None:
                continue
            node_id = G.symbol_id(path, d.qualname)
            if d.parent is None:
                own[d.fixture.name] = node_id
            else:
                self._classes.setdefault((path, d.parent), {})[d.fixture.name] = node_id
            if d.fixture.autouse:
                autouse.append(d.fixture.name)
        # Fixtures imported into a module (`from .fixtures import db`, or a star import) are pytest's
        # fixtures of that module as much as the ones defined there.
        names: list[tuple[str, str | None]] = [(n, None) for n in fs.module_imports]
        for star in fs.star_imports:
            mod = linker._module_value(path, star.module, star.level)
            if mod is not None:
                names += [(n, mod) for n in linker._star_names(mod)]
        for name, mod in names:
            value = linker._export(path, name) if mod is None else linker._attr((_MOD, mod), name)
            node = linker._node(value[1]) if value is not None and value[0] == _SYM else None
            if node is not None and node.kind == G.FIXTURE and node.fixture_name:
                own.setdefault(node.fixture_name, node.id)
        self._files[path] = own
        self._autouse[path] = autouse

    def by_file(self, path: str) -> dict[str, str]:
        self._read(path)
        return self._files[path]

    def by_class(self, path: str, cls: str) -> dict[str, str]:
        self._read(path)
        return self._classes.get((path, cls), {})

    def autouse(self, path: str) -> list[str]:
        self._read(path)
        return self._autouse[path]

    def plugin_file(self, path: str, module: str) -> str | None:
        linker = self.linker
        key = linker._find_absolute(module, path)
        return (key if key in linker.files else linker._init_file(key)) if key is not None else None

    def plugins(self, path: str) -> list[str]:
        """The files of the modules `path` names in `pytest_plugins` (conftest.py: for the tests under it)."""
        def compute() -> list[str]:
            found = [self.plugin_file(path, m) for m in self.linker.scopes[path].facts.pytest_plugins]
            return [f for f in found if f is not None]

        return self.linker._cached(self._plugins, path, compute)

    def definition(self, node_id: str) -> Definition:
        path, qualname = G.split_id(node_id)
        return self.linker.scopes[path].defs[qualname]


def _ancestors(d: str):
    d = posixpath.dirname(d)
    while d:
        yield d
        d = posixpath.dirname(d)


def _under(path: str, folder: str) -> bool:
    return not folder or path.startswith(folder + "/")


def _import_text(imp: Import) -> str:
    dots = "." * imp.level
    alias = f" as {imp.alias}" if imp.alias else ""
    if imp.name is None:
        return f"import {imp.module}{alias}"
    return f"from {dots}{imp.module} import {imp.name}{alias}"
