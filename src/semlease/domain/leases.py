"""Leases as values: what an agent holds, what it asked for, and how two leases overlap.

A lease's *claims* are the graph nodes it covers, each with the action the lease takes on it (see
:mod:`semlease.domain.policy`). Overlap is found by intersecting claims, never by comparing names.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from semlease.domain import policy as P
from semlease.errors import SemleaseError

# ---------------------------------------------------------------------------------------------- states
WAITING = "waiting"  # queued behind conflicting leases (acquire --wait)
ACTIVE = "active"
RELEASED = "released"
EXPIRED = "expired"
SUPERSEDED = "superseded"  # its owner acquired the same region again
REFUSED = "refused"  # a conflict refused it (or its wait ran out)
CANCELLED = "cancelled"  # a waiter that gave up: interrupted, or its process stopped polling
STATES = (WAITING, ACTIVE, RELEASED, EXPIRED, SUPERSEDED, REFUSED, CANCELLED)
LIVE_STATES = (WAITING, ACTIVE)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, to the millisecond: ``2026-12-03T18:40:00.000Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------- lease ids
def lease_label(lease_id: int) -> str:
    return f"L{lease_id}"


def parse_lease_id(text: str) -> int:
    """``L17``, ``l17`` or ``17``."""
    raw = text.strip()
    digits = raw[1:] if raw[:1] in ("L", "l") else raw
    if not digits.isdigit() or int(digits) <= 0:
        raise SemleaseError(f"not a lease id: {text!r} (expected e.g. L17)")
    if int(digits) > MAX_ID:
        raise SemleaseError(f"no lease {text.strip()} in any store: lease ids are at most {MAX_ID}")
    return int(digits)


MAX_ID = 2**63 - 1  # ids and tokens are SQL integers


# ---------------------------------------------------------------------------------------------- durations
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_DURATION = timedelta(days=365)


def parse_duration(text: str, what: str = "duration") -> timedelta:
    """``30m``, ``1h30m``, ``90s``, ``2d``, or a number of seconds; must be positive and under a year."""
    raw = text.strip().replace(" ", "")
    seconds: float | None = None
    if re.fullmatch(r"\d+(\.\d+)?", raw):
        seconds = float(raw)
    elif raw and re.fullmatch(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+", raw, re.IGNORECASE):
        seconds = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in _DURATION_PART.findall(raw))
    if seconds is None:
        raise SemleaseError(f"{what} {text!r} is not a duration: expected e.g. 30m, 1h30m, 90s, 2d")
    if seconds <= 0:
        raise SemleaseError(f"{what} {text!r} must be longer than zero")
    if seconds > MAX_DURATION.total_seconds():
        raise SemleaseError(f"{what} {text!r} is longer than a year")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    total = int(round(delta.total_seconds()))
    if total < 0:
        return "-" + format_duration(-delta)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{seconds}s" if seconds else ""]
    return "".join(parts) or "0s"


# ---------------------------------------------------------------------------------------------- modes
# First match wins, so a rename wording beats a test wording ("rename the tests' helper" renames).
_MODE_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (P.RENAME, re.compile(r"\b(renam\w*|mov(e|es|ed|ing)|relocat\w*|delet\w*|split (it )?into)\b")),
    (P.CONTRACT, re.compile(r"\b(signatures?|return types?|(parameters?|arguments?|fields?|columns?)\b"
                            r"|schemas?|contracts?|public api|type of)")),
    (P.TEST, re.compile(r"\b(tests?|testing|coverage|test cases?)\b")),
    (P.OBSERVE, re.compile(r"\b(benchmark\w*|document\w*|docs?|read(ing)?|review\w*|profil\w*|measur\w*"
                           r"|investigat\w*|explor\w*|understand\w*)\b")),
    (P.EXTEND, re.compile(r"\b(add|new|more)\b.*\b(callers?|call sites?|uses? of)\b|\bcall (it|this) from\b")),
)


class ModeChoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    mode: str
    inferred: bool
    cue: str | None = None  # the words of the intent that decided an inferred mode

    def __str__(self) -> str:
        if not self.inferred:
            return self.mode
        why = f"from {self.cue!r}" if self.cue else "no cue in the intent"
        return f"{self.mode} (inferred, {why})"


def choose_mode(mode: str | None, intent: str) -> ModeChoice:
    if mode is not None:
        wanted = mode.strip().lower()
        if wanted not in P.MODES:
            raise SemleaseError(f"unknown mode {mode!r}: expected one of {', '.join(P.MODES)}")
        return ModeChoice(mode=wanted, inferred=False)
    text = intent.lower()
    for candidate, cue in _MODE_CUES:
        found = cue.search(text)
        if found:
            return ModeChoice(mode=candidate, inferred=True, cue=found.group(0))
    return ModeChoice(mode=P.IMPLEMENT, inferred=True)


# ---------------------------------------------------------------------------------------------- claims
class Claim(BaseModel):
    """One node a lease covers. ``whole_file`` claims every node of ``path`` (a file region, a --scope)."""

    model_config = ConfigDict(frozen=True)

    node: str
    path: str
    action: str
    whole_file: bool = False

    def __str__(self) -> str:
        return f"{self.node} ({self.action}{', whole file' if self.whole_file else ''})"


def claims_from_footprint(footprint: dict, mode: str) -> list[Claim]:
    """A lease's claims from its stored footprint alone (without the graph, so without class members)."""
    roles = footprint.get("footprint", {})
    found: dict[str, Claim] = {}

    def add(entry: dict, action: str, whole_file: bool = False) -> None:
        old = found.get(entry["id"])
        if old is not None:
            action = P.stronger(old.action, action)
            whole_file = whole_file or old.whole_file
        found[entry["id"]] = Claim(node=entry["id"], path=entry["path"], action=action, whole_file=whole_file)

    for role in ("definition", "contract"):
        for entry in roles.get(role, ()):
            add(entry, P.write(mode), whole_file=role == "definition" and entry.get("kind") == "file")
    for role in ("tests", "fixtures"):
        for entry in roles.get(role, ()):
            add(entry, P.edit_test(mode))
    for role in ("dependencies", "dependents"):
        for entry in roles.get(role, ()):
            add(entry, P.RELY)
    return list(found.values())


class Scope(BaseModel):
    model_config = ConfigDict(frozen=True)

    nodes: tuple[str, ...] = ()  # what the holder may edit: definition, contract, members, tests, fixtures
    paths: tuple[str, ...] = ()  # extra paths and globs given with --scope, as given


class Lease(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    owner: str
    region: str
    mode: str
    mode_inferred: bool = False
    intent: str
    scope: Scope
    token: int | None  # given at grant; None while waiting or when refused
    head: str | None
    requested_at: datetime
    acquired_at: datetime | None
    expires_at: datetime | None
    ttl_seconds: float
    state: str
    ended_at: datetime | None = None
    footprint: dict = Field(default_factory=dict)  # the Footprint it was granted on, as JSON
    # Which repository the lease is on (see semlease.adapters.git.repository_identity); None for leases
    # stored before schema 4.
    repository: str | None = None

    @property
    def label(self) -> str:
        return lease_label(self.id)

    def to_json(self, *, with_footprint: bool = True) -> dict:
        out = {
            "id": self.label, "owner": self.owner, "region": self.region, "mode": self.mode,
            "mode_inferred": self.mode_inferred, "intent": self.intent,
            "scope": {"nodes": list(self.scope.nodes), "paths": list(self.scope.paths)},
            "token": self.token, "head": self.head, "requested_at": iso(self.requested_at),
            "acquired_at": iso(self.acquired_at), "expires_at": iso(self.expires_at),
            "ended_at": iso(self.ended_at), "ttl_seconds": self.ttl_seconds, "state": self.state,
            "repository": self.repository,
        }
        if with_footprint:
            out["footprint"] = self.footprint
        return out

    def __str__(self) -> str:
        token = f" token {self.token}" if self.token is not None else ""
        return f"{self.label} {self.owner} {self.mode} {self.region!r} [{self.state}{token}]"


class Overlap(BaseModel):
    """How a requested lease meets one other live lease on the nodes they share."""

    model_config = ConfigDict(frozen=True)

    lease_id: int
    owner: str
    region: str
    mode: str
    state: str  # of the other lease: active, or waiting (queued before the request)
    expires_at: datetime | None
    cls: str
    shared: tuple[str, ...]
    reason: str

    def to_json(self) -> dict:
        return {"lease_id": lease_label(self.lease_id), "owner": self.owner, "region": self.region,
                "mode": self.mode, "state": self.state, "expires_at": iso(self.expires_at), "class": self.cls,
                "shared": list(self.shared), "reason": self.reason}


class Event(BaseModel):
    """One line of the append-only history."""

    model_config = ConfigDict(frozen=True)

    seq: int
    at: datetime
    lease_id: int | None
    kind: str  # requested, granted, refused, queued, renewed, released, expired, superseded, cancelled
    owner: str | None
    detail: dict = Field(default_factory=dict)

    def to_json(self) -> dict:
        return {"seq": self.seq, "at": iso(self.at),
                "lease_id": lease_label(self.lease_id) if self.lease_id is not None else None,
                "kind": self.kind, "owner": self.owner, "detail": self.detail}


class Admission(BaseModel):
    """One recorded admission decision on a patch produced under a lease (never rewritten).

    ``touched`` holds the graph ids the patch touched (old and new ids of renamed or moved symbols, and a
    file's id for a change outside any definition): a later patch is stale against this one when this
    one was applied under a larger token and touched a node of the later patch's lease. ``after`` holds
    each touched node's text digest after the patch, so a later patch whose base already holds that text
    is known to have been made on top of this one.
    """

    model_config = ConfigDict(frozen=True)

    id: int
    lease_id: int
    token: int
    at: datetime
    decision: str  # apply | rebase | reject
    reasons: tuple[str, ...] = ()
    evidence: dict = Field(default_factory=dict)  # key -> {"value", "ok", "source", ...}
    patch: dict = Field(default_factory=dict)  # the patch footprint, as JSON
    touched: tuple[str, ...] = ()
    after: dict[str, str | None] = Field(default_factory=dict)  # node -> digest of its text after the patch
    stale_by: tuple[int, ...] = ()  # admissions that made this patch stale

    @property
    def label(self) -> str:
        return f"A{self.id}"

    def to_json(self, *, with_patch: bool = True) -> dict:
        out = {"id": self.label, "lease_id": lease_label(self.lease_id), "token": self.token, "at": iso(self.at),
               "decision": self.decision, "reasons": list(self.reasons), "evidence": self.evidence,
               "touched": list(self.touched), "stale_by": [f"A{i}" for i in self.stale_by]}
        if with_patch:
            out["patch"] = self.patch
        return out

    def __str__(self) -> str:
        return f"{self.label} {lease_label(self.lease_id)} token {self.token}: {self.decision}"
