"""The SQLite lease store: its schema chain, tokens, claims join, append-only history, and every way the
file can be wrong (damaged, foreign, too new, locked, not writable) - each one clear line, nothing lost."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from semlease.adapters.sqlite_store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    SqliteLeaseStore,
    default_store_path,
    store_path_from_url,
)
from semlease.domain.leases import Claim, Scope
from semlease.domain.store import NewAdmission, NewLease
from semlease.errors import StoreError

T0 = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


def new_lease(owner: str = "a", claims: tuple[Claim, ...] = (), region: str = "export f") -> NewLease:
    return NewLease(owner=owner, region=region, mode="implement", mode_inferred=False, intent="work",
                    scope=Scope(nodes=tuple(c.node for c in claims), paths=()), head="abc", ttl_seconds=600,
                    footprint={"region": region, "footprint": {}}, claims=claims, repository="git:0123abcd")


@pytest.fixture
def store(tmp_path: Path):
    with SqliteLeaseStore(tmp_path / "leases.db", clock=lambda: T0) as s:
        yield s


def test_a_new_store_is_marked_and_at_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "leases.db"
    with SqliteLeaseStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 4
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not list(tmp_path.glob("deep/er/*.bak"))  # nothing to back up on a new store


def test_lease_round_trip_and_times(store: SqliteLeaseStore) -> None:
    claim = Claim(node="a.py::f", path="a.py", action="write:implement")
    with store.transaction() as tx:
        lease_id = tx.add_lease(new_lease(claims=(claim,)), state="waiting", requested_at=T0,
                                expires_at=T0 + timedelta(seconds=20))
        tx.update_lease(lease_id, state="active", token=tx.next_token(), acquired_at=T0,
                        expires_at=T0 + timedelta(minutes=10))
    with store.transaction(write=False) as tx:
        lease = tx.lease(lease_id)
        assert tx.claims(lease_id) == [claim]
        assert tx.lease(999) is None
    assert (lease.id, lease.owner, lease.state, lease.token, lease.head) == (1, "a", "active", 1, "abc")
    assert lease.repository == "git:0123abcd"
    assert lease.acquired_at == T0 and lease.expires_at == T0 + timedelta(minutes=10)
    assert lease.scope == Scope(nodes=("a.py::f",), paths=())
    with store.transaction() as tx:
        tx.update_lease(lease_id, state="released", ended_at=T0, clear_expiry=True)
        assert tx.lease(lease_id).expires_at is None


def test_tokens_grow_across_transactions_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    seen = []
    for _ in range(3):
        with SqliteLeaseStore(path) as store:
            for _ in range(4):
                with store.transaction() as tx:
                    seen.append(tx.next_token())
    assert seen == list(range(1, 13))


def test_a_rolled_back_transaction_issues_no_token(store: SqliteLeaseStore) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.next_token()
        raise RuntimeError("boom")
    with store.transaction() as tx:
        assert tx.next_token() == 1


def test_shared_claims_meet_on_nodes_and_whole_files(store: SqliteLeaseStore) -> None:
    f = Claim(node="a.py::f", path="a.py", action="write:implement")
    g = Claim(node="a.py::g", path="a.py", action="write:implement")
    whole = Claim(node="a.py", path="a.py", action="write:rename", whole_file=True)
    rely_f = Claim(node="a.py::f", path="a.py", action="rely")
    with store.transaction() as tx:
        first = tx.add_lease(new_lease("a", (f,)), state="active", requested_at=T0, expires_at=T0)
        second = tx.add_lease(new_lease("b", (g,)), state="active", requested_at=T0, expires_at=T0)
        third = tx.add_lease(new_lease("c", (whole,)), state="active", requested_at=T0, expires_at=T0)
        fourth = tx.add_lease(new_lease("d", (rely_f,)), state="released", requested_at=T0, expires_at=T0)
        assert sorted(tx.shared_claims(first, ("active", "waiting"))) == [(third, f, whole)]
        assert sorted(tx.shared_claims(second, ("active",))) == [(third, g, whole)]
        assert sorted(tx.shared_claims(third, ("active",))) == [(first, whole, f), (second, whole, g)]
        assert sorted(tx.shared_claims(fourth, ("active",))) == [(first, rely_f, f), (third, rely_f, whole)]
        assert tx.shared_claims(first, ("released",)) == [(fourth, f, rely_f)]


def test_an_ended_lease_meets_nobody_and_keeps_its_claims(store: SqliteLeaseStore) -> None:
    f = Claim(node="a.py::f", path="a.py", action="write:implement")
    whole = Claim(node="a.py", path="a.py", action="write:rename", whole_file=True)
    with store.transaction() as tx:
        first = tx.add_lease(new_lease("a", (f,)), state="active", requested_at=T0, expires_at=T0)
        second = tx.add_lease(new_lease("b", (whole,)), state="waiting", requested_at=T0, expires_at=T0)
        assert [(other, mine.node, theirs.node) for other, mine, theirs in tx.shared_claims(second, ("active",))] == [
            (first, "a.py", "a.py::f")]
        tx.update_lease(first, state="released", ended_at=T0)
        assert tx.shared_claims(second, ("active", "waiting")) == []
        assert tx.claims(first) == [f]  # the history keeps what it claimed
        assert [o for o, _, _ in tx.shared_claims(second, ("released",))] == [first]
        assert tx.lease(first).footprint == {"region": "export f", "footprint": {}}
    live = sqlite3.connect(store.path).execute("SELECT lease_id, node FROM live_claims").fetchall()
    assert live == [(second, "a.py")]


def test_history_and_leases_cannot_be_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    with SqliteLeaseStore(path, clock=lambda: T0) as store, store.transaction() as tx:
        lease_id = tx.add_lease(new_lease(), state="active", requested_at=T0, expires_at=T0)
        event = tx.record(lease_id, "granted", "a", {"token": 1})
    assert (event.seq, event.at, event.kind, event.detail) == (1, T0, "granted", {"token": 1})
    db = sqlite3.connect(path)
    for statement in ("UPDATE history SET kind = 'x'", "DELETE FROM history"):
        with pytest.raises(sqlite3.IntegrityError, match="the lease history is append-only"):
            db.execute(statement)
    with pytest.raises(sqlite3.IntegrityError, match="leases are never deleted"):
        db.execute("DELETE FROM leases")


def test_holders_are_active_leases_that_may_edit_a_node_or_a_whole_file(store: SqliteLeaseStore) -> None:
    f = Claim(node="a.py::f", path="a.py", action="write:implement")
    rely_g = Claim(node="a.py::g", path="a.py", action="rely")
    whole = Claim(node="b.py", path="b.py", action="write:rename", whole_file=True)
    test = Claim(node="t.py::test_f", path="t.py", action="edit-test")
    with store.transaction() as tx:
        first = tx.add_lease(new_lease("a", (f, rely_g, test)), state="active", requested_at=T0, expires_at=T0)
        second = tx.add_lease(new_lease("b", (whole,)), state="active", requested_at=T0, expires_at=T0)
        tx.add_lease(new_lease("c", (f,)), state="released", requested_at=T0, expires_at=T0)
        found = tx.holders(["a.py::f", "a.py::g", "t.py::test_f", "b.py::h"], ["a.py", "b.py"])
        assert [(met, lease.id, claim) for met, lease, claim in found] == [
            ("a.py::f", first, f), ("t.py::test_f", first, test), ("b.py", second, whole)]
        assert [lease.id for _, lease, _ in tx.holders(["a.py::f"], [], exclude=first)] == []
        assert tx.holders([], []) == []


def test_admissions_round_trip_and_meet_a_lease_on_its_claims(store: SqliteLeaseStore) -> None:
    f = Claim(node="a.py::f", path="a.py", action="write:implement")
    caller = Claim(node="b.py::caller", path="b.py", action="rely")
    whole = Claim(node="c.py", path="c.py", action="write:rename", whole_file=True)
    with store.transaction() as tx:
        mine = tx.add_lease(new_lease("a", (f, caller, whole)), state="active", requested_at=T0, expires_at=T0)
        other = tx.add_lease(new_lease("b"), state="active", requested_at=T0, expires_at=T0)
        tx.update_lease(mine, token=tx.next_token())
        tx.update_lease(other, token=tx.next_token())
        applied = tx.add_admission(NewAdmission(
            lease_id=other, token=2, decision="apply", reasons=["evidence complete"], evidence={"tests": {"ok": True}},
            patch={"symbols": []},
            touched=[("b.py::caller", "b.py", "d1"), ("c.py::k", "c.py", None), ("d.py::x", "d.py", "d3")]))
        rejected = tx.add_admission(NewAdmission(
            lease_id=other, token=2, decision="reject", reasons=["missing: tests"], evidence={}, patch={},
            touched=[("a.py::f", "a.py", "d4")], stale_by=[applied.id]))
        assert (applied.id, applied.lease_id, applied.token, applied.at, applied.decision) == (1, other, 2, T0, "apply")
        assert applied.touched == ("b.py::caller", "c.py::k", "d.py::x")
        assert applied.after == {"b.py::caller": "d1", "c.py::k": None, "d.py::x": "d3"}
        assert applied.reasons == ("evidence complete",) and applied.evidence == {"tests": {"ok": True}}
        assert rejected.stale_by == (1,) and rejected.label == "A2"
        # only applied patches count, on a node of the lease's claims or in a file it claims whole
        assert tx.applied_meeting(mine) == [(applied, ("b.py::caller", "c.py::k"))]
        assert [a.id for a in tx.admissions(other)] == [1, 2]
        assert tx.admissions(mine) == []
        assert tx.token_holder(2) == other and tx.token_holder(3) is None


def test_admissions_cannot_be_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    with SqliteLeaseStore(path, clock=lambda: T0) as store, store.transaction() as tx:
        lease_id = tx.add_lease(new_lease(), state="active", requested_at=T0, expires_at=T0)
        tx.add_admission(NewAdmission(lease_id=lease_id, token=1, decision="apply", reasons=[], evidence={},
                                      patch={}, touched=[("a.py::f", "a.py", None)]))
    db = sqlite3.connect(path)
    for statement in ("UPDATE admissions SET decision = 'reject'", "DELETE FROM admissions",
                      "UPDATE admission_nodes SET node = 'x'", "DELETE FROM admission_nodes"):
        with pytest.raises(sqlite3.IntegrityError, match="admissions are append-only"):
            db.execute(statement)


# ------------------------------------------------------------------------------------------- migrations
V1_FOOTPRINT = {"region": "export f", "kind": "export", "head": "abc", "footprint": {
    "definition": [{"id": "a.py::f", "kind": "function", "path": "a.py", "start_line": 1, "end_line": 3}],
    "contract": [{"id": "a.py::f", "kind": "signature", "path": "a.py", "start_line": 1, "end_line": 1}],
    "dependencies": [{"id": "b.py::g", "kind": "function", "path": "b.py", "start_line": 1, "end_line": 2}],
    "dependents": [], "tests": [{"id": "t.py::test_f", "kind": "test", "path": "t.py", "start_line": 1,
                                 "end_line": 2}], "fixtures": []}}


def _make_v1_store(path: Path) -> None:
    """A store as semlease with schema 1 left it: two leases, their history, the counter at 7."""
    SqliteLeaseStore(path, migrate_to=1).close()
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT INTO leases (owner, region, mode, intent, token, head, acquired_at, expires_at, state,"
                   " footprint) VALUES ('agent-a', 'export f', 'implement', 'fix f', 6, 'abc',"
                   " '2026-12-01T10:00:00.000000Z', '2026-12-01T10:30:00.000000Z', 'active', ?)",
                   (json.dumps(V1_FOOTPRINT),))
        db.execute("INSERT INTO leases (owner, region, mode, intent, token, head, acquired_at, expires_at, state,"
                   " footprint, scope_paths) VALUES ('agent-b', 'file a.py', 'rename', 'move a', 7, 'abc',"
                   " '2026-12-01T09:00:00.000000Z', '2026-12-01T09:10:00.000000Z', 'released', ?, '[\"docs/\"]')",
                   (json.dumps({"region": "file a.py", "footprint": {"definition": [
                       {"id": "a.py", "kind": "file", "path": "a.py", "start_line": 1, "end_line": 9}]}}),))
        for at, lease_id, kind in (("2026-12-01T09:00:00.000000Z", 2, "granted"),
                                   ("2026-12-01T09:05:00.000000Z", 2, "released"),
                                   ("2026-12-01T10:00:00.000000Z", 1, "granted")):
            db.execute("INSERT INTO history (at, lease_id, kind, owner, detail) VALUES (?, ?, ?, 'x', '{}')",
                       (at, lease_id, kind))
        db.execute("UPDATE counters SET value = 7")
    db.close()


def test_migrating_from_schema_1_keeps_every_lease_and_event(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    _make_v1_store(path)
    with SqliteLeaseStore(path) as store:
        assert store.schema_version() == 4
        with store.transaction() as tx:
            leases = tx.leases()
            history = tx.history()
            claims = tx.claims(1)
            whole = tx.claims(2)
            token = tx.next_token()
    first, second = leases
    assert (first.owner, first.state, first.token, first.ttl_seconds) == ("agent-a", "active", 6, 1800.0)
    assert first.requested_at == first.acquired_at == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert first.scope == Scope(nodes=("a.py::f", "t.py::test_f"), paths=())
    assert first.footprint == V1_FOOTPRINT
    assert (second.state, second.ttl_seconds, second.scope.paths) == ("released", 600.0, ("docs/",))
    assert second.ended_at == datetime(2026, 12, 1, 9, 5, tzinfo=UTC)  # its last event
    assert [(e.lease_id, e.kind) for e in history] == [(2, "granted"), (2, "released"), (1, "granted")]
    assert claims == [Claim(node="a.py::f", path="a.py", action="write:implement"),
                      Claim(node="b.py::g", path="b.py", action="rely"),
                      Claim(node="t.py::test_f", path="t.py", action="edit-test")]
    assert whole == [Claim(node="a.py", path="a.py", action="write:rename", whole_file=True)]
    assert token == 8  # the counter carried over: no token is ever issued twice
    backup = tmp_path / "leases.db.v1.bak"
    assert sqlite3.connect(backup).execute("PRAGMA user_version").fetchone()[0] == 1
    assert sqlite3.connect(backup).execute("SELECT count(*) FROM leases").fetchone()[0] == 2


def test_migrating_from_schema_2(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    _make_v1_store(path)
    SqliteLeaseStore(path, migrate_to=2).close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM lease_claims").fetchone()[0] == 4
    with SqliteLeaseStore(path) as store, store.transaction(write=False) as tx:
        assert [lease.token for lease in tx.leases()] == [6, 7]
        assert len(tx.history()) == 3
    assert (tmp_path / "leases.db.v2.bak").is_file()


def test_migrating_from_schema_3_adds_admissions_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    _make_v1_store(path)
    SqliteLeaseStore(path, migrate_to=3).close()
    with SqliteLeaseStore(path, clock=lambda: T0) as store:
        assert store.schema_version() == 4
        with store.transaction() as tx:
            leases = tx.leases()
            assert [(lease.token, lease.state, lease.repository) for lease in leases] == [
                (6, "active", None), (7, "released", None)]
            assert len(tx.history()) == 3 and tx.admissions() == []
            assert tx.next_token() == 8
            admission = tx.add_admission(NewAdmission(lease_id=1, token=6, decision="apply", reasons=[],
                                                      evidence={}, patch={}, touched=[("a.py::f", "a.py", "x")]))
            assert tx.applied_meeting(1) == [(admission, ("a.py::f",))]
            assert leases[0].footprint == V1_FOOTPRINT  # moved to lease_footprints, not lost
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM leases WHERE footprint != ''").fetchone()[0] == 0
    # only the active lease's claims meet new requests; the released one's stay in the history
    assert db.execute("SELECT lease_id, node FROM live_claims ORDER BY node").fetchall() == [
        (1, "a.py::f"), (1, "b.py::g"), (1, "t.py::test_f")]
    assert db.execute("SELECT count(*) FROM lease_claims").fetchone()[0] == 4
    assert (tmp_path / "leases.db.v3.bak").is_file()


def test_a_failing_migration_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from semlease.adapters import sqlite_store

    path = tmp_path / "leases.db"
    _make_v1_store(path)

    def broken(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE leases ADD COLUMN half_done TEXT")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sqlite_store, "MIGRATIONS", (sqlite_store._v1, sqlite_store._v2, broken))
    with pytest.raises(StoreError, match="cannot migrate: disk I/O error"):
        SqliteLeaseStore(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "half_done" not in [r[1] for r in db.execute("PRAGMA table_info(leases)")]
    assert "lease_claims" not in [r[0] for r in db.execute("SELECT name FROM sqlite_master")]
    assert db.execute("SELECT count(*) FROM leases").fetchone()[0] == 2


# ------------------------------------------------------------------------------------------- bad files
def test_a_newer_store_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    SqliteLeaseStore(path).close()
    sqlite3.connect(path).execute("PRAGMA user_version = 9")
    with pytest.raises(StoreError) as error:
        SqliteLeaseStore(path)
    assert str(error.value) == (f"lease store {path} has schema version 9, newer than this semlease "
                                "understands (4): upgrade semlease")


def test_a_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(StoreError) as error:
        SqliteLeaseStore(path)
    assert str(error.value) == (f"{path} is not a semlease lease store (it holds other tables); "
                                "choose another file with --store")
    assert sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall() == [("users",)]


def test_a_damaged_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    junk = b"this is not a database at all " * 200
    path.write_bytes(junk)
    with pytest.raises(StoreError) as error:
        SqliteLeaseStore(path)
    assert str(error.value).startswith(f"lease store {path} is damaged or not a SQLite file (file is not a database)")
    assert path.read_bytes() == junk


def test_a_locked_store_says_so(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    SqliteLeaseStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with SqliteLeaseStore(path, busy_timeout=0.2) as store, pytest.raises(StoreError) as error:
            with store.transaction():
                pass
        assert str(error.value) == (f"lease store {path} is locked by another process (waited 0.2s); "
                                    "try again")
    finally:
        holder.execute("ROLLBACK")


def test_a_store_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as error:
        SqliteLeaseStore(blocker / "leases.db")
    assert str(error.value) == f"cannot create the lease store folder {blocker}: File exists"
    with pytest.raises(StoreError) as error:
        SqliteLeaseStore(tmp_path)
    assert str(error.value) == f"lease store {tmp_path} is a folder, not a file"


# ------------------------------------------------------------------------------------------- locations
def test_store_urls_and_default_location(tmp_path: Path) -> None:
    assert store_path_from_url("sqlite:////abs/leases.db") == Path("/abs/leases.db")
    assert store_path_from_url("sqlite:///rel/leases.db", cwd=tmp_path) == tmp_path / "rel" / "leases.db"
    for bad, message in (("mysql://x", "not a SQLite store URL: 'mysql://x' (expected sqlite:///PATH)"),
                         ("sqlite:///", "store URL 'sqlite:///' names no file")):
        with pytest.raises(StoreError) as error:
            store_path_from_url(bad)
        assert str(error.value) == message
    assert default_store_path(Path("/r/.git"), Path("/r")) == Path("/r/.git/semlease/leases.db")
    assert default_store_path(None, Path("/r")) == Path("/r/.semlease/leases.db")
