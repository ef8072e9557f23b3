"""The command line: argument parsing, rendering, exit codes. All analysis lives in services.

Exit codes: 0 done; 2 bad input (one line on stderr, no traceback unless --debug); 70 internal error.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from semlease.adapters import git
from semlease.adapters.config import load_config
from semlease.adapters.discover import resolve_repo
from semlease.adapters.index_store import IndexStore
from semlease.adapters.stores import open_store
from semlease.domain import leases as L
from semlease.domain.footprint import ROLES, Footprint, Radius
from semlease.domain.leases import Lease, parse_lease_id
from semlease.domain.regions import parse_region
from semlease.errors import SemleaseError
from semlease.services.catalog import LIST_KINDS, list_regions
from semlease.services.coordinator import AcquireRequest, Coordinator, Decision
from semlease.services.indexer import IndexReport, build_index
from semlease.services.resolve import DEFAULT_RADIUS_DEPTH, Resolver
from semlease.services.scoping import RegionResolver, repository_files

if TYPE_CHECKING:
    from semlease.adapters.patch_source import PatchInput

app = typer.Typer(
    name="semlease",
    help="Lease regions of meaning (exports, tests, fixtures, files) so many agents can share a repository.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RepoOpt = Annotated[Optional[str], typer.Option("--repo", help="Repository folder (default: the enclosing "
                                                "git work tree, else the current folder).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
StoreOpt = Annotated[Optional[str], typer.Option("--store", help="Lease store URL, sqlite:///PATH (default: "
                                                 "$SEMLEASE_STORE, else <git common dir>/semlease/leases.db).")]
OwnerOpt = Annotated[str, typer.Option("--owner", help="Who holds the lease, compared exactly as given.")]

_DEBUG = False
EXIT_INTERNAL = 70


# ---------------------------------------------------------------------------------------- plumbing
def _progress_printer(quiet: bool):
    """A rich progress bar on stderr for long indexing, only when stderr is a terminal."""
    if quiet or not sys.stderr.isatty():
        return None, _nullcontext()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), transient=True, console=_stderr_console())
    task = progress.add_task("indexing", total=None, visible=False)
    shown = False

    def update(phase: str, done: int, total: int) -> None:
        nonlocal shown
        if total >= 200:  # short runs are over before a bar could help
            shown = True
        if shown:
            progress.update(task, description=phase, completed=done, total=total or None, visible=True)

    return update, progress


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


@contextmanager
def _nullcontext() -> Iterator[None]:
    yield None


def _refresh(root: Path, quiet: bool, force: bool = False, with_counts: bool = True) -> IndexReport:
    update, ctx = _progress_printer(quiet)
    with ctx:
        return build_index(root, progress=update, force=force, with_counts=with_counts)


@contextmanager
def _resolver(repo: str | None, quiet: bool = True) -> Iterator[tuple[RegionResolver, IndexReport]]:
    root = resolve_repo(repo)
    config = load_config(root)
    report = _refresh(root, quiet, with_counts=False)
    with IndexStore.open(Path(report.index_path)) as store:
        yield RegionResolver(Resolver(store.graph(), head=report.head), config), report


@contextmanager
def _coordinator(repo: str | None, store_url: str | None, *, create: bool = False) -> Iterator[Coordinator]:
    root = resolve_repo(repo)
    config = load_config(root)
    with open_store(store_url, root, create=create) as store:
        yield Coordinator(store, config.policy_table())


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, indent=2) + "\n")


def _version(value: bool) -> None:
    if value:
        from semlease import __version__

        print(f"semlease {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Lease regions of meaning (exports, tests, fixtures, files) so many agents can share a repository."""


# ---------------------------------------------------------------------------------------- commands
@app.command()
def index(repo: RepoOpt = None, json_out: JsonOpt = False, quiet: QuietOpt = False,
          force: Annotated[bool, typer.Option("--force", help="Re-extract every file.")] = False,
          show_unresolved: Annotated[int, typer.Option(
              "--show-unresolved", metavar="N", min=0, help="Also list the first N unresolved uses.")] = 0) -> None:
    """Build or refresh the index and print what it holds."""
    root = resolve_repo(repo)
    report = _refresh(root, quiet, force=force)
    unresolved = []
    if show_unresolved:
        with IndexStore.open(Path(report.index_path)) as store:
            unresolved = store.unresolved(limit=show_unresolved)
    if json_out:
        _print_json({
            "root": report.root, "index": report.index_path, "head": report.head,
            "up_to_date": report.up_to_date, "files": report.files, "extracted": report.extracted,
            "reused": report.reused, "removed": report.removed, "relinked": report.relinked,
            "seconds": round(report.seconds, 3), "timings": report.timings,
            "counts": report.counts,
            "skipped": [{"path": p, "reason": r} for p, r in report.skipped],
            "syntax_errors": [{"path": p, "errors": n} for p, n in report.syntax_error_files],
            "unresolved": [_unresolved_json(u) for u in unresolved],
        })
        return
    c = report.counts
    state = "up to date" if report.up_to_date else f"{report.extracted} extracted, {report.reused} reused"
    if report.relinked is not None and report.relinked >= 0:
        state += f", {_plural(report.relinked, 'file')} relinked"
    print(f"indexed {_plural(report.files, 'file')} in {report.seconds:.2f}s ({state}"
          + (f", {report.removed} removed" if report.removed else "") + ")")
    kinds = ", ".join(f"{c.get('nodes.' + k, 0)} {k}{'es' if k.endswith('s') else 's'}" for k in
                      ("function", "class", "method", "constant", "test", "fixture"))
    print(f"  nodes: {c.get('nodes', 0)} ({kinds})")
    edges = ", ".join(f"{c[k]} {k.partition('.')[2]}" for k in sorted(c) if k.startswith("edges."))
    print(f"  edges: {c.get('edges', 0)} ({edges})")
    print(f"  unresolved uses: {c.get('unresolved', 0)} (outside the repository or not bound; "
          "see --show-unresolved N)")
    if report.syntax_error_files:
        print(f"  files with syntax errors (indexed as far as the parser recovered): "
              f"{len(report.syntax_error_files)}")
        for path, n in report.syntax_error_files[:20]:
            print(f"    {path} ({_plural(n, 'error line')})")
    if report.skipped:
        print(f"  skipped: {len(report.skipped)}")
        for path, reason in report.skipped[:20]:
            print(f"    {path}: {reason}")
    for u in unresolved:
        print(f"  unresolved {u.path}:{u.line} {u.text}  ({u.reason})")
    more = report.counts.get("unresolved", 0) - len(unresolved)
    if unresolved and more > 0:
        print(f"  ... and {more} more")
    print(f"  index: {report.index_path}" + (f"  head: {report.head[:12]}" if report.head else ""))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _unresolved_json(u) -> dict:
    return {"path": u.path, "line": u.line, "scope": u.scope, "text": u.text, "reason": u.reason}


@app.command("list")
def list_(kind: Annotated[Optional[str], typer.Argument(
              help="One of: " + ", ".join(LIST_KINDS) + " (default: all but symbol).")] = None,
          match: Annotated[Optional[str], typer.Option("--match", help="Keep regions containing TEXT.")] = None,
          repo: RepoOpt = None, json_out: JsonOpt = False) -> None:
    """List the regions one can lease, as the text to type."""
    if kind is not None and kind not in LIST_KINDS:
        raise SemleaseError(f"unknown kind {kind!r}: expected one of {', '.join(LIST_KINDS)}")
    kinds = (kind,) if kind else ("behavior", "export", "fixture", "test", "file")
    with _resolver(repo) as (resolver, _):
        items = list_regions(resolver.resolver.graph, kinds, match, behaviours=resolver.config.regions)
    if json_out:
        _print_json({"kind": kind, "match": match, "regions": [i.to_json() for i in items]})
        return
    for i in items:
        print(f"{i.region:<60} " + (f"= {i.path}" if i.kind == "behavior" else f"{i.path}:{i.line}"))
    if not items:
        print("no regions match", file=sys.stderr)


@app.command()
def resolve(region: Annotated[str, typer.Argument(help="e.g. 'export create_invoice', 'fixture db'.")],
            repo: RepoOpt = None, json_out: JsonOpt = False) -> None:
    """Print a region's footprint: definition, contract, dependencies, dependents, tests, fixtures."""
    parsed = parse_region(region)
    with _resolver(repo) as (resolver, _):
        fp = resolver.footprint(parsed)
    if json_out:
        _print_json(_footprint_json(fp))
    else:
        _print_footprint(fp)


@app.command()
def radius(region: Annotated[str, typer.Argument(help="e.g. 'export create_invoice'.")],
           repo: RepoOpt = None,
           depth: Annotated[int, typer.Option("--depth", help="How many hops of dependents to follow "
                                              "(0: no limit).", min=0)] = DEFAULT_RADIUS_DEPTH,
           json_out: JsonOpt = False) -> None:
    """Print a region's blast radius: its transitive dependents, nearest first, and the tests reached."""
    parsed = parse_region(region)
    with _resolver(repo) as (resolver, _):
        rad = resolver.radius(parsed, depth=depth or None)
    if json_out:
        _print_json(rad.model_dump())
    else:
        _print_radius(rad)


@app.command()
def acquire(region: Annotated[str, typer.Argument(help="e.g. 'export create_invoice', 'behavior checkout'.")],
            owner: OwnerOpt,
            intent: Annotated[str, typer.Option("--intent", help="What you will do; the mode is inferred from it "
                                                "when --mode is not given.")],
            mode: Annotated[Optional[str], typer.Option(
                "--mode", help="observe, test, extend, implement, contract or rename.")] = None,
            ttl: Annotated[Optional[str], typer.Option(
                "--ttl", help="How long the lease lasts unless renewed, e.g. 30m, 2h (default: default_ttl "
                "from the configuration, 30m).")] = None,
            scope: Annotated[Optional[list[str]], typer.Option(
                "--scope", help="An extra path or glob the lease covers (repeatable).")] = None,
            wait: Annotated[Optional[str], typer.Option(
                "--wait", help="Queue behind conflicting leases for at most this long, e.g. 5m.")] = None,
            repo: RepoOpt = None, store: StoreOpt = None, json_out: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Lease a region: granted (exit 0), or refused by a conflicting lease (exit 1)."""
    parsed = parse_region(region)
    choice = L.choose_mode(mode, intent)
    root = resolve_repo(repo)
    config = load_config(root)
    length = L.parse_duration(ttl if ttl is not None else config.default_ttl, "--ttl")
    patience = L.parse_duration(wait, "--wait") if wait is not None else None
    with _resolver(repo, quiet=True) as (resolver, report):
        files = repository_files(root, resolver.resolver.graph) if scope else []
        plan = resolver.plan(parsed, choice.mode, scope or (), files)
    request = AcquireRequest(owner=owner, region=parsed.text, intent=intent, mode=choice, ttl=length,
                             head=report.head, repository=git.repository_identity(root))
    with _coordinator(repo, store, create=True) as coordinator:
        if patience is None:
            decision = coordinator.acquire(request, plan)
        else:
            def queued(d: Decision) -> None:
                if not quiet:
                    print(f"semlease: {d.lease.label} queued behind "
                          + ", ".join(f"{o.owner}'s {L.lease_label(o.lease_id)}" for o in d.blocking)
                          + f" for up to {L.format_duration(patience)}", file=sys.stderr)

            decision = coordinator.wait_for_grant(request, plan, patience, on_queued=queued)
    if json_out:
        _print_json(decision.to_json())
    else:
        _print_decision(decision, choice)
    raise typer.Exit(0 if decision.granted else 1)


@app.command()
def renew(lease_id: Annotated[str, typer.Argument(help="e.g. L17.")], owner: OwnerOpt,
          ttl: Annotated[Optional[str], typer.Option("--ttl", help="New length from now (default: the lease's "
                                                     "own TTL).")] = None,
          repo: RepoOpt = None, store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """Extend an active lease from now; only its owner can."""
    number = parse_lease_id(lease_id)
    length = L.parse_duration(ttl, "--ttl") if ttl is not None else None
    with _coordinator(repo, store) as coordinator:
        outcome = coordinator.renew(number, owner, length)
    if json_out:
        _print_json(outcome.to_json())
    else:
        print(outcome.message)


@app.command()
def release(lease_id: Annotated[str, typer.Argument(help="e.g. L17.")], owner: OwnerOpt,
            repo: RepoOpt = None, store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """End a lease (or withdraw a waiting request); only its owner can. Releasing twice is not an error."""
    number = parse_lease_id(lease_id)
    with _coordinator(repo, store) as coordinator:
        outcome = coordinator.release(number, owner)
    if json_out:
        _print_json(outcome.to_json())
    else:
        print(outcome.message)


@app.command()
def leases(show_all: Annotated[bool, typer.Option("--all", help="Include ended leases (the history).")] = False,
           repo: RepoOpt = None, store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """The active leases and the waiting requests (with what each waits for)."""
    with _coordinator(repo, store) as coordinator:
        found = coordinator.leases(include_ended=show_all)
        waits = {lease.id: coordinator.waiting_for(lease.id) for lease in found if lease.state == L.WAITING}
    if json_out:
        _print_json({"leases": [
            {**lease.to_json(with_footprint=False),
             "waiting_for": [L.lease_label(o.lease_id) for o in waits.get(lease.id, [])]} for lease in found]})
        return
    if not found:
        print("no leases" if show_all else "no active leases")
        return
    ended_column = f"{'ENDED':<24} " if show_all else ""  # with --all: when each lease ended, beside its expiry
    print(f"{'ID':<6} {'STATE':<10} {'OWNER':<16} {'MODE':<9} {'TOKEN':>5}  {'EXPIRES':<24} {ended_column}REGION")
    for lease in found:
        token = str(lease.token) if lease.token is not None else "-"
        expires = "-" if lease.state == L.WAITING else L.iso(lease.expires_at) or "-"  # a request has no term yet
        ended = f"{L.iso(lease.ended_at) or '-':<24} " if show_all else ""
        line = (f"{lease.label:<6} {lease.state:<10} {lease.owner:<16} {lease.mode:<9} {token:>5}  {expires:<24} "
                f"{ended}{lease.region}")
        if lease.id in waits:
            line += "  (waiting for " + ", ".join(
                f"{L.lease_label(o.lease_id)} {o.owner}" for o in waits[lease.id]) + ")"
        print(line)


@app.command()
def show(lease_id: Annotated[str, typer.Argument(help="e.g. L17.")],
         repo: RepoOpt = None, store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """One lease: every field, its claims and its history."""
    number = parse_lease_id(lease_id)
    with _coordinator(repo, store) as coordinator:
        lease, history, claims = coordinator.show(number)
    if json_out:
        _print_json({**lease.to_json(), "claims": [c.model_dump() for c in claims],
                     "history": [e.to_json() for e in history]})
        return
    _print_lease(lease)
    print(f"claims ({len(claims)}):")
    for c in claims:
        print(f"  {c}")
    print("history:")
    for e in history:
        print(f"  {L.iso(e.at)}  {e.kind:<10} {e.owner or ''}  {_event_summary(e.detail)}")


# ---------------------------------------------------------------------------------------- patches
DiffOpt = Annotated[Optional[str], typer.Option("--diff", metavar="FILE", help="A unified diff, or - for stdin.")]
BaseOpt = Annotated[Optional[str], typer.Option("--base", metavar="REV", help="Diff from this commit (to --head, "
                                                "else to the work tree, untracked files included).")]
HeadOpt = Annotated[Optional[str], typer.Option("--head", metavar="REV", help="Diff up to this commit.")]


# The patch commands import their services when they run: libcst, SARIF models and the test runner would
# otherwise slow the start of every command (resolve must answer in well under half a second).
def _patch_input(root: Path, diff: str | None, base: str | None, head: str | None,
                 candidates: tuple[str, ...] = ()) -> PatchInput:
    from semlease.adapters import patch_source
    from semlease.adapters.diff import read_diff_file

    if diff is not None and base is not None:
        raise SemleaseError("give the patch one way, not both: --diff FILE, or --base REV [--head REV]")
    if diff is None and base is None:
        raise SemleaseError("give the patch as --diff FILE (or - for stdin), or as --base REV [--head REV]")
    if head is not None and base is None:
        raise SemleaseError("--head needs --base")
    if diff is not None:
        return patch_source.from_diff(root, read_diff_file(diff), patch_source.describe(diff), candidates=candidates)
    return patch_source.from_revisions(root, base, head)


def _work_times(root: Path, patch: PatchInput):
    from semlease.services import check as check_service

    if patch.head is None or patch.base is None:
        return None
    return check_service.work_times_of(git.commit_times(root, patch.base, patch.head))


def _write(output: str | None, content: str) -> None:
    if output is None or output == "-":
        sys.stdout.write(content if content.endswith("\n") else content + "\n")
        return
    try:
        target = Path(output)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(content if content.endswith("\n") else content + "\n", encoding="utf-8")
        partial.replace(target)  # a reader never sees half a report
    except OSError as error:
        raise SemleaseError(f"cannot write {output}: {error.strerror or error}") from error


@app.command()
def patch(diff: DiffOpt = None, base: BaseOpt = None, head: HeadOpt = None, repo: RepoOpt = None,
          json_out: JsonOpt = False) -> None:
    """Print what a patch touches: each file, and each symbol it modifies, adds, deletes, renames or moves."""
    from semlease.interfaces import reports
    from semlease.services.patches import patch_footprint

    root = resolve_repo(repo)
    footprint = patch_footprint(_patch_input(root, diff, base, head))
    if json_out:
        _print_json(footprint.model_dump(mode="json"))
    else:
        print(reports.patch_text(footprint))


@app.command()
def check(lease_id: Annotated[Optional[str], typer.Option("--lease", metavar="LEASE_ID",
                                                          help="The lease the patch was made under.")] = None,
          region: Annotated[Optional[str], typer.Option("--region", help="Check against a region instead of a "
                                                        "lease (no coordinator needed).")] = None,
          mode: Annotated[Optional[str], typer.Option("--mode", help="The mode to check --region as.")] = None,
          diff: DiffOpt = None, base: BaseOpt = None, head: HeadOpt = None,
          format_: Annotated[str, typer.Option("--format", help="text, json, github or sarif.")] = "text",
          output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE",
                                                        help="Write the report there (default: stdout).")] = None,
          repo: RepoOpt = None, store: StoreOpt = None,
          json_out: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False) -> None:
    """Check that a patch stays inside its lease (exit 0) or list what does not (exit 1)."""
    from semlease.interfaces import reports

    if json_out:
        if format_ not in ("text", "json"):
            raise SemleaseError(f"--json and --format {format_} ask for two formats: choose one")
        format_ = "json"
    if format_ not in reports.FORMATS:
        raise SemleaseError(f"unknown format {format_!r}: expected one of {', '.join(reports.FORMATS)}")
    from semlease import __version__

    try:
        if lease_id is not None and region is not None:
            raise SemleaseError("give --lease or --region, not both: a lease has its own region")
        if lease_id is None and region is None:
            raise SemleaseError("give --lease LEASE_ID, or --region REGION with --mode MODE")
        if lease_id is not None and mode is not None:
            raise SemleaseError("--mode goes with --region; a lease has its own mode")
        report = _check_report(repo, store, lease_id, region, mode, diff, base, head)
    except SemleaseError as error:
        if format_ == "sarif":  # CI uploads the log whatever happened, from the file or from stdout
            failure = json.dumps(reports.sarif_failure(str(error), __version__), indent=2)
            if output in (None, "-"):
                print(failure)
            else:
                _write(output, failure)
        raise
    if format_ == "json":
        content = json.dumps(report.model_dump(mode="json"), indent=2)
    elif format_ == "github":
        content = reports.github(report)
    elif format_ == "sarif":
        content = json.dumps(reports.sarif(report, __version__), indent=2)
    else:
        content = reports.text(report)
    _write(output, content)
    if output is not None and output != "-" and format_ != "text":
        print(reports.summary(report), file=sys.stderr)
    raise typer.Exit(0 if report.passed else 1)


def _check_report(repo: str | None, store: str | None, lease_id: str | None, region: str | None,
                  mode: str | None, diff: str | None, base: str | None, head: str | None):
    from semlease.services import check as check_service
    from semlease.services.patches import patch_footprint

    root = resolve_repo(repo)
    if lease_id is not None:
        number = parse_lease_id(lease_id)
        with _coordinator(repo, store) as coordinator:
            lease, _, _ = coordinator.show(number)
            given = _patch_input(root, diff, base, head, candidates=(lease.head,) if lease.head else ())
            return check_service.check_against_lease(coordinator.store, number, patch_footprint(given),
                                                     work_times=_work_times(root, given),
                                                     repository=git.repository_identity(root))
    if mode is None:
        raise SemleaseError("--region needs --mode (observe, test, extend, implement, contract or rename)")
    parsed = parse_region(region or "")
    chosen = L.choose_mode(mode, "")
    given = _patch_input(root, diff, base, head)
    target = check_service.region_target(root, parsed, chosen.mode, given, load_config(root))
    return check_service.check_patch(patch_footprint(given), target, now=L.utc_now())


EXIT_REBASE = 3


@app.command()
def admit(lease_id: Annotated[str, typer.Option("--lease", metavar="LEASE_ID", help="The lease the work was "
                                                "done under.")],
          token: Annotated[int, typer.Option("--token", help="The fencing token the lease was granted.")],
          diff: DiffOpt = None, base: BaseOpt = None, head: HeadOpt = None,
          evidence: Annotated[Optional[list[str]], typer.Option(
              "--evidence", metavar="KEY=VALUE", help="Evidence you supply (repeatable), e.g. review=alice.")] = None,
          run_tests: Annotated[bool, typer.Option("--run-tests", help="Run exactly the tests of the patch's "
                                                  "footprint and record the result.")] = False,
          repo: RepoOpt = None, store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """Decide apply (exit 0), reject (exit 1) or rebase (exit 3) for a patch, and record the decision."""
    from semlease.services import admit as admit_service
    from semlease.services import check as check_service
    from semlease.services.patches import BaseView, patch_footprint

    number = parse_lease_id(lease_id)
    supplied = admit_service.parse_evidence(evidence or [])
    if run_tests and admit_service.TESTS in supplied:
        raise SemleaseError("--evidence tests=... and --run-tests both give the tests' result: choose one")
    root = resolve_repo(repo)
    config = load_config(root)
    with _coordinator(repo, store) as coordinator:
        admitter = admit_service.Admitter(coordinator.store, config.admission)
        lease = admitter.lease_for(number, token, git.repository_identity(root))
        given = _patch_input(root, diff, base, head, candidates=(lease.head,) if lease.head else ())
        if not given.files:
            raise SemleaseError(f"the patch {given.source} changes nothing: there is nothing to admit")
        footprint = patch_footprint(given)
        report = check_service.check_against_lease(coordinator.store, number, footprint,
                                                   work_times=_work_times(root, given))
        items = admit_service.computed_evidence(report)
        items.update({k: admit_service.supplied_evidence(k, v) for k, v in supplied.items()})
        if run_tests:
            items[admit_service.TESTS] = admit_service.run_patch_tests(root, given, footprint,
                                                                       config.admission).evidence()
        result = admitter.decide(number, token, report, items, base_holds=BaseView(root, given).holds)
    if json_out:
        _print_json(result.to_json())
    else:
        _print_admission(result)
    raise typer.Exit({"apply": 0, "rebase": EXIT_REBASE}.get(result.decision, 1))


@app.command()
def admissions(lease_id: Annotated[Optional[str], typer.Option("--lease", metavar="LEASE_ID",
                                                               help="Only this lease's admissions.")] = None,
               repo: RepoOpt = None, store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """The admission decisions recorded, oldest first."""
    number = parse_lease_id(lease_id) if lease_id is not None else None
    with _coordinator(repo, store) as coordinator, coordinator.store.transaction(write=False) as tx:
        if number is not None and tx.lease(number) is None:
            raise SemleaseError(f"no lease {L.lease_label(number)} in this store")
        found = tx.admissions(number)
    if json_out:
        _print_json({"admissions": [a.to_json(with_patch=False) for a in found]})
        return
    if not found:
        print("no admissions")
        return
    print(f"{'ID':<6} {'LEASE':<6} {'TOKEN':>5}  {'DECIDED':<24} {'DECISION':<8} TOUCHED")
    for a in found:
        print(f"{a.label:<6} {L.lease_label(a.lease_id):<6} {a.token:>5}  {L.iso(a.at):<24} {a.decision:<8} "
              f"{_plural(len(a.touched), 'node')}")
        for reason in a.reasons:
            print(f"         {reason}")


# ---------------------------------------------------------------------------------------- rendering
def _print_decision(decision: Decision, choice: L.ModeChoice) -> None:
    lease = decision.lease
    if decision.granted:
        print(f"granted {lease.label} to {lease.owner}: {lease.region}")
        print(f"  mode {choice}, token {lease.token}, expires {L.iso(lease.expires_at)}"
              + (f", head {lease.head[:12]}" if lease.head else ""))
    else:
        print(f"refused {lease.label} for {lease.owner}: {lease.region} (mode {choice})")
    for o in decision.overlaps:
        until = f" until {L.iso(o.expires_at)}" if o.state == L.ACTIVE and o.expires_at else ""
        print(f"  {o.cls}: {L.lease_label(o.lease_id)} {o.owner!r} {o.mode} {o.region!r}{until}")
        print(f"    {o.reason}")
        shown = ", ".join(o.shared[:8]) + (f" ... (+{len(o.shared) - 8})" if len(o.shared) > 8 else "")
        print(f"    shared: {shown}")
    for old in decision.superseded:
        print(f"  superseded {L.lease_label(old)} (the same owner's earlier lease on this region)")
    if not decision.overlaps and decision.granted:
        print("  no overlap with any active lease")


def _print_admission(result) -> None:
    lease = result.lease
    print(f"{result.decision} {result.admission.label}: {lease.label} ({lease.owner!r}, {lease.mode} "
          f"{lease.region!r}) token {result.admission.token}, {result.check.patch.source}")
    for reason in result.reasons:
        print(f"  {reason}")
    print("evidence:")
    for key, item in result.evidence.items():
        required = key in result.required
        mark = ("ok  " if item.ok else "FAIL") if required else "info"  # not required: told, not judged
        print(f"  {key:<10} {mark} {item.value}  ({item.source}, {'required' if required else 'not required'})")
    for key in result.missing:
        print(f"  {key:<10} MISSING")
    for finding in result.check.findings:
        late = "  (late work: judged by late_work, above)" if finding.rule == "lease-not-active" else ""
        print(f"  {finding.rule_id} {finding}{late}")


def _print_lease(lease: Lease) -> None:
    print(f"{lease.label}  {lease.state}  {lease.region}")
    rows = [("owner", lease.owner), ("mode", lease.mode + (" (inferred)" if lease.mode_inferred else "")),
            ("intent", lease.intent), ("token", lease.token), ("head", lease.head),
            ("requested", L.iso(lease.requested_at)), ("acquired", L.iso(lease.acquired_at)),
            ("expires", L.iso(lease.expires_at)), ("ended", L.iso(lease.ended_at)),
            ("scope", f"{len(lease.scope.nodes)} nodes" + (f"; paths {', '.join(lease.scope.paths)}"
                                                           if lease.scope.paths else ""))]
    for name, value in rows:
        if value is not None:
            print(f"  {name:<10} {value}")


def _event_summary(detail: dict) -> str:
    keep = {k: v for k, v in detail.items() if k not in ("overlaps",) and v not in (None, [], "")}
    if "overlaps" in detail and detail["overlaps"]:
        keep["overlaps"] = ", ".join(f"{o['lease_id']} {o['class']}" for o in detail["overlaps"])
    return "  ".join(f"{k}={v}" for k, v in keep.items())


def _footprint_json(fp: Footprint) -> dict:
    return {"region": fp.region, "kind": fp.kind, "head": fp.head,
            "footprint": {role: [e.model_dump(exclude_none=True) for e in fp.role(role)] for role in ROLES}}


def _print_footprint(fp: Footprint) -> None:
    print(f"{fp.region}" + (f"  (head {fp.head[:12]})" if fp.head else ""))
    for role in ROLES:
        entries = fp.role(role)
        print(f"{role} ({len(entries)})")
        for e in entries:
            print(f"  {e}")
    print(f"files: {len(fp.files())}")


def _print_radius(rad: Radius) -> None:
    limit = "no limit" if rad.depth is None else f"depth {rad.depth}"
    dependent_files = len({d.path for d in rad.dependents})
    print(f"{rad.region}: {_plural(len(rad.dependents), 'dependent')} in {_plural(dependent_files, 'file')}, "
          f"{_plural(len(rad.tests), 'test')} ({limit})")
    for d in rad.dependents:
        print(f"  {d.distance}  {d.id}  [{d.kind}]  {d.path}:{d.start_line}  <- {d.via}")
    if rad.tests:
        print("tests:")
        for t in rad.tests:
            print(f"  {t}")


# ---------------------------------------------------------------------------------------- entry point
def main(argv: list[str] | None = None) -> None:
    global _DEBUG
    args = list(sys.argv[1:] if argv is None else argv)
    _DEBUG = "--debug" in args or os.environ.get("SEMLEASE_DEBUG") == "1"
    args = [a for a in args if a != "--debug"]
    wants_json = "--json" in args or "--format=json" in args or any(
        a == "--format" and b == "json" for a, b in zip(args, args[1:], strict=False))
    if not args:
        args = ["--help"]
    try:
        code = app(args=args, prog_name="semlease", standalone_mode=False)
    except SemleaseError as exc:
        _traceback_if_debug()
        _fail(str(exc), exc.exit_code, wants_json, exc.candidates)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _interrupted()
    except BrokenPipeError:
        _quiet_broken_pipe()
    except Exception as exc:  # usage errors from the argument parser, and anything unexpected
        _traceback_if_debug()
        # typer raises click's ClickException (vendored inside typer since 0.2x): duck-type it
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            _fail(f"{exc.format_message()} (see semlease --help)", 2, wants_json)
        hint = "" if _DEBUG else " (run with --debug for the traceback)"
        _fail(f"internal error: {type(exc).__name__}: {exc}{hint}", EXIT_INTERNAL, wants_json)
    try:
        sys.stdout.flush()  # a closed pipe shows here, not at the print that filled the buffer
    except BrokenPipeError:
        _quiet_broken_pipe()
    # Without standalone mode, typer reports Ctrl-C and `Exit` by returning the exit code.
    if code == 130:
        _interrupted()
    sys.exit(code if isinstance(code, int) else 0)


def _traceback_if_debug() -> None:
    """--debug adds the traceback on stderr; the exit code and the --json object stay what they are."""
    if _DEBUG:
        traceback.print_exc()


def _fail(message: str, code: int, wants_json: bool, candidates: list[str] | None = None) -> None:
    """One line on stderr; with --json also one object on stdout, so an agent can read the candidates."""
    message = " ".join(part.strip() for part in str(message).splitlines() if part.strip())  # a library's may not be
    print(f"semlease: error: {message}", file=sys.stderr)
    if wants_json:
        _print_json({"error": message, "exit_code": code, "candidates": candidates or []})
    sys.exit(code)


def _interrupted() -> None:
    print("semlease: interrupted", file=sys.stderr)
    sys.exit(130)


def _quiet_broken_pipe() -> None:
    """The reader went away (`semlease list | head`): nothing more to say, and not an error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    sys.exit(0)
