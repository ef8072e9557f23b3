"""The stored index: per-file facts (the extraction cache) and the linked graph, in one SQLite file.

A one-shot command (``semlease resolve``) must not load the whole graph: :class:`StoredGraph` answers the
resolver's questions (:class:`semlease.domain.graph.GraphReader`) with indexed queries, so resolving in a
tree the size of the standard library reads a few hundred rows.

The index is derived data. Its schema is versioned; a file written by another version is dropped and
rebuilt, never migrated. Every write is one transaction, so an interrupted ``index`` leaves the previous
index intact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from semlease.adapters import facts_codec
from semlease.domain.facts import FileFacts
from semlease.domain.graph import CONTAINS, Edge, Node, SymbolGraph, Unresolved
from semlease.errors import IndexError_

SCHEMA_VERSION = 4  # 3: interfaces, link dependencies, owners of edges and dotted names (incremental relink);
# 4: link dependencies include the module files looked for and not found (files added relink their readers)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, language TEXT NOT NULL, digest TEXT NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, line_count INTEGER NOT NULL, syntax_errors INTEGER NOT NULL,
    notes TEXT NOT NULL, facts BLOB NOT NULL, interface TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, path TEXT NOT NULL, qualname TEXT NOT NULL,
    name TEXT NOT NULL, start_line INTEGER, end_line INTEGER, contract_start INTEGER,
    contract_end INTEGER, signature TEXT, parent TEXT, fixture_name TEXT, language TEXT,
    test_support INTEGER NOT NULL, more_spans TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS edges (src TEXT NOT NULL, dst TEXT NOT NULL, kind TEXT NOT NULL,
    how TEXT NOT NULL, line INTEGER NOT NULL, src_path TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dotted (name TEXT NOT NULL, id TEXT NOT NULL, path TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS link_deps (path TEXT NOT NULL, dep TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS unresolved (path TEXT NOT NULL, line INTEGER NOT NULL, scope TEXT NOT NULL,
    text TEXT NOT NULL, reason TEXT NOT NULL);
"""

_BUSY_MS = 30_000  # how long a refresh waits for another one writing the same index

# Built after a bulk load (one sort each) rather than maintained row by row during it.
_GRAPH_INDEXES = {
    "nodes_name": "nodes(name)",
    "nodes_fixture": "nodes(fixture_name)",
    "nodes_qualname": "nodes(qualname)",
    "nodes_path": "nodes(path)",
    "nodes_parent": "nodes(parent)",
    "edges_src": "edges(src, kind)",
    "edges_dst": "edges(dst, kind)",
    "dotted_name": "dotted(name)",
    "edges_src_path": "edges(src_path)",
    "dotted_path": "dotted(path)",
    "unresolved_path": "unresolved(path)",
    "link_deps_dep": "link_deps(dep)",
    "link_deps_path": "link_deps(path)",
}

_COMPARABLE = {
    "nodes": "SELECT id, kind, path, qualname, start_line, end_line, contract_start, contract_end, signature, "
             "parent, fixture_name, test_support, more_spans FROM nodes",
    "edges": "SELECT src, dst, kind, how, line FROM edges",
    "dotted": "SELECT name, id, path FROM dotted",
    "unresolved": "SELECT path, line, scope, text, reason FROM unresolved",
    "link_deps": "SELECT path, dep FROM link_deps",
}

_NODE_COLUMNS = ("id, kind, path, qualname, start_line, end_line, contract_start, contract_end, "
                 "signature, parent, fixture_name, language, test_support, more_spans")


@dataclass(frozen=True, slots=True)
class FileState:
    """What the index remembers of a file to tell whether it changed."""

    path: str
    language: str
    digest: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class ExtractedFile:
    """A freshly extracted file: its facts encoded once, in the worker, as they will be stored."""

    state: FileState
    data: bytes  # facts_codec.encode(facts): the facts without their path
    line_count: int
    syntax_errors: int
    notes: str
    interface: str  # the language's digest of what other files' linking reads of this one

    @classmethod
    def of(cls, state: FileState, facts: FileFacts, interface: str = "") -> ExtractedFile:
        return cls(state, facts_codec.encode(facts), facts.line_count, len(facts.syntax_errors),
                   "\n".join(facts.notes), interface)

    def facts(self) -> FileFacts:
        return facts_codec.decode(self.data, self.state.path)


class IndexStore:
    """Owns one index file. Open with :meth:`open`; use as a context manager."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    @classmethod
    def open(cls, path: Path) -> IndexStore:
        try:
            return cls._open(path)
        except IndexError_ as error:
            cause = error.__cause__
            damaged = isinstance(cause, sqlite3.DatabaseError) and not isinstance(cause, sqlite3.OperationalError)
            if not damaged or not path.exists():  # locked, unwritable...: said, never deleted
                raise
        # A damaged file (not a database, malformed): derived data, rebuilt from the sources.
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return cls._open(path)

    @classmethod
    def _open(cls, path: Path) -> IndexStore:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=_BUSY_MS / 1000, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                # Derived data from another version: rebuild rather than migrate.
                conn.close()
                path.unlink()
                for suffix in ("-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
                conn = sqlite3.connect(path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            for name, target in _GRAPH_INDEXES.items():
                conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (sqlite3.Error, OSError) as exc:
            raise IndexError_(f"cannot open the index at {path}: {exc}") from exc
        return cls(path, conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def copy_from(self, other: Path) -> bool:
        """Replace this (empty) index with a copy of another built index of this schema; False when
        ``other`` is not one (or cannot be read), and nothing is changed."""
        try:
            source = sqlite3.connect(f"file:{other}?mode=ro", uri=True, timeout=5)
            try:
                if source.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                    return False
                if source.execute("SELECT value FROM meta WHERE key='built_at'").fetchone() is None:
                    return False
                source.backup(self.conn)
            finally:
                source.close()
        except sqlite3.Error:
            return False
        return True

    # ------------------------------------------------------------------ meta
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def is_built(self) -> bool:
        return self.meta("built_at") is not None

    # ------------------------------------------------------------------ the extraction cache
    def file_states(self) -> dict[str, FileState]:
        rows = self.conn.execute("SELECT path, language, digest, size, mtime_ns FROM files")
        return {r[0]: FileState(*r) for r in rows}

    def load_facts(self, paths: Iterable[str] | None = None) -> dict[str, FileFacts]:
        if paths is None:
            rows = self.conn.execute("SELECT path, facts FROM files")
            return {p: facts_codec.decode(blob, p) for p, blob in rows}
        out: dict[str, FileFacts] = {}
        for p in paths:
            row = self.conn.execute("SELECT facts FROM files WHERE path=?", (p,)).fetchone()
            if row:
                out[p] = facts_codec.decode(row[0], p)
        return out

    def languages(self) -> dict[str, str]:
        """Path -> language of every indexed file."""
        return dict(self.conn.execute("SELECT path, language FROM files"))

    def interfaces(self, paths: Iterable[str]) -> dict[str, str]:
        out = {}
        for chunk in _chunks(sorted(set(paths))):
            out.update(self.conn.execute(
                f"SELECT path, interface FROM files WHERE path IN ({','.join('?' * len(chunk))})", chunk))
        return out

    def dependents(self, paths: Iterable[str]) -> set[str]:
        """Files whose last linking read any of ``paths``."""
        found: set[str] = set()
        for chunk in _chunks(sorted(set(paths))):
            found.update(r[0] for r in self.conn.execute(
                f"SELECT DISTINCT path FROM link_deps WHERE dep IN ({','.join('?' * len(chunk))})", chunk))
        return found

    def unresolved_texts(self) -> list[tuple[str, str]]:
        """``(path, text)`` of every use the linker could not bind."""
        return list(self.conn.execute("SELECT DISTINCT path, text FROM unresolved"))

    # ------------------------------------------------------------------ writing
    def save(self, *, meta: dict[str, str], changed: Iterable[ExtractedFile], touched: Iterable[FileState],
             removed: Iterable[str], skipped: Iterable[tuple[str, str]], graph: SymbolGraph | None,
             reads: dict[str, set[str]] | None = None, relinked: Iterable[str] | None = None) -> None:
        """Write one refresh atomically: changed files' facts, new stat data, and the linked graph. With
        ``relinked``, ``graph`` holds only those files' nodes and edges, which replace theirs; without it,
        it is the whole graph. ``reads`` are, per linked file, the files its linking read."""
        c = self.conn
        bulk = graph is not None and relinked is None and self._journal_mode("delete")
        try:
            c.execute("BEGIN IMMEDIATE")
            c.executemany("DELETE FROM files WHERE path=?", ((p,) for p in removed))
            c.executemany(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?)",
                ((e.state.path, e.state.language, e.state.digest, e.state.size, e.state.mtime_ns,
                  e.line_count, e.syntax_errors, e.notes, e.data, e.interface) for e in changed))
            c.executemany("UPDATE files SET size=?, mtime_ns=? WHERE path=?",
                          ((s.size, s.mtime_ns, s.path) for s in touched))
            c.execute("DELETE FROM skipped")
            c.executemany("INSERT OR REPLACE INTO skipped VALUES (?,?)", skipped)
            if graph is not None:
                if relinked is None:  # the whole graph: bulk load, then build the indexes once
                    for name in _GRAPH_INDEXES:
                        c.execute(f"DROP INDEX IF EXISTS {name}")
                    for table in ("nodes", "edges", "dotted", "unresolved", "link_deps"):
                        c.execute(f"DELETE FROM {table}")
                else:  # some files' part of it: replaced in place, through the indexes
                    for chunk in _chunks(sorted(set(relinked))):
                        marks = ",".join("?" * len(chunk))
                        for table, column in (("nodes", "path"), ("edges", "src_path"), ("dotted", "path"),
                                              ("unresolved", "path"), ("link_deps", "path")):
                            c.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)
                c.executemany(f"INSERT OR REPLACE INTO nodes ({_NODE_COLUMNS}, name) "
                              "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                              (_node_row(n) + (n.name,) for n in graph.iter_nodes()))
                # `contains` is not stored: a node's parent column says the same thing.
                c.executemany("INSERT INTO edges VALUES (?,?,?,?,?,?)",
                              ((e.src, e.dst, e.kind, e.how, e.line, e.src.partition("::")[0])
                               for e in graph.all_edges() if e.kind != CONTAINS))
                c.executemany("INSERT INTO dotted VALUES (?,?,?)", graph.dotted_rows())
                c.executemany("INSERT INTO unresolved VALUES (?,?,?,?,?)",
                              ((u.path, u.line, u.scope, u.text, u.reason) for u in graph.unresolved))
                c.executemany("INSERT INTO link_deps VALUES (?,?)",
                              ((path, dep) for path, deps in sorted((reads or {}).items())
                               for dep in sorted(deps) if dep != path))
                if relinked is None:
                    for name, target in _GRAPH_INDEXES.items():
                        c.execute(f"CREATE INDEX {name} ON {target}")
            c.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)", meta.items())
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        finally:
            if bulk:
                self._journal_mode("wal")

    def _journal_mode(self, mode: str) -> bool:
        """Switch the journal mode if no other connection holds the index (the switch needs it alone;
        never waited for), and tell whether it is now ``mode``. A whole graph is written with a rollback
        journal: in WAL mode every page would be written twice, once to the log and once at the
        checkpoint (about a second of 3.5 for the standard library)."""
        c = self.conn
        try:
            c.execute("PRAGMA busy_timeout=0")
            now = c.execute(f"PRAGMA journal_mode={mode}").fetchone()[0]
        except sqlite3.OperationalError:  # busy: another process has the index open
            now = ""
        finally:
            c.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
        return now == mode

    # ------------------------------------------------------------------ reading
    def counts(self) -> dict[str, int]:
        """What the index holds, by kind; counted once per build and kept with it (counting scans every
        table, longer than a refresh of an unchanged tree takes)."""
        import json

        built = self.meta("built_at")
        kept = self.meta("counts")
        if kept and self.meta("counts_built_at") == built:
            return json.loads(kept)
        found = self._count()
        try:
            self.conn.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)",
                                  [("counts", json.dumps(found)), ("counts_built_at", built or "")])
        except sqlite3.Error:
            pass  # read-only: counted again next time
        return found

    def _count(self) -> dict[str, int]:
        q = self.conn.execute
        out = {
            "files": q("SELECT count(*) FROM files").fetchone()[0],
            "nodes": q("SELECT count(*) FROM nodes").fetchone()[0],
            "edges": q("SELECT count(*) FROM edges").fetchone()[0],
            "unresolved": q("SELECT count(*) FROM unresolved").fetchone()[0],
            "skipped": q("SELECT count(*) FROM skipped").fetchone()[0],
            "files_with_syntax_errors": q("SELECT count(*) FROM files WHERE syntax_errors>0").fetchone()[0],
        }
        for kind, n in q("SELECT kind, count(*) FROM nodes GROUP BY kind"):
            out[f"nodes.{kind}"] = n
        for kind, n in q("SELECT kind, count(*) FROM edges GROUP BY kind"):
            out[f"edges.{kind}"] = n
        contains = q("SELECT count(*) FROM nodes WHERE parent IS NOT NULL").fetchone()[0]
        out["edges.contains"] = contains
        out["edges"] += contains
        return out

    def skipped(self) -> list[tuple[str, str]]:
        return list(self.conn.execute("SELECT path, reason FROM skipped ORDER BY path"))

    def files_with_syntax_errors(self) -> list[tuple[str, int]]:
        return list(self.conn.execute(
            "SELECT path, syntax_errors FROM files WHERE syntax_errors>0 ORDER BY path"))

    def unresolved(self, limit: int | None = None) -> list[Unresolved]:
        sql = "SELECT path, line, scope, text, reason FROM unresolved ORDER BY path, line"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [Unresolved(*r) for r in self.conn.execute(sql)]

    def graph(self) -> StoredGraph:
        return StoredGraph(self.conn)

    def rows(self) -> dict[str, set[tuple]]:
        """Every stored row of the graph, table by table, as sets: two indexes of one tree built in any order
        (a full build, a chain of refreshes) must hold the same ones."""
        return {table: set(self.conn.execute(sql)) for table, sql in _COMPARABLE.items()}


class StoredGraph:
    """A :class:`GraphReader` over the stored index, reading only what is asked for."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._nodes: dict[str, Node | None] = {}

    def node(self, node_id: str) -> Node | None:
        if node_id not in self._nodes:
            row = self.conn.execute(f"SELECT {_NODE_COLUMNS} FROM nodes WHERE id=?", (node_id,)).fetchone()
            self._nodes[node_id] = _row_node(row) if row else None
        return self._nodes[node_id]

    def _edges(self, column: str, node_id: str, kinds: Collection[str] | None) -> list[Edge]:
        sql = f"SELECT src, dst, kind, how, line FROM edges WHERE {column}=?"
        args: list[object] = [node_id]
        if kinds is not None:
            kinds = [k for k in kinds if k != CONTAINS]
            if not kinds:
                return []
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += list(kinds)
        return [Edge(*r) for r in self.conn.execute(sql, args)]

    def out_edges(self, node_id: str, kinds: Collection[str] | None = None) -> list[Edge]:
        edges = self._edges("src", node_id, kinds)
        if kinds is None or CONTAINS in kinds:
            edges += [Edge(node_id, n.id, CONTAINS, "definition", n.start_line)
                      for n in self._select("parent=?", (node_id,))]
        return edges

    def in_edges(self, node_id: str, kinds: Collection[str] | None = None) -> list[Edge]:
        edges = self._edges("dst", node_id, kinds)
        if kinds is None or CONTAINS in kinds:
            n = self.node(node_id)
            if n is not None and n.parent:
                edges.append(Edge(n.parent, node_id, CONTAINS, "definition", n.start_line))
        return edges

    def _select(self, where: str, args: tuple) -> list[Node]:
        rows = self.conn.execute(f"SELECT {_NODE_COLUMNS} FROM nodes WHERE {where} ORDER BY id", args)
        nodes = [_row_node(r) for r in rows]
        for n in nodes:
            self._nodes[n.id] = n
        return nodes

    def nodes_named(self, name: str) -> list[Node]:
        return self._select("(name=? AND kind!='file') OR fixture_name=?", (name, name))

    def nodes_with_qualname(self, qualname: str) -> list[Node]:
        return self._select("qualname=? AND kind!='file'", (qualname,))

    def nodes_in_file(self, path: str) -> list[Node]:
        return self._select("path=?", (path,))

    def lookup_dotted(self, dotted: str) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT id FROM dotted WHERE name=?", (dotted,))]

    def iter_nodes(self, kinds: Collection[str] | None = None) -> Iterator[Node]:
        sql = f"SELECT {_NODE_COLUMNS} FROM nodes"
        args: tuple = ()
        if kinds is not None:
            sql += f" WHERE kind IN ({','.join('?' * len(kinds))})"
            args = tuple(kinds)
        for row in self.conn.execute(sql + " ORDER BY id", args):
            yield _row_node(row)

    def names(self, kinds: Collection[str] | None = None) -> list[str]:
        """Distinct short names, for suggesting the closest ones to an unknown name."""
        sql = "SELECT DISTINCT name FROM nodes"
        args: tuple = ()
        if kinds is not None:
            sql += f" WHERE kind IN ({','.join('?' * len(kinds))})"
            args = tuple(kinds)
        return [r[0] for r in self.conn.execute(sql, args)]


def _chunks(items: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _node_row(n: Node) -> tuple:
    return (n.id, n.kind, n.path, n.qualname, n.start_line, n.end_line, n.contract_start, n.contract_end,
            n.signature, n.parent, n.fixture_name, n.language, int(n.test_support),
            ";".join(",".join(map(str, span)) for span in n.more_spans))


def _row_node(r: tuple) -> Node:
    return Node(id=r[0], kind=r[1], path=r[2], qualname=r[3], start_line=r[4], end_line=r[5],
                contract_start=r[6], contract_end=r[7], signature=r[8], parent=r[9], fixture_name=r[10],
                language=r[11], test_support=bool(r[12]),
                more_spans=tuple(tuple(int(x) for x in span.split(",")) for span in r[13].split(";") if span))
