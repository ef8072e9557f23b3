"""The embedded lease store: one SQLite file, shared by every worktree of a repository.

Unlike the index, this file holds state nobody can rebuild: leases, the token counter and the history.
Its schema is a chain of migrations applied forward in one transaction (after a backup copy of the file);
nothing is ever dropped. Write transactions start with ``BEGIN IMMEDIATE``, so two processes deciding at
once are serialised by SQLite's lock: the second sees the first's lease. The journal is WAL (readers do not
block the writer) with ``synchronous=FULL``: a granted lease or an issued token survives a power cut, so a
token is never handed out twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from semlease.domain.leases import (
    LIVE_STATES,
    Admission,
    Claim,
    Event,
    Lease,
    Scope,
    claims_from_footprint,
    utc_now,
)
from semlease.domain.store import LeaseStore, NewAdmission, NewLease, StoreTransaction
from semlease.errors import StoreError

APPLICATION_ID = 0x534C4C53  # "SLLS": PRAGMA application_id marks the file as a semlease lease store
DEFAULT_BUSY_TIMEOUT = 10.0  # seconds to wait for another process's write transaction

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, so text order is time order in SQL


def _to_text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime(_TIME_FORMAT)


def _from_text(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)  # the fixed format ends in Z: UTC


# --------------------------------------------------------------------------------------------- migrations
def _script(db: sqlite3.Connection, script: str) -> None:
    """Run statements one by one inside the caller's transaction (``executescript`` would commit first)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            db.execute(pending)
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete statement in a migration: {pending.strip()[:80]}")


def _v1(db: sqlite3.Connection) -> None:
    """Leases with their footprint as JSON, the history, the token counter."""
    _script(db, """
        CREATE TABLE leases (
            id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, region TEXT NOT NULL,
            mode TEXT NOT NULL, intent TEXT NOT NULL, token INTEGER UNIQUE, head TEXT,
            acquired_at TEXT, expires_at TEXT, state TEXT NOT NULL, footprint TEXT NOT NULL,
            scope_paths TEXT NOT NULL DEFAULT '[]');
        CREATE TABLE history (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, lease_id INTEGER, kind TEXT NOT NULL,
            owner TEXT, detail TEXT NOT NULL);
        CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO counters VALUES ('token', 0);
    """)


def _v2(db: sqlite3.Connection) -> None:
    """Claims as rows, so overlap is an indexed join inside the acquiring transaction; filled for the
    leases already stored from their footprint's definition/contract, tests/fixtures and the rest."""
    _script(db, """
        CREATE TABLE lease_claims (
            lease_id INTEGER NOT NULL REFERENCES leases(id), node TEXT NOT NULL, path TEXT NOT NULL,
            action TEXT NOT NULL, whole_file INTEGER NOT NULL, PRIMARY KEY (lease_id, node)) WITHOUT ROWID;
        CREATE INDEX lease_claims_node ON lease_claims(node);
        CREATE INDEX lease_claims_path ON lease_claims(path);
    """)
    for lease_id, mode, footprint in db.execute("SELECT id, mode, footprint FROM leases").fetchall():
        for claim in claims_from_footprint(json.loads(footprint), mode):
            db.execute("INSERT OR REPLACE INTO lease_claims VALUES (?, ?, ?, ?, ?)",
                       (lease_id, claim.node, claim.path, claim.action, int(claim.whole_file)))


def _v3(db: sqlite3.Connection) -> None:
    """The wait queue, the lease's own times and the nodes it lets its holder edit; the history and the
    leases become undeletable."""
    _script(db, """
        ALTER TABLE leases ADD COLUMN mode_inferred INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE leases ADD COLUMN requested_at TEXT;
        ALTER TABLE leases ADD COLUMN ttl_seconds REAL;
        ALTER TABLE leases ADD COLUMN ended_at TEXT;
        ALTER TABLE leases ADD COLUMN scope_nodes TEXT NOT NULL DEFAULT '[]';
        UPDATE leases SET scope_nodes = (SELECT json_group_array(node) FROM
            (SELECT node FROM lease_claims c WHERE c.lease_id = leases.id AND c.action != 'rely' ORDER BY node));
        UPDATE leases SET requested_at = acquired_at;
        UPDATE leases SET ttl_seconds = round((julianday(substr(expires_at, 1, 26))
                                               - julianday(substr(acquired_at, 1, 26))) * 86400.0, 3)
            WHERE acquired_at IS NOT NULL AND expires_at IS NOT NULL;
        UPDATE leases SET ttl_seconds = 1800 WHERE ttl_seconds IS NULL;
        UPDATE leases SET requested_at = (SELECT min(at) FROM history h WHERE h.lease_id = leases.id)
            WHERE requested_at IS NULL;
        UPDATE leases SET requested_at = '1970-01-01T00:00:00.000000Z' WHERE requested_at IS NULL;
        UPDATE leases SET ended_at = expires_at WHERE state = 'expired';
        UPDATE leases SET ended_at = (SELECT max(at) FROM history h WHERE h.lease_id = leases.id)
            WHERE state NOT IN ('active', 'expired', 'waiting');
        CREATE INDEX leases_state ON leases(state, expires_at);
        CREATE INDEX history_lease ON history(lease_id, seq);
        CREATE TRIGGER history_append_only_update BEFORE UPDATE ON history
            BEGIN SELECT RAISE(ABORT, 'the lease history is append-only'); END;
        CREATE TRIGGER history_append_only_delete BEFORE DELETE ON history
            BEGIN SELECT RAISE(ABORT, 'the lease history is append-only'); END;
        CREATE TRIGGER leases_never_deleted BEFORE DELETE ON leases
            BEGIN SELECT RAISE(ABORT, 'leases are never deleted'); END;
    """)


def _v4(db: sqlite3.Connection) -> None:
    """The repository a lease is on, and admissions: each decision on a patch, with the nodes it touched
    (rows, so staleness is an indexed join against a lease's claims). Admissions are append-only. And the
    claims of the live leases (active, waiting) apart from the claims of every lease ever: the overlap join
    of an acquire then costs what is held now, not what the history has grown to (the history's claims need
    no index on their nodes any more). A lease's footprint moves to a table of its own: a lease row stays
    small, so reading a thousand of them to decide an acquire does not walk a thousand footprints."""
    _script(db, """
        ALTER TABLE leases ADD COLUMN repository TEXT;
        CREATE TABLE admissions (
            id INTEGER PRIMARY KEY AUTOINCREMENT, lease_id INTEGER NOT NULL REFERENCES leases(id),
            token INTEGER NOT NULL, at TEXT NOT NULL, decision TEXT NOT NULL, reasons TEXT NOT NULL,
            evidence TEXT NOT NULL, patch TEXT NOT NULL, stale_by TEXT NOT NULL DEFAULT '[]');
        CREATE TABLE admission_nodes (
            admission_id INTEGER NOT NULL REFERENCES admissions(id), node TEXT NOT NULL, path TEXT NOT NULL,
            after TEXT, PRIMARY KEY (admission_id, node)) WITHOUT ROWID;
        CREATE INDEX admission_nodes_node ON admission_nodes(node);
        CREATE INDEX admission_nodes_path ON admission_nodes(path);
        CREATE INDEX admissions_lease ON admissions(lease_id, id);
        CREATE INDEX leases_token ON leases(token);
        CREATE TRIGGER admissions_append_only_update BEFORE UPDATE ON admissions
            BEGIN SELECT RAISE(ABORT, 'admissions are append-only'); END;
        CREATE TRIGGER admissions_append_only_delete BEFORE DELETE ON admissions
            BEGIN SELECT RAISE(ABORT, 'admissions are append-only'); END;
        CREATE TRIGGER admission_nodes_append_only_update BEFORE UPDATE ON admission_nodes
            BEGIN SELECT RAISE(ABORT, 'admissions are append-only'); END;
        CREATE TRIGGER admission_nodes_append_only_delete BEFORE DELETE ON admission_nodes
            BEGIN SELECT RAISE(ABORT, 'admissions are append-only'); END;
        CREATE TABLE live_claims (
            lease_id INTEGER NOT NULL, node TEXT NOT NULL, path TEXT NOT NULL, action TEXT NOT NULL,
            whole_file INTEGER NOT NULL, PRIMARY KEY (lease_id, node)) WITHOUT ROWID;
        CREATE INDEX live_claims_node ON live_claims(node);
        CREATE INDEX live_claims_whole ON live_claims(path) WHERE whole_file;
        INSERT INTO live_claims SELECT c.lease_id, c.node, c.path, c.action, c.whole_file
            FROM lease_claims c JOIN leases l ON l.id = c.lease_id WHERE l.state IN ('active', 'waiting');
        DROP INDEX lease_claims_node;
        DROP INDEX lease_claims_path;
        CREATE TABLE lease_footprints (lease_id INTEGER PRIMARY KEY REFERENCES leases(id), footprint TEXT NOT NULL);
        INSERT INTO lease_footprints SELECT id, footprint FROM leases;
        UPDATE leases SET footprint = '';
        CREATE INDEX leases_scoped ON leases(state) WHERE scope_paths != '[]';
    """)


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3, _v4)
SCHEMA_VERSION = len(MIGRATIONS)


# --------------------------------------------------------------------------------------------- the store
class SqliteLeaseStore(LeaseStore):
    def __init__(self, path: Path | str, *, clock: Callable[[], datetime] = utc_now,
                 busy_timeout: float = DEFAULT_BUSY_TIMEOUT, migrate_to: int = SCHEMA_VERSION) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.clock = clock
        self.busy_timeout = busy_timeout
        self._db = self._connect()
        try:
            self._migrate(migrate_to)
        except BaseException:
            self._db.close()
            raise

    # ------------------------------------------------------------------ opening
    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the lease store folder {self.path.parent}: "
                             f"{error.strerror or error}") from error
        if self.path.is_dir():
            raise StoreError(f"lease store {self.path} is a folder, not a file")
        try:
            db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                 check_same_thread=False)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the lease store {self.path}: {error}") from error
        try:
            db.execute("PRAGMA foreign_keys = ON")
            mode = self._use_wal(db)
            if mode.lower() != "wal":
                raise StoreError(f"lease store {self.path}: cannot use write-ahead logging ({mode})")
            db.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as error:
            db.close()
            raise self._translate(error, "open") from error
        return db

    def _use_wal(self, db: sqlite3.Connection) -> str:
        """Switch the file to write-ahead logging (it stays so). The switch needs the file to itself, and
        SQLite answers "locked" at once, without waiting, when processes opening a new store meet there:
        so it is tried again until the busy timeout runs out."""
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                mode = db.execute("PRAGMA journal_mode").fetchone()[0]
                if mode.lower() == "wal":
                    return mode
                return db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _migrate(self, target: int) -> None:
        db = self._db
        try:  # one snapshot: another process may be creating the store right now
            db.execute("BEGIN")
            try:
                has_tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
                app_id = db.execute("PRAGMA application_id").fetchone()[0]
                version = db.execute("PRAGMA user_version").fetchone()[0]
            finally:
                db.execute("COMMIT")
        except sqlite3.DatabaseError as error:
            raise self._translate(error, "read") from error
        if has_tables and app_id != APPLICATION_ID:
            raise StoreError(f"{self.path} is not a semlease lease store (it holds other tables); "
                             "choose another file with --store")
        if version > SCHEMA_VERSION:
            raise StoreError(f"lease store {self.path} has schema version {version}, newer than this semlease "
                             f"understands ({SCHEMA_VERSION}): upgrade semlease")
        if version >= target:
            return
        if version > 0:
            self._backup(version)
        try:
            db.execute("BEGIN IMMEDIATE")
            version = db.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
            for number in range(version + 1, target + 1):
                MIGRATIONS[number - 1](db)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {target}")
            db.execute("COMMIT")
        except BaseException as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise self._translate(error, "migrate") from error
            raise

    def _backup(self, version: int) -> None:
        """A copy of the file as it was before migrating from ``version``; kept, never overwritten."""
        target = self.path.with_name(f"{self.path.name}.v{version}.bak")
        if target.exists():
            return
        try:
            with sqlite3.connect(target) as copy:
                self._db.backup(copy)
            copy.close()
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot back up the lease store to {target} before migrating: {error}") from error

    def _translate(self, error: sqlite3.Error, doing: str) -> StoreError:
        text = str(error)
        if "locked" in text or "busy" in text:
            return StoreError(f"lease store {self.path} is locked by another process (waited "
                              f"{self.busy_timeout:g}s); try again")
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return StoreError(f"lease store {self.path} is damaged or not a SQLite file ({text}); "
                              "move it aside to start a new store (its leases would be lost)")
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return StoreError(f"lease store {self.path} cannot be written ({text})")
        if "disk" in text and "full" in text:
            return StoreError(f"lease store {self.path}: the disk is full ({text}); nothing was changed")
        return StoreError(f"lease store {self.path}: cannot {doing}: {text}")

    # ------------------------------------------------------------------ the port
    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreTransaction]:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as error:
            raise self._translate(error, "start a transaction") from error
        try:
            yield _SqliteTransaction(db, self.clock)
            db.execute("COMMIT")
        except BaseException as error:
            if db.in_transaction:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            if isinstance(error, sqlite3.Error):
                raise self._translate(error, "write") from error
            raise

    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        self._db.close()


_LEASE_COLUMNS = ("id, owner, region, mode, mode_inferred, intent, token, head, requested_at, acquired_at, "
                  "expires_at, ended_at, ttl_seconds, state, "
                  "(SELECT footprint FROM lease_footprints f WHERE f.lease_id = leases.id), "
                  "scope_nodes, scope_paths, repository")
_ADMISSION_COLUMNS = "id, lease_id, token, at, decision, reasons, evidence, patch, stale_by"


class _SqliteTransaction(StoreTransaction):
    def __init__(self, db: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        self._now: datetime | None = None

    def now(self) -> datetime:
        if self._now is None:  # one instant per transaction: every decision in it sees the same time
            self._now = self.clock().astimezone(UTC)
        return self._now

    def next_token(self) -> int:
        return self.db.execute(
            "UPDATE counters SET value = value + 1 WHERE name = 'token' RETURNING value").fetchone()[0]

    def add_lease(self, lease: NewLease, *, state: str, requested_at: datetime,
                  expires_at: datetime | None) -> int:
        scope_paths = json.dumps(list(lease.scope.paths))
        lease_id = self.db.execute(
            "INSERT INTO leases (owner, region, mode, mode_inferred, intent, head, requested_at, expires_at,"
            " ttl_seconds, state, footprint, scope_nodes, scope_paths, repository)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)"
            " RETURNING id",
            (lease.owner, lease.region, lease.mode, int(lease.mode_inferred), lease.intent, lease.head,
             _to_text(requested_at), _to_text(expires_at), lease.ttl_seconds, state,
             json.dumps(list(lease.scope.nodes)), scope_paths, lease.repository),
        ).fetchone()[0]
        self.db.execute("INSERT INTO lease_footprints VALUES (?, ?)", (lease_id, json.dumps(lease.footprint)))
        rows = [(lease_id, c.node, c.path, c.action, int(c.whole_file)) for c in lease.claims]
        self.db.executemany("INSERT INTO lease_claims VALUES (?, ?, ?, ?, ?)", rows)
        if state in LIVE_STATES:
            self.db.executemany("INSERT INTO live_claims VALUES (?, ?, ?, ?, ?)", rows)
        return lease_id

    def update_lease(self, lease_id: int, *, state: str | None = None, token: int | None = None,
                     acquired_at: datetime | None = None, expires_at: datetime | None = None,
                     ended_at: datetime | None = None, clear_expiry: bool = False) -> None:
        changes = {"state": state, "token": token, "acquired_at": _to_text(acquired_at),
                   "expires_at": _to_text(expires_at), "ended_at": _to_text(ended_at)}
        changes = {k: v for k, v in changes.items() if v is not None}
        if clear_expiry:
            changes["expires_at"] = None
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            self.db.execute(f"UPDATE leases SET {sets} WHERE id = ?", (*changes.values(), lease_id))
        if state is not None and state not in LIVE_STATES:  # it no longer meets anyone
            self.db.execute("DELETE FROM live_claims WHERE lease_id = ?", (lease_id,))

    def lease(self, lease_id: int) -> Lease | None:
        row = self.db.execute(f"SELECT {_LEASE_COLUMNS} FROM leases WHERE id = ?", (lease_id,)).fetchone()
        return _lease(row) if row else None

    def leases(self, states: Collection[str] | None = None, *, ids: Collection[int] | None = None,
               owner: str | None = None, region: str | None = None, with_scope_paths: bool = False,
               footprints: bool = True) -> list[Lease]:
        where, args = [], []
        if states is not None:
            where.append(f"state IN ({', '.join('?' * len(states))})")
            args += list(states)
        if ids is not None:
            if not ids:
                return []
            where.append(f"id IN ({', '.join('?' * len(ids))})")
            args += list(ids)
        if owner is not None:
            where.append("owner = ?")
            args.append(owner)
        if region is not None:
            where.append("region = ?")
            args.append(region)
        if with_scope_paths:
            where.append("scope_paths != '[]'")
        columns = _LEASE_COLUMNS if footprints else _LEASE_COLUMNS.replace(
            "(SELECT footprint FROM lease_footprints f WHERE f.lease_id = leases.id)", "'{}'")
        sql = f"SELECT {columns} FROM leases" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [_lease(r) for r in self.db.execute(sql, args)]

    def due(self, now: datetime) -> list[Lease]:
        rows = self.db.execute(f"SELECT {_LEASE_COLUMNS} FROM leases WHERE state IN ('active', 'waiting')"
                               " AND expires_at <= ? ORDER BY id", (_to_text(now),))
        return [_lease(r) for r in rows]

    def shared_claims(self, lease_id: int, states: Collection[str]) -> list[tuple[int, Claim, Claim]]:
        """Three indexed lookups, each cheap on the live leases' claims (live_claims: one index on the node,
        one on the path of whole-file claims, which are few): the same node; my whole file over their
        nodes in it (node ids start with their path, so a range of the node index); their whole file over
        my nodes. Other states (history) read every lease's claims."""
        table = "live_claims" if set(states) <= set(LIVE_STATES) else "lease_claims"
        marks = ", ".join("?" * len(states))
        columns = "t.lease_id, t.node, t.path, t.action, t.whole_file"
        alive = f"JOIN leases l ON l.id = t.lease_id WHERE l.state IN ({marks}) AND t.lease_id != ?"
        mine = self.claims(lease_id)
        found: dict[tuple[int, str, str], tuple[int, Claim, Claim]] = {}

        def add(rows, my_claim: Claim | None = None) -> None:
            for row in rows:
                theirs = Claim(node=row[1], path=row[2], action=row[3], whole_file=bool(row[4]))
                claim = my_claim if my_claim is not None else by_node[row[5]]
                found.setdefault((row[0], claim.node, theirs.node), (row[0], claim, theirs))

        by_node = {c.node: c for c in mine}
        add(self.db.execute(f"""SELECT {columns}, m.node FROM lease_claims m JOIN {table} t ON t.node = m.node
                                {alive} AND m.lease_id = ?""", (*states, lease_id, lease_id)))
        add(self.db.execute(f"""SELECT {columns}, m.node FROM lease_claims m JOIN {table} t
                                ON t.path = m.path AND t.whole_file AND t.node != m.node
                                {alive} AND m.lease_id = ?""", (*states, lease_id, lease_id)))
        for claim in mine:
            if claim.whole_file:  # every node of that file others claim
                add(self.db.execute(f"""SELECT {columns} FROM {table} t {alive} AND t.node != ?
                                        AND (t.node = ? OR (t.node >= ? AND t.node < ?))""",
                                    (*states, lease_id, claim.node, claim.path, claim.path + "::",
                                     claim.path + ":;")), claim)
        return sorted(found.values(), key=lambda item: (item[0], item[1].node, item[2].node))

    def claims(self, lease_id: int) -> list[Claim]:
        rows = self.db.execute("SELECT node, path, action, whole_file FROM lease_claims WHERE lease_id = ?"
                               " ORDER BY node", (lease_id,))
        return [Claim(node=n, path=p, action=a, whole_file=bool(w)) for n, p, a, w in rows]

    def holders(self, nodes: Collection[str], paths: Collection[str], *,
                exclude: int | None = None) -> list[tuple[str, Lease, Claim]]:
        found: list[tuple[int, str, Claim]] = []
        for chunk in _chunks(sorted(set(nodes))):
            rows = self.db.execute(
                "SELECT c.lease_id, c.node, c.node, c.path, c.action, c.whole_file FROM live_claims c"
                " JOIN leases l ON l.id = c.lease_id"
                f" WHERE l.state = 'active' AND c.action != 'rely' AND c.node IN ({', '.join('?' * len(chunk))})",
                chunk)
            found += [(r[0], r[1], Claim(node=r[2], path=r[3], action=r[4], whole_file=bool(r[5]))) for r in rows]
        for chunk in _chunks(sorted(set(paths))):
            rows = self.db.execute(
                "SELECT c.lease_id, c.path, c.node, c.path, c.action, c.whole_file FROM live_claims c"
                " JOIN leases l ON l.id = c.lease_id"
                " WHERE l.state = 'active' AND c.action != 'rely' AND c.whole_file"
                f" AND c.path IN ({', '.join('?' * len(chunk))})", chunk)
            found += [(r[0], r[1], Claim(node=r[2], path=r[3], action=r[4], whole_file=bool(r[5]))) for r in rows]
        found = [f for f in found if f[0] != exclude]
        leases = {lease.id: lease for lease in self.leases(ids={f[0] for f in found}, footprints=False)}
        return [(met, leases[lease_id], claim) for lease_id, met, claim in sorted(found, key=lambda f: (f[0], f[1]))]

    def token_holder(self, token: int) -> int | None:
        row = self.db.execute("SELECT id FROM leases WHERE token = ?", (token,)).fetchone()
        return row[0] if row else None

    def add_admission(self, admission: NewAdmission) -> Admission:
        at = self.now()
        admission_id = self.db.execute(
            "INSERT INTO admissions (lease_id, token, at, decision, reasons, evidence, patch, stale_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (admission.lease_id, admission.token, _to_text(at), admission.decision,
             json.dumps(list(admission.reasons)), json.dumps(admission.evidence), json.dumps(admission.patch),
             json.dumps(list(admission.stale_by)))).fetchone()[0]
        touched = {node: (path, after) for node, path, after in admission.touched}  # each node once
        self.db.executemany("INSERT INTO admission_nodes VALUES (?, ?, ?, ?)",
                            [(admission_id, node, path, after) for node, (path, after) in sorted(touched.items())])
        return self.admissions(ids=(admission_id,))[0]

    def admissions(self, lease_id: int | None = None, *, ids: Collection[int] | None = None) -> list[Admission]:
        where, args = [], []
        if lease_id is not None:
            where.append("lease_id = ?")
            args.append(lease_id)
        if ids is not None:
            if not ids:
                return []
            where.append(f"id IN ({', '.join('?' * len(ids))})")
            args += list(ids)
        sql = f"SELECT {_ADMISSION_COLUMNS} FROM admissions" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.db.execute(sql + " ORDER BY id", args).fetchall()
        touched: dict[int, dict[str, str | None]] = {}
        for chunk in _chunks([r[0] for r in rows]):
            for admission_id, node, after in self.db.execute(
                    f"SELECT admission_id, node, after FROM admission_nodes WHERE admission_id IN"
                    f" ({', '.join('?' * len(chunk))}) ORDER BY admission_id, node", chunk):
                touched.setdefault(admission_id, {})[node] = after
        return [_admission(r, touched.get(r[0], {})) for r in rows]

    def applied_meeting(self, lease_id: int) -> list[tuple[Admission, tuple[str, ...]]]:
        rows = self.db.execute("""
            SELECT n.admission_id, n.node FROM lease_claims c JOIN admission_nodes n ON n.node = c.node
             WHERE c.lease_id = ?
            UNION
            SELECT n.admission_id, n.node FROM lease_claims c JOIN admission_nodes n ON n.path = c.path
             WHERE c.lease_id = ? AND c.whole_file
        """, (lease_id, lease_id)).fetchall()
        met: dict[int, set[str]] = {}
        for admission_id, node in rows:
            met.setdefault(admission_id, set()).add(node)
        applied = [a for a in self.admissions(ids=set(met)) if a.decision == "apply"]
        return [(a, tuple(sorted(met[a.id]))) for a in applied]

    def record(self, lease_id: int | None, kind: str, owner: str | None, detail: dict) -> Event:
        at = self.now()
        seq = self.db.execute("INSERT INTO history (at, lease_id, kind, owner, detail) VALUES (?, ?, ?, ?, ?)"
                              " RETURNING seq", (_to_text(at), lease_id, kind, owner, json.dumps(detail))
                              ).fetchone()[0]
        return Event(seq=seq, at=at, lease_id=lease_id, kind=kind, owner=owner, detail=detail)

    def history(self, lease_id: int | None = None) -> list[Event]:
        if lease_id is None:
            rows = self.db.execute("SELECT seq, at, lease_id, kind, owner, detail FROM history ORDER BY seq")
        else:
            rows = self.db.execute("SELECT seq, at, lease_id, kind, owner, detail FROM history"
                                   " WHERE lease_id = ? ORDER BY seq", (lease_id,))
        return [Event(seq=s, at=_from_text(at), lease_id=lid, kind=k, owner=o, detail=json.loads(d))
                for s, at, lid, k, o, d in rows]


def _chunks(items: list, size: int = 500) -> Iterator[list]:
    """Slices short enough for one ``IN (...)`` list (SQLite limits the number of parameters)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _admission(row: tuple, touched: dict[str, str | None]) -> Admission:
    admission_id, lease_id, token, at, decision, reasons, evidence, patch, stale_by = row
    return Admission(id=admission_id, lease_id=lease_id, token=token, at=_from_text(at), decision=decision,
                     reasons=tuple(json.loads(reasons)), evidence=json.loads(evidence), patch=json.loads(patch),
                     touched=tuple(touched), after=touched, stale_by=tuple(json.loads(stale_by)))


def _lease(row: tuple) -> Lease:
    (lease_id, owner, region, mode, mode_inferred, intent, token, head, requested_at, acquired_at, expires_at,
     ended_at, ttl_seconds, state, footprint, scope_nodes, scope_paths, repository) = row
    scope = Scope(nodes=tuple(json.loads(scope_nodes)), paths=tuple(json.loads(scope_paths)))
    return Lease(id=lease_id, owner=owner, region=region, mode=mode, mode_inferred=bool(mode_inferred),
                 intent=intent, scope=scope, token=token,
                 head=head, requested_at=_from_text(requested_at), acquired_at=_from_text(acquired_at),
                 expires_at=_from_text(expires_at), ended_at=_from_text(ended_at), ttl_seconds=ttl_seconds,
                 state=state, footprint=json.loads(footprint), repository=repository)


def default_store_path(common_git_dir: Path | None, root: Path) -> Path:
    """``<git common dir>/semlease/leases.db`` (every worktree sees it), else ``<root>/.semlease/leases.db``."""
    if common_git_dir is not None:
        return common_git_dir / "semlease" / "leases.db"
    return root / ".semlease" / "leases.db"


def store_path_from_url(url: str, cwd: Path | None = None) -> Path:
    """``sqlite:///relative/leases.db`` or ``sqlite:////absolute/leases.db`` (SQLAlchemy's spelling)."""
    if not url.startswith("sqlite:///"):
        raise StoreError(f"not a SQLite store URL: {url!r} (expected sqlite:///PATH)")
    rest = url[len("sqlite:///"):]
    if not rest or rest.endswith("/"):
        raise StoreError(f"store URL {url!r} names no file")
    path = Path(rest)
    return path if path.is_absolute() else Path(os.path.abspath((cwd or Path.cwd()) / path))
