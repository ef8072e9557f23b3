"""The lease store port: what the coordinator needs from a store, whatever holds it (SQLite, PostgreSQL).

Every implementation runs the same contract tests (tests/contract). The coordinator does all of one
decision inside one :meth:`LeaseStore.transaction`, which must be serialisable against every other write
transaction on the same store, across processes and hosts: that is what makes "two racing acquires, exactly
one wins" and monotonic fencing tokens hold.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from contextlib import AbstractContextManager
from datetime import datetime

from semlease.domain.leases import Admission, Claim, Event, Lease, Scope


class NewLease:
    """The fields of a lease row as first written (state waiting, no token yet)."""

    __slots__ = ("owner", "region", "mode", "mode_inferred", "intent", "scope", "head", "ttl_seconds",
                 "footprint", "claims", "repository")

    def __init__(self, *, owner: str, region: str, mode: str, mode_inferred: bool, intent: str, scope: Scope,
                 head: str | None, ttl_seconds: float, footprint: dict, claims: Collection[Claim],
                 repository: str | None = None) -> None:
        self.owner, self.region, self.mode, self.mode_inferred = owner, region, mode, mode_inferred
        self.intent, self.scope, self.head, self.ttl_seconds = intent, scope, head, ttl_seconds
        self.footprint, self.claims, self.repository = footprint, claims, repository


class NewAdmission:
    """The fields of an admission row as written (its id and time come from the store)."""

    __slots__ = ("lease_id", "token", "decision", "reasons", "evidence", "patch", "touched", "stale_by")

    def __init__(self, *, lease_id: int, token: int, decision: str, reasons: Collection[str], evidence: dict,
                 patch: dict, touched: Collection[tuple[str, str, str | None]], stale_by: Collection[int] = ()
                 ) -> None:
        self.lease_id, self.token, self.decision, self.reasons = lease_id, token, decision, tuple(reasons)
        self.evidence, self.patch, self.touched, self.stale_by = evidence, patch, tuple(touched), tuple(stale_by)


class StoreTransaction(ABC):
    """One transaction. Leaving the ``with`` block normally commits; an exception rolls everything back."""

    @abstractmethod
    def now(self) -> datetime:
        """The store's clock (UTC). Expiry is judged by it, never by the caller's."""

    @abstractmethod
    def next_token(self) -> int:
        """The next fencing token: larger than every token this store has ever issued."""

    @abstractmethod
    def add_lease(self, lease: NewLease, *, state: str, requested_at: datetime,
                  expires_at: datetime | None) -> int:
        """Write a lease row and its claims; return its id (ids grow: a smaller id was requested earlier)."""

    @abstractmethod
    def update_lease(self, lease_id: int, *, state: str | None = None, token: int | None = None,
                     acquired_at: datetime | None = None, expires_at: datetime | None = None,
                     ended_at: datetime | None = None, clear_expiry: bool = False) -> None:
        """Change the given fields (``None`` leaves a field as it is; ``clear_expiry`` empties expires_at)."""

    @abstractmethod
    def lease(self, lease_id: int) -> Lease | None: ...

    @abstractmethod
    def leases(self, states: Collection[str] | None = None, *, ids: Collection[int] | None = None,
               owner: str | None = None, region: str | None = None, with_scope_paths: bool = False,
               footprints: bool = True) -> list[Lease]:
        """Leases in those states (all when None), oldest first, narrowed to ``ids``, an ``owner`` and
        ``region``, or those with ``--scope`` paths. ``footprints=False`` leaves each ``footprint`` empty
        (a decision never needs it, and it is the bulk of a row)."""

    @abstractmethod
    def due(self, now: datetime) -> list[Lease]:
        """Live leases (active or waiting) whose ``expires_at`` is at or before ``now``."""

    @abstractmethod
    def shared_claims(self, lease_id: int, states: Collection[str]) -> list[tuple[int, Claim, Claim]]:
        """``(other lease id, claim of lease_id, claim of the other)`` for every pair of claims that meet:
        the same node, or a whole-file claim on the path of the other's node. Only other leases in
        ``states``."""

    @abstractmethod
    def claims(self, lease_id: int) -> list[Claim]: ...

    @abstractmethod
    def holders(self, nodes: Collection[str], paths: Collection[str], *,
                exclude: int | None = None) -> list[tuple[str, Lease, Claim]]:
        """Active leases that may edit any of ``nodes`` (a claim other than ``rely`` on the node) or any
        file of ``paths`` (a whole-file claim on it): ``(node or path met, lease, its claim)``, by lease id.
        ``exclude`` leaves one lease out."""

    @abstractmethod
    def token_holder(self, token: int) -> int | None:
        """The id of the lease that was granted ``token``; None when no lease ever was."""

    @abstractmethod
    def add_admission(self, admission: NewAdmission) -> Admission:
        """Record an admission decision and the nodes its patch touched: ``(node, path, after)``, where
        ``after`` is the digest of the node's text after the patch (None where the patch removed it)."""

    @abstractmethod
    def admissions(self, lease_id: int | None = None, *, ids: Collection[int] | None = None) -> list[Admission]:
        """Admissions in the order they were decided, narrowed to one lease or to ``ids``."""

    @abstractmethod
    def applied_meeting(self, lease_id: int) -> list[tuple[Admission, tuple[str, ...]]]:
        """Admissions decided ``apply`` whose patch touched a node of the lease's claims (the same node,
        or any node of a file the lease claims whole), with the nodes met; in the order decided."""

    @abstractmethod
    def record(self, lease_id: int | None, kind: str, owner: str | None, detail: dict) -> Event:
        """Append to the history (never rewritten)."""

    @abstractmethod
    def history(self, lease_id: int | None = None) -> list[Event]: ...


class LeaseStore(ABC):
    location: str  # for messages: a path or a URL without its password

    @abstractmethod
    def transaction(self, *, write: bool = True) -> AbstractContextManager[StoreTransaction]:
        """A transaction; a write transaction excludes every other write transaction until it ends."""

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> LeaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

