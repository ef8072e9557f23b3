"""The coordinator on a real SQLite store and a real graph, with a clock the tests control: DESIGN.md's four
examples, refusal messages, expiry by the store's clock, renew/release rules, the wait queue, class
members, whole files, --scope globs and behaviours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from semlease.adapters.sqlite_store import SqliteLeaseStore
from semlease.domain.leases import choose_mode
from semlease.domain.regions import parse_region
from semlease.errors import Refused, SemleaseError
from semlease.services.coordinator import WAITER_HEARTBEAT, AcquireRequest, Coordinator, Decision
from semlease.services.scoping import RegionResolver

T0 = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def coordinator(tmp_path: Path, clock: Clock):
    with SqliteLeaseStore(tmp_path / "leases.db", clock=clock) as store:
        yield Coordinator(store)


def acquire(coordinator: Coordinator, regions: RegionResolver, owner: str, region: str, intent: str = "work",
            mode: str | None = "implement", ttl: timedelta = timedelta(minutes=30), scope: tuple[str, ...] = (),
            files: tuple[str, ...] = (), wait: bool = False) -> Decision:
    choice = choose_mode(mode, intent)
    parsed = parse_region(region)
    plan = regions.plan(parsed, choice.mode, scope, files)
    request = AcquireRequest(owner=owner, region=parsed.text, intent=intent, mode=choice, ttl=ttl, head="c0ffee")
    return coordinator.acquire(request, plan, wait=wait)


def summary(decision: Decision) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [(o.owner, o.region, o.cls, o.shared) for o in decision.overlaps]


# ------------------------------------------------------------------------------------- DESIGN.md examples
def test_implement_and_a_benchmark_of_it_are_compatible(coordinator, regions) -> None:
    a = acquire(coordinator, regions, "a", "export search", mode="implement")
    b = acquire(coordinator, regions, "b", "export search", intent="benchmark search()", mode=None)
    assert a.granted and b.granted
    assert b.lease.mode == "observe" and b.lease.mode_inferred
    assert summary(b) == [("a", "export search", "compatible",
                           ("search/engine.py::search", "tests/test_engine.py::test_search"))]


def test_rename_and_adding_callers_are_risky_and_granted_with_the_reason(coordinator, regions) -> None:
    acquire(coordinator, regions, "a", "export search", intent="rename search() to find()", mode=None)
    b = acquire(coordinator, regions, "b", "export search", intent="add callers of search()", mode=None)
    assert b.granted and b.lease.mode == "extend"
    assert summary(b) == [("a", "export search", "risky",
                           ("search/engine.py::search", "tests/test_engine.py::test_search"))]
    assert b.overlaps[0].reason == (
        "risky: on search/engine.py::search this lease adds uses of it (write:extend) and L1 held by 'a' "
        "renames, moves or deletes it (write:rename); 2 shared nodes")


def test_two_contract_changes_conflict_and_the_second_is_refused(coordinator, regions, clock) -> None:
    a = acquire(coordinator, regions, "a", "export search", intent="change the return type to a tuple",
                mode=None, ttl=timedelta(minutes=20))
    b = acquire(coordinator, regions, "b", "export search", intent="change the signature", mode=None)
    assert a.granted and a.lease.mode == "contract" and a.lease.token == 1
    assert not b.granted and b.lease.state == "refused" and b.lease.token is None
    assert b.lease.expires_at is None and b.lease.ended_at == T0
    (overlap,) = b.overlaps
    assert (overlap.lease_id, overlap.owner, overlap.region, overlap.mode, overlap.cls) == (
        1, "a", "export search", "contract", "conflict")
    assert overlap.expires_at == T0 + timedelta(minutes=20)
    assert overlap.shared == ("search/engine.py::search", "tests/test_engine.py::test_search")
    assert overlap.reason.startswith("conflict: on search/engine.py::search this lease changes its contract "
                                     "(write:contract) and L1 held by 'a' changes its contract")
    assert [e.kind for e in coordinator.history(b.lease.id)] == ["requested", "refused"]


def test_two_functions_of_one_file_do_not_overlap_at_all(coordinator, regions) -> None:
    a = acquire(coordinator, regions, "a", "export parse_date")
    b = acquire(coordinator, regions, "b", "export format_currency")
    assert a.granted and b.granted
    assert a.overlaps == () and b.overlaps == ()
    assert (a.lease.token, b.lease.token) == (1, 2)


# ------------------------------------------------------------------------------------- graph shapes
def test_a_class_lease_covers_its_methods(coordinator, regions) -> None:
    acquire(coordinator, regions, "a", "export Cart")
    b = acquire(coordinator, regions, "b", "symbol Cart.total")
    assert not b.granted
    assert summary(b) == [("a", "export Cart", "conflict", ("shop/cart.py::Cart.total",))]


def test_a_file_lease_covers_every_definition_in_it(coordinator, regions) -> None:
    acquire(coordinator, regions, "a", "file util/fmt.py", mode="rename")
    b = acquire(coordinator, regions, "b", "export format_currency")
    assert not b.granted
    assert summary(b)[0][:3] == ("a", "file util/fmt.py", "conflict")
    assert b.overlaps[0].shared[0] == "util/fmt.py::format_currency"


def test_scope_globs_meet_literal_paths_and_files_made_later(coordinator, regions) -> None:
    a = acquire(coordinator, regions, "a", "export parse_date", scope=("docs/*.md",),
                files=("docs/dates.md", "README.md"))
    assert a.lease.scope.paths == ("docs/*.md",)
    assert "docs/dates.md" in a.lease.scope.nodes
    b = acquire(coordinator, regions, "b", "export format_currency", scope=("docs/money.md",),
                files=("docs/dates.md", "README.md"))  # docs/money.md does not exist yet
    assert not b.granted
    assert summary(b) == [("a", "export parse_date", "conflict", ("docs/money.md",))]
    c = acquire(coordinator, regions, "c", "export search", scope=("README.md",), files=("README.md",))
    assert c.granted and c.overlaps == ()


def test_a_behaviour_is_the_union_of_its_parts(coordinator, regions) -> None:
    fp = regions.footprint(parse_region("behavior searching"))
    assert [e.id for e in fp.role("definition")] == ["search/api.py::handle", "search/engine.py::search"]
    assert [e.id for e in fp.role("dependents")] == ["search/api.py", "tests/test_engine.py"]
    acquire(coordinator, regions, "a", "behavior searching")
    b = acquire(coordinator, regions, "b", "export handle")
    # handle is A's definition (conflict); search is A's definition and B's dependency (compatible)
    assert summary(b) == [("a", "behavior searching", "conflict",
                           ("search/api.py::handle", "search/engine.py::search"))]
    with pytest.raises(SemleaseError, match="no behaviour named 'checkout'; configured: searching"):
        regions.footprint(parse_region("behavior checkout"))


# ------------------------------------------------------------------------------------- time
def test_expiry_is_judged_by_the_store_clock_and_kept_in_history(coordinator, regions, clock) -> None:
    a = acquire(coordinator, regions, "a", "export search", ttl=timedelta(minutes=10))
    clock.advance(minutes=9, seconds=59)
    assert not acquire(coordinator, regions, "b", "export search").granted
    clock.advance(seconds=1)
    b = acquire(coordinator, regions, "b", "export search")
    assert b.granted and b.expired == (1,) and b.overlaps == ()
    old = coordinator.show(a.lease.id)[0]
    assert (old.state, old.ended_at) == ("expired", T0 + timedelta(minutes=10))
    assert [e.kind for e in coordinator.history(a.lease.id)] == ["requested", "granted", "expired"]
    assert [lease.id for lease in coordinator.leases()] == [3]
    assert [(lease.id, lease.state) for lease in coordinator.leases(include_ended=True)] == [
        (1, "expired"), (2, "refused"), (3, "active")]


def test_renew_only_by_the_owner_and_only_while_active(coordinator, regions, clock) -> None:
    a = acquire(coordinator, regions, "agent-a", "export search", ttl=timedelta(minutes=10))
    with pytest.raises(Refused) as refused:
        coordinator.renew(a.lease.id, "Agent-A")
    assert str(refused.value) == "cannot renew L1: it is held by 'agent-a', not by 'Agent-A'"
    clock.advance(minutes=5)
    outcome = coordinator.renew(a.lease.id, "agent-a", timedelta(hours=1))
    assert outcome.lease.expires_at == T0 + timedelta(minutes=65)
    assert outcome.message == "renewed L1 until 2026-12-03T19:05:00.000Z"
    assert outcome.lease.token == a.lease.token == 1  # renewal keeps the fencing token
    clock.advance(minutes=60)
    with pytest.raises(Refused) as refused:
        coordinator.renew(a.lease.id, "agent-a")
    assert str(refused.value) == "L1 cannot be renewed: it is expired since 2026-12-03T19:05:00.000Z"
    with pytest.raises(SemleaseError, match="no lease L9 in this store"):
        coordinator.renew(9, "agent-a")


def test_release_is_idempotent_and_keeps_the_history(coordinator, regions, clock) -> None:
    a = acquire(coordinator, regions, "a", "export search")
    with pytest.raises(Refused, match="cannot release L1: it is held by 'a', not by 'b'"):
        coordinator.release(a.lease.id, "b")
    clock.advance(minutes=1)
    first = coordinator.release(a.lease.id, "a")
    second = coordinator.release(a.lease.id, "a")
    assert (first.changed, first.message) == (True, "released L1 (export search)")
    assert (second.changed, second.message) == (False, "nothing to do: L1 is already released since "
                                                       "2026-12-03T18:01:00.000Z")
    assert [e.kind for e in coordinator.history(1)] == ["requested", "granted", "released"]
    assert acquire(coordinator, regions, "b", "export search").granted


def test_the_same_owner_supersedes_its_own_lease_on_the_same_region(coordinator, regions) -> None:
    acquire(coordinator, regions, "a", "export search", mode="implement")
    again = acquire(coordinator, regions, "a", "export search", mode="contract")
    assert again.granted and again.superseded == (1,)
    assert again.overlaps[0].reason == "also held by 'a' (the same owner)"
    assert coordinator.show(1)[0].state == "superseded"
    other = acquire(coordinator, regions, "a", "export handle", mode="rename")
    assert other.granted and [o.cls for o in other.overlaps] == ["compatible"]


# ------------------------------------------------------------------------------------- the wait queue
def test_a_waiter_is_granted_when_the_holder_releases(coordinator, regions, clock) -> None:
    holder = acquire(coordinator, regions, "a", "export search")
    plan = regions.plan(parse_region("export search"), "implement")
    request = AcquireRequest(owner="b", region="export search", intent="w", mode=choose_mode("implement", ""),
                             ttl=timedelta(minutes=5))
    queued: list[Decision] = []
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            coordinator.release(holder.lease.id, "a")
        clock.advance(seconds=seconds)

    decision = coordinator.wait_for_grant(request, plan, timedelta(minutes=1), sleep=sleep,
                                          monotonic=lambda: (clock.now - T0).total_seconds(),
                                          on_queued=queued.append)
    assert decision.granted and decision.lease.id == 2 and decision.lease.token == 2
    assert [o.lease_id for o in queued[0].blocking] == [1]
    assert naps == [0.05, 0.1, 0.2]
    assert [e.kind for e in coordinator.history(2)] == ["requested", "queued", "granted"]


def test_a_wait_that_runs_out_is_refused(coordinator, regions, clock) -> None:
    acquire(coordinator, regions, "a", "export search")
    plan = regions.plan(parse_region("export search"), "implement")
    request = AcquireRequest(owner="b", region="export search", intent="w", mode=choose_mode("implement", ""),
                             ttl=timedelta(minutes=5))
    decision = coordinator.wait_for_grant(request, plan, timedelta(seconds=3), sleep=lambda s: clock.advance(seconds=s),
                                          monotonic=lambda: (clock.now - T0).total_seconds())
    assert not decision.granted and decision.lease.state == "refused"
    assert coordinator.history(2)[-1].detail == {"reason": "the wait of 3s ran out"}


def test_the_queue_is_first_come_first_served(coordinator, regions, clock) -> None:
    acquire(coordinator, regions, "a", "export search")
    waiting = acquire(coordinator, regions, "b", "export search", wait=True)
    assert waiting.waiting and waiting.lease.state == "waiting" and waiting.lease.token is None
    assert [(lease.id, lease.state) for lease in coordinator.leases()] == [(1, "active"), (2, "waiting")]
    assert [o.lease_id for o in coordinator.waiting_for(2)] == [1]
    coordinator.release(1, "a")
    late = acquire(coordinator, regions, "c", "export search")  # may not jump the queue
    assert not late.granted
    assert late.overlaps[0].state == "waiting"
    assert "L2 (queued before you) held by 'b'" in late.overlaps[0].reason
    assert coordinator.poll(2).granted


def test_a_waiter_that_stops_polling_leaves_the_queue(coordinator, regions, clock) -> None:
    acquire(coordinator, regions, "a", "export search")
    acquire(coordinator, regions, "b", "export search", wait=True)
    coordinator.release(1, "a")
    clock.advance(seconds=WAITER_HEARTBEAT.total_seconds())
    c = acquire(coordinator, regions, "c", "export search")
    assert c.granted and c.expired == (2,)
    assert coordinator.show(2)[0].state == "cancelled"
    assert coordinator.history(2)[-1].detail == {"reason": "the waiting process stopped polling"}


def test_bad_owner_names(coordinator, regions) -> None:
    for owner, message in (("", "--owner must name who holds the lease"),
                           ("a\nb", "--owner must be one line of at most 200 characters")):
        with pytest.raises(SemleaseError, match=message):
            acquire(coordinator, regions, owner, "export search")
    with SqliteLeaseStore(coordinator.store.location) as store, store.transaction(write=False) as tx:
        assert tx.leases() == []  # nothing half-written


def test_a_plan_made_for_another_mode_is_a_programming_error(coordinator, regions) -> None:
    plan = regions.plan(parse_region("export search"), "observe")
    request = AcquireRequest(owner="a", region="export search", intent="x", mode=choose_mode("implement", ""),
                             ttl=timedelta(minutes=5))
    with pytest.raises(ValueError, match="a plan made for mode observe cannot grant a implement lease"):
        coordinator.acquire(request, plan)
