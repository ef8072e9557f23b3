"""Checks and admissions on a real git copy of fixtures/shop, a real SQLite store and a clock the tests
control: the token 7/8 story, rebase versus reject, late work, evidence, an implement lease caught changing
a signature, and --run-tests selecting exactly the tests of the patch."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import run_git, write_repo
from semlease.adapters import git, patch_source
from semlease.adapters.config import AdmissionConfig
from semlease.adapters.index_store import IndexStore
from semlease.adapters.sqlite_store import SqliteLeaseStore
from semlease.adapters.test_runner import run_selected
from semlease.domain.leases import Lease, choose_mode
from semlease.domain.regions import parse_region
from semlease.errors import SemleaseError
from semlease.services import admit as A
from semlease.services import check as C
from semlease.services.coordinator import AcquireRequest, Coordinator
from semlease.services.indexer import build_index
from semlease.services.patches import BaseView, patch_footprint
from semlease.services.resolve import Resolver
from semlease.services.scoping import RegionResolver
from semlease.services.selection import Selection

SHOP = Path(__file__).resolve().parents[3] / "fixtures" / "shop"
T0 = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
INVOICE = "src/billing/invoice.py"
CHECKOUT = "src/shop/checkout.py"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    root: Path
    store: SqliteLeaseStore
    coordinator: Coordinator
    clock: Clock
    bases: dict = field(default_factory=dict)  # id(footprint) -> the BaseView it was made on

    def lease(self, owner: str, region: str, mode: str, ttl: timedelta = timedelta(minutes=30)) -> Lease:
        report = build_index(self.root, with_counts=False)
        with IndexStore.open(Path(report.index_path)) as index:
            regions = RegionResolver(Resolver(index.graph(), head=report.head))
            choice = choose_mode(mode, "")
            plan = regions.plan(parse_region(region), choice.mode, (), [])
        request = AcquireRequest(owner=owner, region=region, intent="work", mode=choice, ttl=ttl, head=report.head,
                                 repository=git.repository_identity(self.root))
        decision = self.coordinator.acquire(request, plan)
        assert decision.granted, decision.overlaps
        return decision.lease

    def patch(self, edits: dict[str, tuple[str, str]], *, keep: bool = False):
        """Edit files in the work tree (old text -> new text), take the patch against HEAD, then undo
        (``keep``: commit it instead, as the orchestrator does with an applied patch)."""
        for path, (old, new) in edits.items():
            text = (self.root / path).read_text()
            assert old in text, old
            (self.root / path).write_text(text.replace(old, new, 1))
        given = patch_source.from_revisions(self.root, "HEAD")
        footprint = patch_footprint(given)
        self.bases[id(footprint)] = BaseView(self.root, given)
        if keep:
            write_repo(self.root, {}, message="applied")
        else:
            run_git(self.root, "checkout", "-q", "--", ".")
        return footprint

    def check(self, lease: Lease, footprint) -> C.CheckReport:
        return C.check_against_lease(self.store, lease.id, footprint, work_times=None)

    def admit(self, lease: Lease, footprint, token: int | None = None, config: AdmissionConfig | None = None,
              **supplied: str) -> A.AdmissionResult:
        admitter = A.Admitter(self.store, config or AdmissionConfig())
        token = lease.token if token is None else token
        admitter.lease_for(lease.id, token, git.repository_identity(self.root))
        items = A.computed_evidence(self.check(lease, footprint))
        items.update({k: A.supplied_evidence(k, v) for k, v in supplied.items()})
        base = self.bases.get(id(footprint))
        return admitter.decide(lease.id, token, self.check(lease, footprint), items,
                               base_holds=base.holds if base else None)


@pytest.fixture
def world(tmp_path: Path, git_env) -> World:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    write_repo(root, {})
    clock = Clock()
    with SqliteLeaseStore(tmp_path / "leases.db", clock=clock) as store:
        yield World(root, store, Coordinator(store), clock)


BODY = {INVOICE: ("    subtotal = _round(order.subtotal())\n",
                  "    subtotal = _round(order.subtotal())\n    assert subtotal >= 0\n")}
SIGNATURE = {INVOICE: ("def create_invoice(order: Order, *, tax: bool = True) -> Invoice:",
                       "def create_invoice(order: Order, *, tax: bool = False) -> Invoice:")}
CALLER = {CHECKOUT: ("    if pay_now:\n", "    if pay_now and invoice.total() > 0:\n")}
TOTAL = {INVOICE: ("        return _round(self.subtotal + self.tax)",
                   "        return _round(self.tax + self.subtotal)")}


# ------------------------------------------------------------------------------------------- the check
def test_a_body_change_inside_an_implement_lease_passes(world: World) -> None:
    lease = world.lease("a", "export create_invoice", "implement")
    report = world.check(lease, world.patch(BODY))
    assert (report.passed, report.findings) == (True, ())
    assert [(i.node, i.change, i.why) for i in report.inside] == [
        ("src/billing/invoice.py::create_invoice", "modified", "claimed")]


def test_an_implement_lease_caught_changing_a_signature(world: World) -> None:
    lease = world.lease("a", "export create_invoice", "implement")
    report = world.check(lease, world.patch(SIGNATURE))
    assert report.passed is False
    (finding,) = report.findings
    assert (finding.rule, finding.rule_id, finding.path, finding.line, finding.symbol) == (
        C.CONTRACT, "SL002", INVOICE, 46, "src/billing/invoice.py::create_invoice")
    assert finding.message == ("create_invoice: its public contract changed under an implement lease (parameter "
                               "tax: keyword-only 2: tax: bool = True -> keyword-only 2: tax: bool = False)")


def test_a_contract_lease_may_change_the_signature(world: World) -> None:
    lease = world.lease("a", "export create_invoice", "contract")
    assert world.check(lease, world.patch(SIGNATURE)).passed is True


def test_outside_the_lease_names_the_holder(world: World) -> None:
    mine = world.lease("a", "export create_invoice", "implement")
    theirs = world.lease("b", "symbol Invoice.total", "implement")
    report = world.check(mine, world.patch({**BODY, **TOTAL}))
    (finding,) = report.findings
    assert (finding.rule, finding.path, finding.line, finding.symbol) == (
        C.OUTSIDE, INVOICE, 29, "src/billing/invoice.py::Invoice.total")
    assert [h.lease_id for h in finding.holders] == [theirs.label]
    assert finding.message == ("Invoice.total (method, modified) is outside L1 ('a', implement 'export "
                               "create_invoice'); held by L2 'b' implement 'symbol Invoice.total'")


def test_a_new_file_is_outside_unless_the_lease_names_it(world: World) -> None:
    lease = world.lease("a", "export create_invoice", "implement")
    (world.root / "NOTES.md").write_text("why invoices are validated\n")
    fp = patch_footprint(patch_source.from_revisions(world.root, "HEAD"))
    (finding,) = world.check(lease, fp).findings
    assert (finding.rule, finding.path, finding.line, finding.holders) == (C.OUTSIDE, "NOTES.md", None, ())
    assert finding.message == ("NOTES.md (added) is outside L1 ('a', implement 'export create_invoice'); nobody "
                               "holds a lease on it (a lease covers it with --scope NOTES.md)")
    target = C.CheckTarget(region="export create_invoice", mode="implement",
                           scope=lease.scope.model_copy(update={"paths": ("*.md",)}))
    report = C.check_patch(fp, target, now=T0)
    assert report.passed and [(i.node, i.why) for i in report.inside] == [("NOTES.md", "--scope *.md")]


def test_a_test_lease_may_change_tests_but_not_the_code(world: World) -> None:
    lease = world.lease("a", "export create_invoice", "test")
    test_edit = {"tests/test_invoice.py": ('    assert invoice.tax == Decimal("5.00")',
                                           '    assert invoice.tax == Decimal("5.0")')}
    assert world.check(lease, world.patch(test_edit)).passed is True
    (finding,) = world.check(lease, world.patch(BODY)).findings
    assert (finding.rule, finding.message) == (
        C.MODE, "create_invoice: a test lease changes test code only; this changes its body")


def test_an_observe_lease_changes_nothing_it_claims(world: World) -> None:
    lease = world.lease("a", "export create_invoice", "observe")
    (finding,) = world.check(lease, world.patch(BODY)).findings
    assert (finding.rule, finding.message) == (
        C.MODE, "create_invoice: an observe lease changes no code it claims (modified)")


def test_new_code_beside_the_lease_is_inside_it(world: World) -> None:
    lease = world.lease("a", "export create_invoice", "implement")
    fp = world.patch({INVOICE: ("def create_invoice(", "def _validate(order):\n    return order\n\n\n"
                                "def create_invoice(")})
    report = world.check(lease, fp)
    assert report.passed is True
    assert [(i.node, i.why) for i in report.inside] == [
        ("src/billing/invoice.py::_validate", "beside what the lease claims")]


def test_work_in_a_work_tree_under_an_expired_lease_fails_the_check(world: World) -> None:
    lease = world.lease("a", "export create_invoice", "implement", ttl=timedelta(minutes=10))
    world.clock.now = T0 + timedelta(minutes=11)
    (finding,) = world.check(lease, world.patch(BODY)).findings
    assert finding.rule == C.NOT_ACTIVE
    assert finding.message.startswith("L1 is expired since 2026-12-03T18:10:00.000Z: work in a work tree or a "
                                      "diff file is checked at the time of the check")


def test_commits_are_checked_against_the_lease_s_active_time(world: World) -> None:
    lease = world.lease("a", "export create_invoice", "implement", ttl=timedelta(minutes=10))
    inside = [("c1", T0 + timedelta(minutes=5))]
    early = [("c0ffee0000001", T0 - timedelta(hours=1))]
    late = [("c0ffee0000002", T0 + timedelta(minutes=20))]
    fp = world.patch(BODY)
    target = C.CheckTarget.of_lease(lease)
    assert C.check_patch(fp, target, now=T0 + timedelta(minutes=6), work_times=inside).passed is True
    (finding,) = C.check_patch(fp, target, now=T0 + timedelta(minutes=30), work_times=early).findings
    assert finding.message == ("commit c0ffee000000 (2026-12-03T17:00:00.000Z) was made before L1 was granted "
                               "(2026-12-03T18:00:00.000Z)")
    (finding,) = C.check_patch(fp, target, now=T0 + timedelta(minutes=30), work_times=late).findings
    assert finding.message == ("commit c0ffee000000 (2026-12-03T18:20:00.000Z) was made after L1 ended "
                               "(expired at 2026-12-03T18:10:00.000Z)")


# ------------------------------------------------------------------------------------------- admission
def test_the_token_7_8_story(world: World) -> None:
    """A reads head under token 7, its lease expires, B leases the same export under token 8 and its patch
    is applied; A comes back with token 7 and a patch of the same function: rejected as stale."""
    for n in range(6):  # tokens 1..6 go to leases elsewhere
        world.coordinator.release(world.lease(f"other-{n}", "export apply_discount", "implement").id, f"other-{n}")
    a = world.lease("a", "export create_invoice", "implement", ttl=timedelta(minutes=10))
    world.clock.now = T0 + timedelta(minutes=15)
    b = world.lease("b", "export create_invoice", "implement")
    assert (a.token, b.token) == (7, 8)
    applied = world.admit(b, world.patch(BODY), tests="pass")
    assert (applied.decision, applied.admission.label) == (A.APPLY, "A1")
    late = world.admit(a, world.patch({INVOICE: ("    return Invoice(", "    invoice = None\n    return Invoice(")}),
                       tests="pass")
    assert late.decision == A.REJECT
    assert late.admission.stale_by == (1,)
    assert late.reasons[0] == ("stale: A1 under L8 ('b'), token 8, changed src/billing/invoice.py::create_invoice, "
                               "which this patch changes too, under a larger token than 7")
    # B holds the export now, with a larger token: that too is said
    assert late.reasons[1] == ("L7 is expired since 2026-12-03T18:10:00.000Z: L8 ('b', token 8) holds "
                               "src/billing/invoice.py::create_invoice now")
    with world.store.transaction(write=False) as tx:
        assert [(x.label, x.token, x.decision) for x in tx.admissions()] == [("A1", 8, "apply"), ("A2", 7, "reject")]
        assert [e.kind for e in tx.history(a.id)][-2:] == ["expired", "admission"]


def test_a_neighbour_changed_since_the_grant_means_rebase(world: World) -> None:
    a = world.lease("a", "export create_invoice", "implement")
    b = world.lease("b", "export checkout", "implement")  # a dependent of create_invoice: compatible
    assert world.admit(b, world.patch(CALLER), tests="pass").decision == A.APPLY
    result = world.admit(a, world.patch(BODY), tests="pass")
    assert result.decision == A.REBASE
    assert result.reasons == ("A1 under L2 ('b'), token 2, changed src/shop/checkout.py::checkout of this lease's "
                              "footprint since it was granted: re-apply this patch on the new head",)


def test_a_patch_re_applied_on_the_new_head_after_a_rebase_is_applied(world: World) -> None:
    a = world.lease("a", "export create_invoice", "implement")
    b = world.lease("b", "export checkout", "implement")
    # A's patch, made on the head its lease was granted on, arrives as a diff after B's was applied
    text = (world.root / INVOICE).read_text()
    (world.root / INVOICE).write_text(text.replace(*BODY[INVOICE]))
    data = run_git(world.root, "diff").encode()
    run_git(world.root, "checkout", "-q", "--", ".")
    assert world.admit(b, world.patch(CALLER, keep=True), tests="pass").decision == A.APPLY  # and committed
    given = patch_source.from_diff(world.root, data, "the diff a.diff", candidates=(a.head,))
    assert given.base == a.head  # it fits the lease's head, which does not hold B's change
    stale = patch_footprint(given)
    world.bases[id(stale)] = BaseView(world.root, given)
    assert world.admit(a, stale, tests="pass").decision == A.REBASE
    # A re-applies its change on the new head, which holds B's: no longer stale
    assert world.admit(a, world.patch(BODY), tests="pass").decision == A.APPLY


def test_patches_of_unrelated_leases_do_not_make_each_other_stale(world: World) -> None:
    a = world.lease("a", "export create_invoice", "implement")
    b = world.lease("b", "export apply_discount", "implement")  # nothing of create_invoice's footprint
    discount = {"src/shop/pricing.py": ("def apply_discount(", "# codes are case-sensitive\ndef apply_discount(")}
    assert world.admit(b, world.patch(discount), tests="pass").decision == A.APPLY
    assert world.admit(a, world.patch(BODY), tests="pass").decision == A.APPLY


def test_missing_and_failing_evidence_reject_and_say_what(world: World) -> None:
    lease = world.lease("a", "export create_invoice", "implement")
    result = world.admit(lease, world.patch(BODY))
    assert (result.decision, result.missing) == (A.REJECT, ("tests",))
    assert result.reasons == ("missing evidence: tests (run the tests with --run-tests, or give --evidence "
                              "tests=pass)",)
    failing = world.admit(lease, world.patch(SIGNATURE), tests="failed")
    assert failing.decision == A.REJECT
    assert failing.reasons == (
        "evidence contract fails: changed: src/billing/invoice.py::create_invoice: parameter tax: keyword-only 2: "
        "tax: bool = True -> keyword-only 2: tax: bool = False",
        "evidence tests fails: failed")


def test_configured_evidence_and_caller_keys(world: World) -> None:
    lease = world.lease("a", "export create_invoice", "implement")
    config = AdmissionConfig(evidence={"implement": ("scope", "review")})
    assert world.admit(lease, world.patch(BODY), config=config).missing == ("review",)
    result = world.admit(lease, world.patch(BODY), config=config, review="alice")
    assert result.decision == A.APPLY
    assert result.reasons == ("evidence complete: scope (inside the lease), review (alice)",)


def test_late_work_is_admitted_when_fresh_and_rejected_when_someone_holds_it_now(world: World) -> None:
    a = world.lease("a", "export create_invoice", "implement", ttl=timedelta(minutes=10))
    world.clock.now = T0 + timedelta(minutes=15)
    fp = world.patch(BODY)
    assert world.admit(a, fp, tests="pass").decision == A.APPLY  # nobody touched it since: fresh
    strict = AdmissionConfig(late_work="reject")
    result = world.admit(a, fp, config=strict, tests="pass")
    assert result.reasons == ('L1 is expired since 2026-12-03T18:10:00.000Z, and late work is rejected '
                              '(late_work = "reject")',)
    b = world.lease("b", "export create_invoice", "implement")
    held = world.admit(a, fp, tests="pass")
    assert held.decision == A.REJECT
    assert f"{b.label} ('b', token 2) holds src/billing/invoice.py::create_invoice now" in held.reasons[0]


def test_tokens_and_repositories_are_checked_before_anything_is_recorded(world: World, tmp_path: Path) -> None:
    a = world.lease("a", "export create_invoice", "implement")
    b = world.lease("b", "export compute_tax", "implement")
    admitter = A.Admitter(world.store)
    mine = git.repository_identity(world.root)
    with pytest.raises(SemleaseError, match=r"^token 9 was never issued by this store$"):
        admitter.lease_for(a.id, 9, mine)
    with pytest.raises(SemleaseError, match=r"^token 2 was issued to L2, not L1 \(whose token is 1\)$"):
        admitter.lease_for(a.id, b.token, mine)
    with pytest.raises(SemleaseError, match=rf"^L1 is a lease on another repository \({mine}\); this one is "
                                            r"git:0000$"):
        admitter.lease_for(a.id, 1, "git:0000")
    with pytest.raises(SemleaseError, match=r"^no lease L7 in this store$"):
        admitter.lease_for(7, 1, mine)
    with world.store.transaction(write=False) as tx:
        assert tx.admissions() == []


def test_evidence_keys_given_by_the_caller(world: World) -> None:
    assert A.parse_evidence(["review=alice", "ci=https://ci/1"]) == {"review": "alice", "ci": "https://ci/1"}
    for bad, message in (("scope=ok", "--evidence scope=... cannot be supplied: semlease computes scope from the "
                          "patch"), ("review", "--evidence 'review' is not KEY=VALUE (e.g. --evidence review=alice)")):
        with pytest.raises(SemleaseError) as error:
            A.parse_evidence([bad])
        assert str(error.value) == message
    assert A.supplied_evidence("tests", "FAILED").ok is False
    assert A.supplied_evidence("review", "bob").ok is True


# ------------------------------------------------------------------------------------------- --run-tests
def test_run_tests_selects_exactly_the_tests_of_the_patch(world: World) -> None:
    text = (world.root / INVOICE).read_text().replace(*TOTAL[INVOICE])
    (world.root / INVOICE).write_text(text)
    given = patch_source.from_revisions(world.root, "HEAD")
    fp = patch_footprint(given)
    evidence = A.run_patch_tests(world.root, given, fp, AdmissionConfig())
    # Invoice.total's blast radius: describe() calls it (test_describe), checkout() calls it
    # (test_checkout_marks_order_paid). TestInvoice.test_total calls it on a fixture's value, whose type the
    # index does not know, so it is not selected (README: not supported yet).
    assert evidence.selection.tests == ("tests/test_invoice.py::TestInvoice.test_describe",
                                        "tests/test_orders.py::test_checkout_marks_order_paid")
    assert evidence.selection.why == {
        "tests/test_invoice.py::TestInvoice.test_describe": ("src/billing/invoice.py::Invoice.total",),
        "tests/test_orders.py::test_checkout_marks_order_paid": ("src/billing/invoice.py::Invoice.total",)}
    assert evidence.run["passed"] is True and evidence.run["exit_code"] == 0
    assert evidence.run["command"][-2:] == ["tests/test_invoice.py::TestInvoice::test_describe",
                                            "tests/test_orders.py::test_checkout_marks_order_paid"]
    assert "2 passed" in evidence.run["output"]
    assert evidence.evidence().value == "2 selected tests: 2 passed"


@pytest.mark.parametrize(("modules", "ok", "value"), [
    (("ok", "optional"), True, "2 selected tests: 1 passed, 1 in modules skipped at import"),
    (("optional", "optional2"), False, "2 selected tests: none ran (2 in modules skipped at import)"),
    (("skips",), False, "1 selected test: none passed (1 skipped)"),
])
def test_tests_evidence_needs_a_test_that_passed(tmp_path: Path, modules: tuple[str, ...], ok: bool,
                                                 value: str) -> None:
    bodies = {"ok": "def test_it():\n    assert True\n",
              "optional": 'import pytest\n\npytest.importorskip("no_such_module_xyz")\n\n\ndef test_it():\n    pass\n',
              "optional2": 'import pytest\n\npytest.skip("not here", allow_module_level=True)\n\n\n'
                           "def test_it():\n    pass\n",
              "skips": 'import pytest\n\n\n@pytest.mark.skip(reason="later")\ndef test_it():\n    pass\n'}
    (tmp_path / "tests").mkdir()
    for name in modules:
        (tmp_path / f"tests/test_{name}.py").write_text(bodies[name])
    ids = [f"tests/test_{name}.py::test_it" for name in modules]
    run = run_selected(None, ids, ids, tmp_path, 120, [tmp_path])
    evidence = A.TestEvidence(selection=Selection(tests=tuple(ids), why={}), run=run.to_json()).evidence()
    assert (evidence.ok, evidence.value) == (ok, value)


def test_run_tests_on_a_diff_that_is_not_applied_uses_a_temporary_worktree(world: World) -> None:
    text = (world.root / INVOICE).read_text()
    (world.root / INVOICE).write_text(text.replace("return _round(self.subtotal + self.tax)", "return 0"))
    data = run_git(world.root, "diff").encode()
    run_git(world.root, "checkout", "-q", "--", ".")
    given = patch_source.from_diff(world.root, data, "the diff p.diff")
    assert given.new_in_work_tree is False
    evidence = A.run_patch_tests(world.root, given, patch_footprint(given), AdmissionConfig())
    assert evidence.run["passed"] is False and evidence.run["exit_code"] == 1
    assert "2 failed" in evidence.run["output"]
    assert (world.root / INVOICE).read_text() == text  # the work tree was not touched
    assert run_git(world.root, "worktree", "list").count("\n") == 1  # and the temporary worktree is gone


def test_tests_import_the_patched_tree_not_an_installed_package_of_the_same_name(make_git_repo,
                                                                                   tmp_path: Path) -> None:
    # `typer` is installed beside semlease: without the tree's src/ first on the path, the test would
    # import that one and never see the patch.
    root = make_git_repo(tmp_path / "r", {"src/typer/__init__.py": "VALUE = 1\n",
                                          "tests/test_value.py": "import typer\n\n\ndef test_value():\n"
                                                                 "    assert typer.VALUE == 2\n"})
    (root / "src/typer/__init__.py").write_text("VALUE = 2\n")
    given = patch_source.from_revisions(root, "HEAD")
    evidence = A.run_patch_tests(root, given, patch_footprint(given), AdmissionConfig())
    assert evidence.selection.tests == ("tests/test_value.py::test_value",)
    assert evidence.run["import_paths"] == [str(root / "src"), str(root)]
    assert (evidence.run["passed"], evidence.run["summary"]) == (True, "1 passed")


@pytest.mark.parametrize("made_at", ["top", "sub-folder"])
def test_run_tests_for_a_sub_folder_of_a_work_tree(tmp_path: Path, git_env, made_at: str) -> None:
    top = tmp_path / "mono"
    shutil.copytree(SHOP, top / "shop", ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    write_repo(top, {"README.md": "two projects\n"})
    shop = top / "shop"
    text = (shop / INVOICE).read_text()
    (shop / INVOICE).write_text(text.replace("return _round(self.subtotal + self.tax)", "return 0"))
    data = run_git(top if made_at == "top" else shop, "diff", *(["--relative"] if made_at != "top" else [])).encode()
    run_git(top, "checkout", "-q", "--", ".")
    given = patch_source.from_diff(shop, data, "the diff p.diff")
    evidence = A.run_patch_tests(shop, given, patch_footprint(given), AdmissionConfig())
    assert evidence.selection.tests == ("tests/test_invoice.py::TestInvoice.test_describe",
                                        "tests/test_orders.py::test_checkout_marks_order_paid")
    assert (evidence.run["passed"], evidence.run["summary"]) == (False, "2 failed")
    assert (shop / INVOICE).read_text() == text


def test_a_claimed_symbol_moved_into_a_new_file_takes_the_lease_along(world: World) -> None:
    lease = world.lease("m", "export compute_tax", "rename")
    tax = (world.root / "src/billing/tax.py").read_text()
    start = tax.index("def compute_tax")
    (world.root / "src/billing/tax.py").write_text(tax[:start].rstrip() + "\n\nfrom billing.rates import compute_tax"
                                                   "  # noqa: E402,F401\n")
    (world.root / "src/billing/rates.py").write_text('"""Rates."""\n\nfrom decimal import Decimal\n\n\n'
                                                     "UNIT = Decimal('0.01')\n\n\n" + tax[start:])
    report = world.check(lease, patch_footprint(patch_source.from_revisions(world.root, "HEAD")))
    assert report.findings == ()
    assert sorted((i.node, i.why) for i in report.inside) == [
        ("src/billing/rates.py", "beside what the lease claims"),
        ("src/billing/rates.py::UNIT", "beside what the lease claims"),
        ("src/billing/rates.py::compute_tax", "claimed"),
        ("src/billing/tax.py", "beside what the lease claims")]


def test_a_diff_that_fits_two_commits_is_read_from_the_one_its_index_line_names(world: World) -> None:
    a = world.lease("a", "symbol Invoice._state", "implement")
    b = world.lease("b", "symbol Invoice.is_void", "implement")
    state = {INVOICE: ('return "void" if self.is_void else "open"', 'return "VOID" if self.is_void else "open"')}
    assert world.admit(a, world.patch(state, keep=True), tests="pass").decision == A.APPLY
    # b's change, made again on the new head: its diff fits the lease's commit as well as HEAD
    text = (world.root / INVOICE).read_text()
    (world.root / INVOICE).write_text(text.replace("return self.voided\n", "return bool(self.voided)\n"))
    data = run_git(world.root, "diff").encode()
    run_git(world.root, "checkout", "-q", "--", ".")
    given = patch_source.from_diff(world.root, data, "the diff b.diff", candidates=(b.head,))
    assert given.base == git.head_commit(world.root)  # the commit whose file is the blob git named
    fp = patch_footprint(given)
    world.bases[id(fp)] = BaseView(world.root, given)
    assert world.admit(b, fp, tests="pass").decision == A.APPLY


def test_a_lease_granted_after_the_move_claims_the_moved_symbol_by_its_new_id(world: World) -> None:
    tax = (world.root / "src/billing/tax.py").read_text()
    start = tax.index("def compute_tax")
    (world.root / "src/billing/tax.py").write_text(tax[:start].rstrip() + "\n")
    (world.root / "src/billing/rates.py").write_text('"""Rates."""\n\nfrom decimal import Decimal\n\n\n' + tax[start:])
    lease = world.lease("m", "symbol src/billing/rates.py::compute_tax", "rename")  # on the tree after the move
    report = world.check(lease, patch_footprint(patch_source.from_revisions(world.root, "HEAD")))
    assert ("src/billing/rates.py::compute_tax", "claimed") in [(i.node, i.why) for i in report.inside]
    assert not [f for f in report.findings if "compute_tax" in f.message]

