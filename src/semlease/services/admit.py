"""Admission: decide apply, rebase or reject for a patch produced under a lease, and record why.

A lease protects work in progress; it never admits output. A patch is admitted only with evidence, and only
if nothing admitted since its lease was granted makes it stale (fencing):

* **stale, same symbols:** a patch applied under a larger token touched a symbol this patch touches: the
  other worker's change wins and this one is rejected (the worker read head at token 7, another committed
  under 8, the worker comes back with 7).
* **stale, neighbours:** a patch applied since this lease was granted touched the lease's footprint (a caller,
  a test) but none of the symbols this patch touches, or touched them under a smaller token: the work
  stands but must be re-applied on the new head (``rebase``).
* **late work:** a lease that expired or was released may still submit; by default (``late_work =
  "admit-if-fresh"``) it is judged like any other, unless a lease granted since (a larger token) now holds
  something the patch touches. ``late_work = "reject"`` rejects it outright.
* **evidence:** what the lease's mode requires (configuration, with a sound default): ``scope`` (the patch
  stays inside the lease, computed), ``contract`` (public contracts unchanged, computed), ``tests`` (run
  with ``--run-tests``: exactly the tests of the patch's footprint; or supplied), and any key the caller
  supplies. Missing or failing evidence rejects, naming what is missing.

The evidence is gathered outside any transaction (tests take minutes); the decision re-reads the store in
one write transaction, so two admissions racing on one symbol are decided one after the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from semlease.adapters import git
from semlease.adapters.config import AdmissionConfig
from semlease.adapters.index_store import IndexStore
from semlease.adapters.patch_source import PatchInput
from semlease.adapters.test_runner import TestRun, run_selected
from semlease.domain import graph as G
from semlease.domain import leases as L
from semlease.domain import patch as P
from semlease.domain.leases import Admission, Lease, lease_label, parse_duration
from semlease.domain.patch import PatchFootprint
from semlease.domain.store import LeaseStore, NewAdmission
from semlease.errors import SemleaseError
from semlease.languages import LANGUAGES, language_for
from semlease.services import check as C
from semlease.services.check import CheckReport
from semlease.services.coordinator import expire_due
from semlease.services.indexer import build_index
from semlease.services.selection import Selection, select_tests

APPLY, REBASE, REJECT = "apply", "rebase", "reject"
SCOPE, CONTRACT, TESTS = "scope", "contract", "tests"
COMPUTED = (SCOPE, CONTRACT)
_PASSING = frozenset({"pass", "passed", "ok", "true", "yes", "green", "success", "1"})
_FAILING = frozenset({"fail", "failed", "false", "no", "red", "failure", "error", "0"})


class Evidence(BaseModel):
    """One piece of evidence: whether it holds, what it says, where it came from."""

    model_config = ConfigDict(frozen=True)

    key: str
    ok: bool
    value: str
    source: str  # computed | run | caller
    detail: dict = {}


class AdmissionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    decision: str
    reasons: tuple[str, ...]
    admission: Admission
    lease: Lease
    evidence: dict[str, Evidence]
    required: tuple[str, ...]
    missing: tuple[str, ...]
    check: CheckReport

    def to_json(self) -> dict:
        return {"decision": self.decision, "reasons": list(self.reasons), "admission": self.admission.label,
                "lease": self.lease.to_json(with_footprint=False), "token": self.admission.token,
                "required": list(self.required), "missing": list(self.missing),
                "evidence": {k: e.model_dump() for k, e in self.evidence.items()},
                "stale_by": [f"A{i}" for i in self.admission.stale_by],
                "findings": [f.model_dump() for f in self.check.findings],
                "patch": self.check.patch.model_dump(mode="json")}


def parse_evidence(pairs: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` arguments; the computed keys cannot be supplied, a key cannot be given twice."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SemleaseError(f"--evidence {pair!r} is not KEY=VALUE (e.g. --evidence review=alice)")
        if key in COMPUTED:
            raise SemleaseError(f"--evidence {key}=... cannot be supplied: semlease computes {key} from the patch")
        if key in found:
            raise SemleaseError(f"--evidence {key} is given twice")
        _check_value(key, value.strip())
        found[key] = value.strip()
    return found


def _check_value(key: str, value: str) -> None:
    if not value:
        raise SemleaseError(f"--evidence {key}= gives no value (e.g. --evidence {key}=pass)")


def supplied_evidence(key: str, value: str) -> Evidence:
    """Caller evidence: a passing or failing word decides; any other value (a URL, a name) is taken as given."""
    word = value.lower()
    return Evidence(key=key, ok=word not in _FAILING and word != "", value=value, source="caller")


def computed_evidence(report: CheckReport) -> dict[str, Evidence]:
    """``scope`` and ``contract`` from the check of the patch against its lease."""
    failed = report.findings
    scope_failures = [f for f in failed if f.rule in (C.OUTSIDE, C.MODE)]
    scope = Evidence(key=SCOPE, ok=not scope_failures, source="computed",
                     value="inside the lease" if not scope_failures else
                     f"{len(scope_failures)} change{'s' if len(scope_failures) != 1 else ''} outside what the lease "
                     "allows", detail={"findings": [str(f) for f in scope_failures]})
    changed = []
    unknown = []
    for symbol in report.patch.symbols:
        level = C.change_level(symbol)
        if level in (C.SIGNATURE, C.RENAME):
            what = "; ".join(str(d) for d in symbol.contract) if level == C.SIGNATURE else symbol.change
            changed.append(f"{symbol.id}: {what}")
        elif symbol.public and not symbol.contract_known:
            unknown.append(f"{symbol.id}: {symbol.note}")
    if changed:
        contract = Evidence(key=CONTRACT, ok=False, source="computed", value=f"changed: {'; '.join(changed)}",
                            detail={"changed": changed, "unknown": unknown})
    elif unknown:
        contract = Evidence(key=CONTRACT, ok=False, source="computed", value=f"unknown: {'; '.join(unknown)}",
                            detail={"changed": [], "unknown": unknown})
    else:
        contract = Evidence(key=CONTRACT, ok=True, source="computed", value="unchanged",
                            detail={"changed": [], "unknown": []})
    return {SCOPE: scope, CONTRACT: contract}


@dataclass
class Admitter:
    store: LeaseStore
    config: AdmissionConfig = field(default_factory=AdmissionConfig)

    def lease_for(self, lease_id: int, token: int, repository: str | None) -> Lease:
        """The lease a submission names, once its token and repository are checked (exit 2 otherwise)."""
        if token <= 0 or token > L.MAX_ID:
            raise SemleaseError(f"token {token} was never issued by this store (tokens are 1 to {L.MAX_ID})")
        with self.store.transaction(write=False) as tx:
            lease = tx.lease(lease_id)
            if lease is None:
                raise SemleaseError(f"no lease {lease_label(lease_id)} in this store")
            holder = tx.token_holder(token)
        if holder is None:
            raise SemleaseError(f"token {token} was never issued by this store")
        if holder != lease_id:
            own = (f"whose token is {lease.token}" if lease.token is not None
                   else f"which was never granted: it is {lease.state}")
            raise SemleaseError(f"token {token} was issued to {lease_label(holder)}, not {lease.label} ({own})")
        C.check_repository(lease, repository)
        return lease

    def decide(self, lease_id: int, token: int, report: CheckReport, evidence: Mapping[str, Evidence],
               base_holds: Callable[[str, str | None], bool] | None = None) -> AdmissionResult:
        """Fencing, late work and evidence, decided and recorded in one transaction. ``base_holds(node,
        digest)`` says whether the tree the patch was made on holds that node with that text: a patch made
        on top of an applied one (after a rebase) is not stale against it."""
        touched = report.patch.touched_after()
        mine = {node for node, _, _ in touched}
        with self.store.transaction() as tx:
            expire_due(tx, tx.now())
            lease = tx.lease(lease_id)
            if lease is None:
                raise SemleaseError(f"no lease {lease_label(lease_id)} in this store")
            rejects: list[str] = []
            rebases: list[str] = []
            stale_by: list[int] = []
            for admission, met in tx.applied_meeting(lease_id):
                if admission.lease_id == lease_id:
                    continue
                after_grant = lease.acquired_at is not None and admission.at >= lease.acquired_at
                if admission.token <= token and not after_grant:
                    continue  # decided before this lease existed: its head already had it
                same = sorted(mine & set(admission.touched))
                other = _describe(tx.lease(admission.lease_id), admission)
                on_top = base_holds is not None and all(base_holds(n, admission.after.get(n)) for n in met)
                if on_top and not (same and admission.token > token):
                    continue  # made on top of it: the rebase is done
                if same and admission.token > token:
                    rejects.append(f"stale: {other} changed {_few(same)}, which this patch changes too, under a "
                                   f"larger token than {token}")
                elif same:
                    rebases.append(f"{other} changed {_few(same)} since {lease.label} was granted: re-apply this "
                                   "patch on the new head")
                else:
                    rebases.append(f"{other} changed {_few(met)} of this lease's footprint since it was granted: "
                                   "re-apply this patch on the new head")
                stale_by.append(admission.id)
            if lease.state != L.ACTIVE:
                late = f"{lease.label} is {lease.state}" + (f" since {L.iso(lease.ended_at)}" if lease.ended_at else "")
                if self.config.late_work == "reject":
                    rejects.append(f"{late}, and late work is rejected (late_work = \"reject\")")
                else:
                    for met, holder, _claim in tx.holders(sorted(mine), sorted({p for _, p, _ in touched}),
                                                          exclude=lease_id):
                        if holder.token is not None and holder.token > token:
                            rejects.append(f"{late}: {holder.label} ({holder.owner!r}, token {holder.token}) holds "
                                           f"{met} now")
            required = self.config.required(lease.mode)
            missing = tuple(k for k in required if k not in evidence)
            if missing:
                rejects.append("missing evidence: " + ", ".join(missing) + (
                    " (run the tests with --run-tests, or give --evidence tests=pass)" if TESTS in missing else ""))
            for key in required:
                item = evidence.get(key)
                if item is not None and not item.ok:
                    rejects.append(f"evidence {key} fails: {item.value}")
            decision = REJECT if rejects else REBASE if rebases else APPLY
            reasons = rejects + rebases
            if lease.state != L.ACTIVE and decision != REJECT:
                reasons.append(f"late work: {lease.label} is {lease.state}, but nothing has touched its footprint "
                               "since and no newer lease holds what the patch touches (late_work = "
                               '"admit-if-fresh")')
            if decision == APPLY:
                reasons.append("evidence complete: " + ", ".join(f"{k} ({evidence[k].value})" for k in required)
                               if required else "no evidence is required for this mode")
            admission = tx.add_admission(NewAdmission(
                lease_id=lease_id, token=token, decision=decision, reasons=reasons,
                evidence={k: e.model_dump() for k, e in evidence.items()},
                patch=report.patch.model_dump(mode="json"), touched=touched, stale_by=stale_by))
            tx.record(lease_id, "admission", lease.owner, {
                "admission": admission.label, "decision": decision, "token": token, "reasons": reasons,
                "patch": report.patch.source})
        return AdmissionResult(decision=decision, reasons=tuple(reasons), admission=admission, lease=lease,
                               evidence=dict(evidence), required=required, missing=missing, check=report)


def _describe(lease: Lease | None, admission: Admission) -> str:
    who = f" ({lease.owner!r})" if lease is not None else ""
    return f"{admission.label} under {lease_label(admission.lease_id)}{who}, token {admission.token},"


def _few(nodes: Sequence[str] | set[str], limit: int = 3) -> str:
    ordered = sorted(nodes)
    return ", ".join(ordered[:limit]) + (f" (+{len(ordered) - limit})" if len(ordered) > limit else "")


# ---------------------------------------------------------------------------------------------- tests
_PASSED = re.compile(r"\b[1-9]\d* (?:passed|xpassed)\b")


class TestEvidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    selection: Selection
    run: dict | None  # TestRun.to_json(); None when no test was selected

    def evidence(self) -> Evidence:
        if self.run is None:
            return Evidence(key=TESTS, ok=False, source="run", value="no test exercises the patch",
                            detail={"selection": self.selection.model_dump()})
        passed = self.run["passed"]
        count = len(self.selection.tests)
        code = self.run["exit_code"]
        summary = self.run.get("summary")
        selected = f"{count} selected test{'s' if count != 1 else ''}"
        uncollected = self.run.get("not_collected") or []
        said = "in modules skipped at import" if self.run.get("set_aside") else "not collected"
        if passed and uncollected and len(set(uncollected)) >= count:
            # every selected test was set aside: nothing failed, and nothing was shown to pass either
            return Evidence(key=TESTS, ok=False, source="run",
                            value=f"{selected}: none ran ({len(uncollected)} {said})",
                            detail={"selection": self.selection.model_dump(), "run": self.run})
        if uncollected:  # set aside: their modules skipped themselves at import (an optional dependency missing)
            summary = ", ".join(filter(None, [summary, f"{len(uncollected)} {said}"]))
        if passed and summary is not None and not _PASSED.search(summary):
            # pytest exits 0 when every test it ran was skipped: that is no evidence that they pass
            return Evidence(key=TESTS, ok=False, source="run", value=f"{selected}: none passed ({summary})",
                            detail={"selection": self.selection.model_dump(), "run": self.run})
        if passed:
            value = f"{selected}: {summary or 'passed'}"
        elif code is None:
            value = f"{selected}: stopped at the deadline"
        else:
            value = f"{selected}: exit {code}" + (f" ({summary})" if summary else "")
        return Evidence(key=TESTS, ok=passed, source="run", value=value,
                        detail={"selection": self.selection.model_dump(), "run": self.run})


def run_patch_tests(root: Path, patch: PatchInput, footprint: PatchFootprint, config: AdmissionConfig
                    ) -> TestEvidence:
    """Select the tests of the patch in the patched tree, and run exactly those there."""
    with patched_tree(root, patch) as tree:
        after_report = build_index(tree, with_counts=False)
        with IndexStore.open(Path(after_report.index_path)) as after:
            files = sorted(n.path for n in after.graph().iter_nodes({G.FILE}))
            before_tree = _old_tree(root, patch, footprint)
            if before_tree is None:
                selection = select_tests(after.graph(), footprint, None)
            else:
                with before_tree as old_root:
                    old_report = build_index(old_root, with_counts=False)
                    with IndexStore.open(Path(old_report.index_path)) as before:
                        selection = select_tests(after.graph(), footprint, before.graph())
        if not selection.tests:
            return TestEvidence(selection=selection, run=None)
        ids = [_runner_id(t) for t in selection.tests]
        timeout = parse_duration(config.test_timeout, "test_timeout").total_seconds()
        run: TestRun = run_selected(config.test_command, ids, selection.tests, tree, timeout,
                                    _import_paths(tree, files))
    return TestEvidence(selection=selection, run=run.to_json())


def _import_paths(tree: Path, files: list[str]) -> list[Path]:
    """The tree's own import roots (``src`` in a src layout, then the top), so the tests import the
    patched code and not an installed copy of the project."""
    roots: list[str] = []
    for language in LANGUAGES:
        mine = [f for f in files if language_for(f) is language]
        roots += [r for r in language.roots(mine) if r not in roots]
    return [tree / r if r else tree for r in roots]


def _runner_id(node_id: str) -> str:
    language = language_for(node_id.partition("::")[0])
    return language.runner_test_id(node_id) if language else node_id


@contextmanager
def patched_tree(root: Path, patch: PatchInput) -> Iterator[Path]:
    """A folder holding the patched code: the work tree when it does, else a temporary worktree (the
    same sub-folder of it, when ``root`` is a sub-folder of its work tree)."""
    if patch.new_in_work_tree:
        yield root
        return
    if git.find_worktree_root(root) is None:
        raise SemleaseError(f"cannot run the tests: the patch is not applied in {root}, which is not a git "
                            "repository (apply it there, or run semlease in a clone)")
    prefix = git.prefix(root)
    if patch.head is not None:
        with git.temporary_worktree(root, patch.head) as tree:
            yield tree / prefix
        return
    with git.temporary_worktree(root, patch.base or "HEAD", patch.diff, directory=prefix) as tree:
        yield tree / prefix


def _old_tree(root: Path, patch: PatchInput, footprint: PatchFootprint) -> AbstractContextManager[Path] | None:
    """Where the code before the patch is, when the patch deletes, renames or moves something."""
    if not any(s.change in (P.DELETED, P.RENAMED, P.MOVED) for s in footprint.symbols):
        return None
    if patch.base is not None:
        return _sub(git.temporary_worktree(root, patch.base), git.prefix(root))
    if not patch.new_in_work_tree:
        return nullcontext(root)
    return None


@contextmanager
def _sub(tree: AbstractContextManager[Path], prefix: str) -> Iterator[Path]:
    with tree as top:
        yield top / prefix
