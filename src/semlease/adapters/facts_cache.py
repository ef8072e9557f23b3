"""Extraction results by content, shared by every worktree of a repository.

One SQLite file in the common git directory (``<git common dir>/semlease/facts.db``; ``.semlease/`` outside
git). An entry is keyed by the language, the fingerprint of that language's extractor (its code and query
files) and the file's git blob id, so two worktrees, two branches or two copies of a file share one
extraction, and a change to one language's extractor invalidates that language's entries only.

The cache only ever saves work: a cache that cannot be opened, read or written (locked for too long,
damaged, on a read-only disk) is skipped and the index is built without it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 1
_BUSY_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class CachedFacts:
    data: bytes  # facts_codec.encode(facts), path-free
    line_count: int
    syntax_errors: int
    notes: str
    interface: str


class FactsCache:
    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    @classmethod
    def open(cls, path: Path) -> FactsCache | None:
        """The cache at ``path`` (created if missing, made anew if damaged), or None when it cannot be used."""
        found = cls._open(path)
        if found is None and path.is_file():
            try:
                with sqlite3.connect(path) as probe:
                    probe.execute("PRAGMA schema_version").fetchone()
                return None  # readable, but not usable now (locked, read-only): leave it as it is
            except sqlite3.OperationalError:
                return None  # locked by another worktree's index: not damaged
            except sqlite3.DatabaseError:
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
                found = cls._open(path)
            except (sqlite3.Error, OSError):
                return None
        return found

    @classmethod
    def _open(cls, path: Path) -> FactsCache | None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=_BUSY_SECONDS, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                conn.execute("DROP TABLE IF EXISTS facts")
            conn.execute("""CREATE TABLE IF NOT EXISTS facts (
                language TEXT NOT NULL, fingerprint TEXT NOT NULL, digest TEXT NOT NULL, data BLOB NOT NULL,
                line_count INTEGER NOT NULL, syntax_errors INTEGER NOT NULL, notes TEXT NOT NULL,
                interface TEXT NOT NULL, PRIMARY KEY (language, fingerprint, digest)) WITHOUT ROWID""")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (sqlite3.Error, OSError):
            return None
        return cls(path, conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> FactsCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, language: str, fingerprint: str, digests: Iterable[str]) -> dict[str, CachedFacts]:
        found: dict[str, CachedFacts] = {}
        try:
            for chunk in _chunks(sorted(set(digests))):
                rows = self.conn.execute(
                    "SELECT digest, data, line_count, syntax_errors, notes, interface FROM facts"
                    f" WHERE language=? AND fingerprint=? AND digest IN ({','.join('?' * len(chunk))})",
                    [language, fingerprint, *chunk])
                found.update((r[0], CachedFacts(*r[1:])) for r in rows)
        except sqlite3.Error:
            return {}
        return found

    def put(self, language: str, fingerprint: str, entries: Iterable[tuple[str, CachedFacts]]) -> None:
        rows = [(language, fingerprint, digest, f.data, f.line_count, f.syntax_errors, f.notes, f.interface)
                for digest, f in entries]
        if not rows:
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany("INSERT OR IGNORE INTO facts VALUES (?,?,?,?,?,?,?,?)", rows)
            self.conn.execute("COMMIT")
        except sqlite3.Error:
            # another worktree holds it for long, or the disk is full: the index does not need it
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM facts").fetchone()[0]


def _chunks(items: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
