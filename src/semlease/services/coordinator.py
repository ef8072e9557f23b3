"""The lease coordinator: grant, queue, renew, release and expire leases on a store.

Each decision is one store transaction: expire what is due by the store's clock, intersect the request's
claims with every live lease's claims (a join in the store), classify each overlap with the policy, then
grant (taking the next fencing token), queue or refuse, and append what happened to the history.

Queue: ``acquire --wait`` keeps a refused request as a *waiting* lease. Waiting leases are served first come,
first served: a request (waiting or new) is blocked by a conflicting active lease, and also by a conflicting
request that has waited longer. A waiter proves it is alive by polling; one that stops polling for
``WAITER_HEARTBEAT`` is cancelled so that a killed process cannot hold the queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from semlease.domain import leases as L
from semlease.domain import policy as P
from semlease.domain.leases import Claim, Lease, Overlap, lease_label
from semlease.domain.policy import Policy
from semlease.domain.store import LeaseStore, NewLease, StoreTransaction
from semlease.errors import Refused, SemleaseError
from semlease.services.scoping import LeasePlan, is_glob, scope_matcher

WAITER_HEARTBEAT = timedelta(seconds=20)


@dataclass(frozen=True)
class AcquireRequest:
    owner: str
    region: str
    intent: str
    mode: L.ModeChoice
    ttl: timedelta
    head: str | None = None
    repository: str | None = None  # semlease.adapters.git.repository_identity of the indexed tree


@dataclass(frozen=True)
class Decision:
    """The outcome of an acquire (or of one poll of a waiting request)."""

    granted: bool
    lease: Lease
    overlaps: tuple[Overlap, ...]
    waiting: bool = False
    superseded: tuple[int, ...] = ()
    expired: tuple[int, ...] = ()  # leases this decision found past their expiry and ended

    @property
    def blocking(self) -> tuple[Overlap, ...]:
        return tuple(o for o in self.overlaps if o.cls == P.CONFLICT)

    def to_json(self) -> dict:
        return {"granted": self.granted, "waiting": self.waiting, "lease": self.lease.to_json(),
                "overlaps": [o.to_json() for o in self.overlaps],
                "superseded": [lease_label(i) for i in self.superseded]}


@dataclass(frozen=True)
class Outcome:
    """What renew or release did: ``changed`` is False for a release that found nothing to do."""

    lease: Lease
    changed: bool
    message: str

    def to_json(self) -> dict:
        return {"changed": self.changed, "message": self.message, "lease": self.lease.to_json()}


@dataclass
class Coordinator:
    store: LeaseStore
    policy: Policy = field(default_factory=Policy.default)

    # ================================================================== acquire
    def acquire(self, request: AcquireRequest, plan: LeasePlan, *, wait: bool = False) -> Decision:
        _check_owner(request.owner)
        _check_intent(request.intent)
        if plan.mode != request.mode.mode:
            raise ValueError(f"a plan made for mode {plan.mode} cannot grant a {request.mode.mode} lease")
        new = NewLease(owner=request.owner, region=request.region, mode=request.mode.mode,
                       mode_inferred=request.mode.inferred, intent=request.intent, scope=plan.scope,
                       head=request.head, ttl_seconds=request.ttl.total_seconds(),
                       footprint=plan.footprint.model_dump(), claims=plan.claims, repository=request.repository)
        with self.store.transaction() as tx:
            now = tx.now()
            expired = self._expire_due(tx, now)
            lease_id = tx.add_lease(new, state=L.WAITING, requested_at=now, expires_at=now + WAITER_HEARTBEAT)
            tx.record(lease_id, "requested", request.owner, {
                "region": request.region, "mode": request.mode.mode, "mode_inferred": request.mode.inferred,
                "intent": request.intent, "head": request.head, "claims": len(plan.claims),
                "scope_paths": list(plan.scope.paths)})
            decision = self._decide(tx, lease_id, now, queue_if_blocked=wait)
        return Decision(decision.granted, decision.lease, decision.overlaps, decision.waiting,
                        decision.superseded, tuple(expired))

    def poll(self, lease_id: int) -> Decision:
        """Try once more to grant a waiting request; keeps it alive in the queue."""
        with self.store.transaction() as tx:
            now = tx.now()
            self._expire_due(tx, now)
            lease = self._get(tx, lease_id)
            if lease.state != L.WAITING:
                return Decision(granted=lease.state == L.ACTIVE, lease=lease, overlaps=())
            tx.update_lease(lease_id, expires_at=now + WAITER_HEARTBEAT)
            return self._decide(tx, lease_id, now, queue_if_blocked=True)

    def give_up(self, lease_id: int, reason: str, *, timed_out: bool) -> Lease:
        """End a waiting request: refused when its wait ran out, cancelled when interrupted."""
        with self.store.transaction() as tx:
            lease = self._get(tx, lease_id)
            if lease.state != L.WAITING:
                return lease
            now = tx.now()
            state = L.REFUSED if timed_out else L.CANCELLED
            tx.update_lease(lease_id, state=state, ended_at=now, clear_expiry=True)
            tx.record(lease_id, "refused" if timed_out else "cancelled", lease.owner, {"reason": reason})
            return self._get(tx, lease_id)

    def wait_for_grant(self, request: AcquireRequest, plan: LeasePlan, wait: timedelta, *,
                       sleep: Callable[[float], None] = time.sleep,
                       monotonic: Callable[[], float] = time.monotonic,
                       on_queued: Callable[[Decision], None] | None = None) -> Decision:
        """Acquire, queueing behind conflicts for at most ``wait``; a refusal when the wait runs out."""
        deadline = monotonic() + wait.total_seconds()
        decision = self.acquire(request, plan, wait=True)
        if not decision.waiting:
            return decision
        if on_queued is not None:
            on_queued(decision)
        delay = 0.05
        try:
            while True:
                left = deadline - monotonic()
                if left <= 0:
                    lease = self.give_up(decision.lease.id, f"the wait of {L.format_duration(wait)} ran out",
                                         timed_out=True)
                    if lease.state == L.ACTIVE:  # granted by a poll racing the deadline
                        return Decision(True, lease, decision.overlaps)
                    return Decision(False, lease, decision.overlaps)
                sleep(min(delay, left))
                delay = min(delay * 2, 1.0)
                decision = self.poll(decision.lease.id)
                if not decision.waiting:
                    return decision
        except BaseException:
            self.give_up(decision.lease.id, "the waiting process stopped", timed_out=False)
            raise

    # ================================================================== renew / release
    def renew(self, lease_id: int, owner: str, ttl: timedelta | None = None) -> Outcome:
        with self.store.transaction() as tx:
            now = tx.now()
            self._expire_due(tx, now)
            lease = self._get(tx, lease_id)
            _check_holder(lease, owner, "renew")
            if lease.state != L.ACTIVE:
                raise Refused(f"{lease.label} cannot be renewed: it is {_ended(lease)}")
            length = ttl or timedelta(seconds=lease.ttl_seconds)
            expires = now + length
            tx.update_lease(lease_id, expires_at=expires)
            tx.record(lease_id, "renewed", owner, {"expires_at": L.iso(expires), "previous": L.iso(lease.expires_at),
                                                   "ttl_seconds": length.total_seconds()})
            renewed = self._get(tx, lease_id)
        return Outcome(renewed, True, f"renewed {lease.label} until {L.iso(expires)}")

    def release(self, lease_id: int, owner: str) -> Outcome:
        with self.store.transaction() as tx:
            now = tx.now()
            self._expire_due(tx, now)
            lease = self._get(tx, lease_id)
            _check_holder(lease, owner, "release")
            if lease.state == L.ACTIVE:
                tx.update_lease(lease_id, state=L.RELEASED, ended_at=now)
                tx.record(lease_id, "released", owner, {"token": lease.token})
                return Outcome(self._get(tx, lease_id), True, f"released {lease.label} ({lease.region})")
            if lease.state == L.WAITING:
                tx.update_lease(lease_id, state=L.CANCELLED, ended_at=now, clear_expiry=True)
                tx.record(lease_id, "cancelled", owner, {"reason": "released while waiting"})
                return Outcome(self._get(tx, lease_id), True, f"withdrew {lease.label} from the queue")
            return Outcome(lease, False, f"nothing to do: {lease.label} is already {_ended(lease)}")

    # ================================================================== reading
    def leases(self, *, include_ended: bool = False) -> list[Lease]:
        """Live leases (active and waiting) as of the store's clock; with ``include_ended`` every lease."""
        with self.store.transaction() as tx:  # a write: what is due is expired (and recorded) first
            self._expire_due(tx, tx.now())
            return tx.leases(None if include_ended else L.LIVE_STATES)

    def show(self, lease_id: int) -> tuple[Lease, list, list[Claim]]:
        with self.store.transaction() as tx:
            self._expire_due(tx, tx.now())
            lease = self._get(tx, lease_id)
            return lease, tx.history(lease_id), tx.claims(lease_id)

    def waiting_for(self, lease_id: int) -> list[Overlap]:
        """What a waiting request is queued behind."""
        with self.store.transaction(write=False) as tx:
            lease = self._get(tx, lease_id)
            return [o for o in self._overlaps(tx, lease, tx.now()) if o.cls == P.CONFLICT]

    def history(self, lease_id: int | None = None) -> list:
        with self.store.transaction(write=False) as tx:
            return tx.history(lease_id)

    # ================================================================== the decision
    def _decide(self, tx: StoreTransaction, lease_id: int, now: datetime, *, queue_if_blocked: bool) -> Decision:
        lease = self._get(tx, lease_id, footprint=False)
        overlaps = self._overlaps(tx, lease, now)
        blocking = [o for o in overlaps if o.cls == P.CONFLICT]
        if blocking:
            detail = {"blocked_by": [lease_label(o.lease_id) for o in blocking],
                      "overlaps": [o.to_json() for o in overlaps]}
            if queue_if_blocked:
                if lease.state == L.WAITING and not tx.history(lease_id)[-1].kind == "queued":
                    tx.record(lease_id, "queued", lease.owner, detail)
                return Decision(False, self._get(tx, lease_id), tuple(overlaps), waiting=True)
            tx.update_lease(lease_id, state=L.REFUSED, ended_at=now, clear_expiry=True)
            tx.record(lease_id, "refused", lease.owner, detail)
            return Decision(False, self._get(tx, lease_id), tuple(overlaps))
        token = tx.next_token()
        expires = now + timedelta(seconds=lease.ttl_seconds)
        tx.update_lease(lease_id, state=L.ACTIVE, token=token, acquired_at=now, expires_at=expires)
        superseded = []
        for old in tx.leases((L.ACTIVE,), owner=lease.owner, region=lease.region, footprints=False):
            if old.id != lease_id:
                tx.update_lease(old.id, state=L.SUPERSEDED, ended_at=now)
                tx.record(old.id, "superseded", lease.owner, {"by": lease_label(lease_id), "token": old.token})
                superseded.append(old.id)
        tx.record(lease_id, "granted", lease.owner, {
            "token": token, "expires_at": L.iso(expires), "mode": lease.mode,
            "overlaps": [o.to_json() for o in overlaps], "superseded": [lease_label(i) for i in superseded]})
        return Decision(True, self._get(tx, lease_id), tuple(overlaps), superseded=tuple(superseded))

    def _overlaps(self, tx: StoreTransaction, lease: Lease, now: datetime) -> list[Overlap]:
        """Every live lease this one shares nodes with: active ones, and waiting ones queued before it."""
        pairs: dict[int, list[tuple[Claim, Claim]]] = {}
        for other_id, mine, theirs in tx.shared_claims(lease.id, L.LIVE_STATES):
            # A node both sides only rely on is no overlap: neither changes it (two users of one helper).
            if mine.action != P.RELY or theirs.action != P.RELY:
                pairs.setdefault(other_id, []).append((mine, theirs))
        # --scope paths only ever meet leases that have some: load those, then every lease met so far
        scoped = {o.id: o for o in tx.leases(L.LIVE_STATES, with_scope_paths=True, footprints=False)
                  if o.id != lease.id}
        self._pattern_overlaps(tx, lease, scoped, pairs)
        others = {o.id: o for o in tx.leases(L.LIVE_STATES, ids=set(pairs), footprints=False)}
        out = []
        for other_id, shared in sorted(pairs.items()):
            other = others.get(other_id)
            if other is None or (other.state == L.WAITING and other.id > lease.id):
                continue  # a request that came later never blocks an earlier one
            out.append(self._classify(lease, other, shared))
        return out

    def _pattern_overlaps(self, tx: StoreTransaction, lease: Lease, others: dict[int, Lease],
                          pairs: dict[int, list[tuple[Claim, Claim]]]) -> None:
        """``--scope`` paths and globs, as given: they also cover files made after they were expanded."""
        strongest: dict[str, Claim] = {}  # my claim per path, the strongest action
        for claim in tx.claims(lease.id):
            old = strongest.get(claim.path)
            if old is None or P.stronger(claim.action, old.action) == claim.action:
                strongest[claim.path] = claim
        for other in others.values():
            if not other.scope.paths and not lease.scope.paths:
                continue
            theirs = P.write(other.mode)
            found: list[tuple[Claim, Claim]] = []
            if other.scope.paths:  # their globs over my paths
                for path in scope_matcher(other.scope.paths).match_files(strongest):
                    found.append((strongest[path], _path_claim(path, theirs)))
            if lease.scope.paths:  # my globs over their literal paths, and the very same glob on both sides
                literals = [p for p in other.scope.paths if not is_glob(p)]
                same = set(lease.scope.paths) & set(other.scope.paths)
                for path in sorted(set(scope_matcher(lease.scope.paths).match_files(literals)) | same):
                    found.append((_path_claim(path, P.write(lease.mode)), _path_claim(path, theirs)))
            found = [(m, t) for m, t in found if m.action != P.RELY or t.action != P.RELY]
            if found:
                pairs.setdefault(other.id, []).extend(found)

    def _classify(self, lease: Lease, other: Lease, shared: list[tuple[Claim, Claim]]) -> Overlap:
        severity: dict[str, int] = {}  # node -> its worst class, so the nodes that decide come first
        for m, t in shared:
            node = t.node if m.whole_file and not t.whole_file else m.node
            rank = P.CLASSES.index(self.policy.classify(m.action, t.action))
            severity[node] = max(severity.get(node, 0), rank)
        nodes = sorted(severity, key=lambda n: (-severity[n], n))
        if other.owner == lease.owner:
            return _overlap(other, P.COMPATIBLE, nodes, f"also held by {other.owner!r} (the same owner)")
        worst, example = P.COMPATIBLE, shared[0]
        for pair in shared:
            cls = self.policy.classify(pair[0].action, pair[1].action)
            if P.worse(cls, worst) == cls and cls != worst:
                worst, example = cls, pair
        mine, theirs = example
        node = theirs.node if mine.whole_file and not theirs.whole_file else mine.node
        queued = " (queued before you)" if other.state == L.WAITING else ""
        reason = (f"{worst}: on {node} this lease {P.describe(mine.action)} ({mine.action}) and "
                  f"{other.label}{queued} held by {other.owner!r} {P.describe(theirs.action)} ({theirs.action})")
        if len(nodes) > 1:
            reason += f"; {len(nodes)} shared nodes"
        return _overlap(other, worst, nodes, reason)

    def _expire_due(self, tx: StoreTransaction, now: datetime) -> list[int]:
        return expire_due(tx, now)

    @staticmethod
    def _get(tx: StoreTransaction, lease_id: int, *, footprint: bool = True) -> Lease:
        found = tx.leases(ids=(lease_id,), footprints=footprint)
        lease = found[0] if found else None
        if lease is None:
            raise SemleaseError(f"no lease {lease_label(lease_id)} in this store")
        return lease


def expire_due(tx: StoreTransaction, now: datetime) -> list[int]:
    """End what is past its expiry by the store's clock: active leases expire, silent waiters are cancelled."""
    ended = []
    for lease in tx.due(now):
        if lease.state == L.ACTIVE:
            tx.update_lease(lease.id, state=L.EXPIRED, ended_at=lease.expires_at)
            tx.record(lease.id, "expired", lease.owner, {"expires_at": L.iso(lease.expires_at),
                                                         "token": lease.token})
        else:  # a waiter that stopped polling
            tx.update_lease(lease.id, state=L.CANCELLED, ended_at=now, clear_expiry=True)
            tx.record(lease.id, "cancelled", lease.owner, {"reason": "the waiting process stopped polling"})
        ended.append(lease.id)
    return ended


def _path_claim(path: str, action: str) -> Claim:
    return Claim(node=path, path=path, action=action, whole_file=True)


def _overlap(other: Lease, cls: str, nodes: Collection[str], reason: str) -> Overlap:
    return Overlap(lease_id=other.id, owner=other.owner, region=other.region, mode=other.mode, state=other.state,
                   expires_at=other.expires_at, cls=cls, shared=tuple(nodes), reason=reason)


def _check_owner(owner: str) -> None:
    if not owner or not owner.strip():
        raise SemleaseError("--owner must name who holds the lease (e.g. --owner worker-17)")
    if len(owner) > 200 or any(ord(c) < 32 for c in owner):
        raise SemleaseError("--owner must be one line of at most 200 characters")


def _check_intent(intent: str) -> None:
    if not intent.strip():  # what others are told when they meet the lease, and what infers its mode
        raise SemleaseError("--intent must say what the work is (e.g. --intent 'fix rounding in totals')")


def _check_holder(lease: Lease, owner: str, doing: str) -> None:
    if lease.owner != owner:  # compared exactly as given: 'Agent-A' is not 'agent-a'
        raise Refused(f"cannot {doing} {lease.label}: it is held by {lease.owner!r}, not by {owner!r}")


def _ended(lease: Lease) -> str:
    when = L.iso(lease.ended_at) if lease.ended_at else None
    return lease.state + (f" since {when}" if when else "")
