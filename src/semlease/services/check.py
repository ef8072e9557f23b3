"""The CI check: does a patch stay inside its lease, in time, and within what the lease's mode allows?

A touched symbol is *inside* the lease when the lease claims it (its id, a definition holding it, or its
whole file is in the lease's scope), when a ``--scope`` path or glob covers its file, or, for a definition
the patch adds and for a file's own lines (imports), when its file holds something the lease claims: new
code beside what one leases belongs to the lease. Everything else is outside, with who holds it.

What the mode allows (a lease's mode is its promise):

| mode      | may change on what it claims                            | public contracts |
|-----------|---------------------------------------------------------|------------------|
| observe   | nothing (only files given with ``--scope``)             | no change        |
| test      | test code: tests, fixtures, test helpers                | no change        |
| extend    | test code and bodies                                    | no change        |
| implement | test code and bodies                                    | no change        |
| contract  | test code, bodies, signatures, fields, bases            | may change       |
| rename    | anything, including renaming, moving, deleting          | may change       |

"Public contracts" covers every public symbol the patch touches inside the lease: a changed signature or
field needs a ``contract`` or ``rename`` lease; deleting, renaming or moving a public symbol needs
``rename``. A contract that cannot be compared (a version of its file does not parse) fails where the mode
needs it unchanged: nothing is taken on trust.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from semlease.adapters import git
from semlease.adapters.config import Config
from semlease.adapters.index_store import IndexStore
from semlease.adapters.patch_source import PatchInput
from semlease.domain import leases as L
from semlease.domain import patch as P
from semlease.domain import policy as M
from semlease.domain.leases import Claim, Lease, Scope
from semlease.domain.patch import FileTouch, PatchFootprint, TouchedSymbol
from semlease.domain.regions import Region
from semlease.domain.store import LeaseStore
from semlease.errors import SemleaseError
from semlease.services.indexer import build_index
from semlease.services.resolve import Resolver
from semlease.services.scoping import RegionResolver, repository_files, scope_matcher

# Rules, with the ids SARIF and GitHub annotations show.
OUTSIDE = "outside-lease"
CONTRACT = "contract-change"
MODE = "mode"
NOT_ACTIVE = "lease-not-active"
UNKNOWN_CONTRACT = "contract-unknown"
RULES = {
    OUTSIDE: ("SL001", "The patch changes code outside its lease"),
    CONTRACT: ("SL002", "The patch changes a public contract the lease's mode promised to keep"),
    MODE: ("SL003", "The patch changes code in a way the lease's mode does not allow"),
    NOT_ACTIVE: ("SL004", "The work was not done while the lease was active"),
    UNKNOWN_CONTRACT: ("SL005", "A public contract could not be compared"),
}

# What each mode may do on the nodes it claims (see the table above).
TEST_CODE, BODY, SIGNATURE, RENAME = "test code", "body", "contract", "rename"
_MAY_CHANGE = {
    M.OBSERVE: frozenset(),
    M.TEST: frozenset({TEST_CODE}),
    M.EXTEND: frozenset({TEST_CODE, BODY}),
    M.IMPLEMENT: frozenset({TEST_CODE, BODY}),
    M.CONTRACT: frozenset({TEST_CODE, BODY, SIGNATURE}),
    M.RENAME: frozenset({TEST_CODE, BODY, SIGNATURE, RENAME}),
}
CLOCK_SKEW = timedelta(minutes=2)  # commit times come from the committer's clock, not the store's

Holders = Callable[[Collection[str], Collection[str]], list[tuple[str, Lease, Claim]]]


class Holder(BaseModel):
    model_config = ConfigDict(frozen=True)

    lease_id: str
    owner: str
    mode: str
    region: str

    def __str__(self) -> str:
        return f"{self.lease_id} {self.owner!r} {self.mode} {self.region!r}"


class Finding(BaseModel):
    """One reason a patch fails its check, with where it is."""

    model_config = ConfigDict(frozen=True)

    rule: str
    message: str
    path: str | None = None
    line: int | None = None
    end_line: int | None = None
    symbol: str | None = None
    holders: tuple[Holder, ...] = ()

    @property
    def rule_id(self) -> str:
        return RULES[self.rule][0]

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: " if self.path and self.line else f"{self.path}: " if self.path else ""
        return f"{where}{self.message}"


class Inside(BaseModel):
    """A touched node inside the lease, and why."""

    model_config = ConfigDict(frozen=True)

    node: str
    change: str
    why: str  # "claimed", "--scope PATTERN", "beside what the lease claims"


class CheckReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    passed: bool
    lease: str | None  # the lease's label; None for a check against a region
    owner: str | None
    region: str
    mode: str
    patch: PatchFootprint
    inside: tuple[Inside, ...] = ()
    findings: tuple[Finding, ...] = ()

    def rules_failed(self) -> set[str]:
        return {f.rule for f in self.findings}


@dataclass(frozen=True)
class CheckTarget:
    """What the patch is checked against: a lease, or a region and mode with no coordinator at hand."""

    region: str
    mode: str
    scope: Scope
    lease: Lease | None = None

    @classmethod
    def of_lease(cls, lease: Lease) -> CheckTarget:
        return cls(region=lease.region, mode=lease.mode, scope=lease.scope, lease=lease)


def check_patch(patch: PatchFootprint, target: CheckTarget, *, now: datetime,
                work_times: list[tuple[str, datetime]] | None = None, holders: Holders | None = None,
                clock_skew: timedelta = CLOCK_SKEW) -> CheckReport:
    """``work_times`` are ``(commit, time)`` of the commits that made the patch; None when the work is what
    is on disk now (a work tree, a diff file): then the lease must be active at ``now``."""
    scope = _ScopeView(target.scope)
    # A claimed symbol moved into another file (a new one, say) takes the lease along: that file now holds
    # something the lease claims, and what is added beside it belongs to the lease.
    scope.files |= {s.path for s in patch.symbols if s.old_id and scope.covers_symbol(s) == "claimed"}
    findings: list[Finding] = []
    inside: list[Inside] = []
    outside: list[tuple[str, str, Finding]] = []  # (node, path, finding) waiting for their holders
    allowed = _MAY_CHANGE[target.mode]
    for symbol in patch.symbols:
        why = scope.covers_symbol(symbol)
        if why is None:
            finding = Finding(rule=OUTSIDE, path=symbol.path, line=symbol.line, end_line=symbol.end_line,
                              symbol=symbol.id, message=f"{symbol.qualname} ({symbol.kind}, {symbol.change}) is "
                              f"outside {_subject(target)}")
            outside.append((symbol.id, symbol.path, finding))
            continue
        inside.append(Inside(node=symbol.id, change=symbol.change, why=why))
        findings += _mode_findings(symbol, target, allowed, claimed=why == "claimed")
    for touch in patch.files:
        if not touch.module_level:
            continue
        why = scope.covers_file(touch)
        if why is None:
            lines = touch.module_lines or touch.old_module_lines
            what = touch.status
            if touch.language and not touch.binary and lines and touch.status == "modified":
                what = f"lines {', '.join(map(str, lines[:5]))}{' ...' if len(lines) > 5 else ''} outside its " \
                       "definitions"
            finding = Finding(rule=OUTSIDE, path=touch.path, line=touch.line if touch.language else None,
                              symbol=touch.path, message=f"{touch.path} ({what}) is outside {_subject(target)}")
            outside.append((touch.path, touch.path, finding))
            continue
        inside.append(Inside(node=touch.path, change=touch.status, why=why))
        if why == "claimed" and not allowed and target.mode == M.OBSERVE and touch.language:
            findings.append(Finding(rule=MODE, path=touch.path, line=touch.line, symbol=touch.path,
                                    message=f"{touch.path}: an observe lease changes no code it claims"))
    exclude = target.lease.id if target.lease else None
    for node, path, finding in outside:
        found = []
        if holders is not None:
            seen = set()
            for _, lease, _claim in holders([node], [path]):
                if lease.id != exclude and lease.id not in seen:
                    seen.add(lease.id)
                    found.append(Holder(lease_id=lease.label, owner=lease.owner, mode=lease.mode,
                                        region=lease.region))
        if found:
            message = finding.message + f"; held by {', '.join(str(h) for h in found)}"
        elif holders is None:
            message = finding.message
        else:
            message = finding.message + "; nobody holds a lease on it" + (
                f" (a lease covers it with --scope {path})" if node == path else "")
        findings.append(finding.model_copy(update={"holders": tuple(found), "message": message}))
    if target.lease is not None:
        findings += _time_findings(target.lease, now, work_times, clock_skew)
    findings.sort(key=lambda f: (list(RULES).index(f.rule) if f.rule != NOT_ACTIVE else -1, f.path or "",
                                 f.line or 0))
    lease = target.lease
    return CheckReport(passed=not findings, lease=lease.label if lease else None, owner=lease.owner if lease else None,
                       region=target.region, mode=target.mode, patch=patch, inside=tuple(inside),
                       findings=tuple(findings))


def change_level(symbol: TouchedSymbol) -> str:
    """How deep a change goes: test code, a body, a contract, or a rename (delete, move)."""
    if symbol.test_code:
        return TEST_CODE
    if symbol.public and symbol.change in (P.DELETED, P.RENAMED, P.MOVED):
        return RENAME
    if symbol.public and symbol.change != P.ADDED and symbol.contract:
        return SIGNATURE
    return BODY


def _mode_findings(symbol: TouchedSymbol, target: CheckTarget, allowed: frozenset[str], *,
                   claimed: bool) -> list[Finding]:
    level = change_level(symbol)
    where = {"path": symbol.path, "line": symbol.line, "end_line": symbol.end_line, "symbol": symbol.id}
    mode = target.mode
    if level in (SIGNATURE, RENAME) and level not in allowed:
        if level == SIGNATURE:
            changes = "; ".join(str(d) for d in symbol.contract)
            text = f"{symbol.qualname}: its public contract changed under {_article(mode)} {mode} lease ({changes})"
        else:
            text = (f"{symbol.qualname}: a public {symbol.kind} is {symbol.change}"
                    + (f" (was {symbol.old_id})" if symbol.old_id else "")
                    + f" under {_article(mode)} {mode} lease; that needs a rename lease")
        return [Finding(rule=CONTRACT, message=text, **where)]
    if (symbol.public and symbol.change == P.MODIFIED and not symbol.contract_known
            and SIGNATURE not in allowed):
        return [Finding(rule=UNKNOWN_CONTRACT, message=f"{symbol.qualname}: {symbol.note}", **where)]
    if claimed and level not in allowed:
        if mode == M.OBSERVE:
            text = f"{symbol.qualname}: an observe lease changes no code it claims ({symbol.change})"
        else:
            text = f"{symbol.qualname}: a {mode} lease changes {' and '.join(sorted(allowed))} only; " \
                   f"this {'deletes' if symbol.change == P.DELETED else 'changes'} its {level}"
        return [Finding(rule=MODE, message=text, **where)]
    return []


def _time_findings(lease: Lease, now: datetime, work_times: list[tuple[str, datetime]] | None,
                   skew: timedelta) -> list[Finding]:
    if lease.acquired_at is None:
        return [Finding(rule=NOT_ACTIVE, message=f"{lease.label} was never granted (it is {lease.state})")]
    end, state = lease.ended_at, lease.state
    if end is None and lease.expires_at is not None and lease.expires_at <= now:
        end, state = lease.expires_at, L.EXPIRED  # past its expiry, though no decision has recorded it yet
    if work_times is None:
        if state == L.ACTIVE:
            return []
        since = f" since {L.iso(end)}" if end else ""
        return [Finding(rule=NOT_ACTIVE, message=f"{lease.label} is {state}{since}: work in a work tree or a "
                        "diff file is checked at the time of the check; check the commits instead "
                        "(--base REV --head REV), whose times show when the work was done")]
    out = []
    for commit, at in work_times:
        if at < lease.acquired_at - skew:
            out.append(Finding(rule=NOT_ACTIVE, message=f"commit {commit[:12]} ({L.iso(at)}) was made before "
                               f"{lease.label} was granted ({L.iso(lease.acquired_at)})"))
        elif end is not None and at > end + skew:
            out.append(Finding(rule=NOT_ACTIVE, message=f"commit {commit[:12]} ({L.iso(at)}) was made after "
                               f"{lease.label} ended ({state} at {L.iso(end)})"))
    return out


def _subject(target: CheckTarget) -> str:
    if target.lease is not None:
        return f"{target.lease.label} ({target.lease.owner!r}, {target.mode} {target.region!r})"
    return f"the region {target.region!r} ({target.mode})"


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


class _ScopeView:
    """Membership in a lease's scope: its nodes, the definitions that hold them, their files, --scope."""

    def __init__(self, scope: Scope) -> None:
        self.nodes = set(scope.nodes)
        self.patterns = scope.paths
        self.matcher = scope_matcher(scope.paths) if scope.paths else None
        self.files = {n.partition("::")[0] for n in self.nodes}  # files holding something claimed

    def _claimed(self, node: str, path: str | None) -> bool:
        """``node``, or what holds it, is claimed; or ``path``, the file it is in, whole."""
        if node in self.nodes or (path is not None and path in self.nodes):
            return True
        head, sep, qualname = node.partition("::")
        parts = qualname.split(".") if sep else []
        return any(f"{head}::{'.'.join(parts[:i])}" in self.nodes for i in range(1, len(parts)))

    def _pattern(self, path: str) -> str | None:
        if self.matcher is not None and self.matcher.match_file(path):
            return "--scope " + ", ".join(self.patterns)
        return None

    def covers_symbol(self, symbol: TouchedSymbol) -> str | None:
        node, path = (symbol.old_id, symbol.old_path) if symbol.old_id else (symbol.id, symbol.path)
        if self._claimed(node, path or symbol.path):
            return "claimed"
        # Renamed or moved: a lease granted after the move (on the work tree that holds it) claims the new id
        if symbol.old_id and self._claimed(symbol.id, None):
            return "claimed"
        found = self._pattern(symbol.path)
        if found and (not symbol.old_path or self._pattern(symbol.old_path)):
            return found
        if symbol.change == P.ADDED and symbol.path in self.files:
            return "beside what the lease claims"
        return None

    def covers_file(self, touch: FileTouch) -> str | None:
        if (touch.old_path if touch.status == "renamed" else touch.path) in self.nodes:
            return "claimed"
        found = self._pattern(touch.path)
        if found:
            return found
        if touch.language and not touch.binary and touch.status in ("added", "modified") \
                and touch.path in self.files:
            return "beside what the lease claims"
        return None


# ---------------------------------------------------------------------------------------------- use cases
def check_against_lease(store: LeaseStore, lease_id: int, patch: PatchFootprint, *,
                        work_times: list[tuple[str, datetime]] | None, repository: str | None = None) -> CheckReport:
    """The check of a patch against a stored lease, by the store's clock, naming who holds what is outside.
    A lease on another repository than ``repository`` is refused (bad input, not a failed check)."""
    with store.transaction(write=False) as tx:
        lease = tx.lease(lease_id)
        if lease is None:
            raise SemleaseError(f"no lease {L.lease_label(lease_id)} in this store")
        check_repository(lease, repository)
        return check_patch(patch, CheckTarget.of_lease(lease), now=tx.now(), work_times=work_times,
                           holders=lambda nodes, paths: tx.holders(nodes, paths, exclude=lease_id))


def region_target(root: Path, region: Region, mode: str, patch: PatchInput, config: Config) -> CheckTarget:
    """A region's scope as a lease taken where the patch starts would have it: resolved in the work tree
    when it holds the patch's old side, else in a temporary worktree of the patch's base commit (a
    renamed or deleted region exists only there)."""
    old_here = all(_on_disk(root, v.change.old_path) == v.old for v in patch.files if v.change.old_path)
    if old_here or patch.base is None:
        return _region_target_in(root, region, mode, config)
    with git.temporary_worktree(root, patch.base) as tree:
        return _region_target_in(tree, region, mode, config)


def _region_target_in(root: Path, region: Region, mode: str, config: Config) -> CheckTarget:
    report = build_index(root, with_counts=False)
    with IndexStore.open(Path(report.index_path)) as index:
        resolver = RegionResolver(Resolver(index.graph(), head=report.head), config)
        plan = resolver.plan(region, mode, (), repository_files(root, resolver.resolver.graph))
    return CheckTarget(region=region.text, mode=mode, scope=plan.scope)


def _on_disk(root: Path, path: str) -> bytes | None:
    try:
        return (root / path).read_bytes()
    except OSError:
        return None


def check_repository(lease: Lease, repository: str | None) -> None:
    if repository and lease.repository and lease.repository != repository:
        raise SemleaseError(f"{lease.label} is a lease on another repository ({lease.repository}); "
                            f"this one is {repository}")


def work_times_of(commits: list[tuple[str, int]]) -> list[tuple[str, datetime]]:
    return [(commit, datetime.fromtimestamp(seconds, UTC)) for commit, seconds in commits]
