"""The lease commands as an agent runs them: acquire/renew/release/leases/show on the sample repository,
their JSON, their exit codes (0 granted or done, 1 refused, 2 bad input), the default store shared by git
worktrees, --wait, and bad input that must change nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from semlease.adapters.sqlite_store import SqliteLeaseStore

from .shop_cli import ShopRepo, cli_env, describe, run_cli

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LEASE_FIELDS = {"id", "owner", "region", "mode", "mode_inferred", "intent", "scope", "token", "head",
                "requested_at", "acquired_at", "expires_at", "ended_at", "ttl_seconds", "state", "footprint",
                "repository"}


@pytest.fixture
def lease(shop: ShopRepo, tmp_path: Path):
    """``lease(*args) -> CompletedProcess``: the CLI on the shop copy with a store of this test's own."""
    store = f"sqlite:///{tmp_path / 'leases.db'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return shop.run(*args, "--store", store)

    run.store_path = tmp_path / "leases.db"  # type: ignore[attr-defined]
    return run


def _json(result: subprocess.CompletedProcess[str], code: int = 0) -> dict:
    assert result.returncode == code, describe(result)
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def test_two_agents_one_refused_with_the_reason_one_parallel_safe(lease, shop: ShopRepo) -> None:
    first = _json(lease("acquire", "export create_invoice", "--owner", "agent-a", "--intent",
                        "validate the order before billing", "--ttl", "45m", "--json"))
    assert first["granted"] is True and first["overlaps"] == []
    held = first["lease"]
    assert set(held) == LEASE_FIELDS
    assert (held["id"], held["owner"], held["region"], held["mode"], held["mode_inferred"], held["state"],
            held["token"], held["head"], held["ttl_seconds"]) == (
        "L1", "agent-a", "export create_invoice", "implement", True, "active", 1, shop.head, 2700.0)
    assert ISO.match(held["acquired_at"]) and ISO.match(held["expires_at"]) and held["ended_at"] is None
    root_commit = subprocess.run(["git", "-C", str(shop.root), "rev-list", "--max-parents=0", "HEAD"],
                                 capture_output=True, text=True, check=True).stdout.split()[0]
    assert held["repository"] == f"git:{root_commit}"
    assert held["scope"]["paths"] == []
    assert "src/billing/invoice.py::create_invoice" in held["scope"]["nodes"]
    assert [e["id"] for e in held["footprint"]["footprint"]["definition"]] == [
        "src/billing/invoice.py::create_invoice"]

    refused = _json(lease("acquire", "export create_invoice", "--owner", "agent-b", "--intent",
                          "change the return type to a Receipt", "--json"), code=1)
    assert refused["granted"] is False
    assert (refused["lease"]["state"], refused["lease"]["token"], refused["lease"]["mode"]) == (
        "refused", None, "contract")
    (overlap,) = refused["overlaps"]
    assert (overlap["lease_id"], overlap["owner"], overlap["region"], overlap["mode"], overlap["class"]) == (
        "L1", "agent-a", "export create_invoice", "implement", "conflict")
    assert overlap["shared"][0] == "src/billing/invoice.py::create_invoice"
    assert overlap["expires_at"] == held["expires_at"]
    assert overlap["reason"].startswith("conflict: on src/billing/invoice.py::create_invoice this lease changes "
                                        "its contract (write:contract) and L1 held by 'agent-a' changes its body")

    text = lease("acquire", "export create_invoice", "--owner", "agent-b", "--intent", "rename it")
    assert text.returncode == 1, describe(text)
    assert text.stdout.splitlines()[:2] == [
        "refused L3 for agent-b: export create_invoice (mode rename (inferred, from 'rename'))",
        f"  conflict: L1 'agent-a' implement 'export create_invoice' until {held['expires_at']}"]

    parallel = _json(lease("acquire", "symbol Invoice.is_void", "--owner", "agent-b", "--intent",
                           "count voided invoices", "--json"))
    assert parallel["granted"] is True and parallel["lease"]["token"] == 2
    assert parallel["overlaps"] == []


def test_renew_release_leases_and_show(lease) -> None:
    _json(lease("acquire", "export compute_tax", "--owner", "agent-a", "--intent", "round per line", "--json"))
    other = lease("renew", "L1", "--owner", "agent-b")
    assert other.returncode == 1
    assert other.stderr == "semlease: error: cannot renew L1: it is held by 'agent-a', not by 'agent-b'\n"
    renewed = _json(lease("renew", "L1", "--owner", "agent-a", "--ttl", "2h", "--json"))
    assert renewed["changed"] is True and renewed["lease"]["ttl_seconds"] == 1800.0
    assert renewed["message"] == f"renewed L1 until {renewed['lease']['expires_at']}"

    listed = _json(lease("leases", "--json"))
    assert [(x["id"], x["state"], x["owner"], x["waiting_for"]) for x in listed["leases"]] == [
        ("L1", "active", "agent-a", [])]
    table = lease("leases")
    assert table.stdout.splitlines()[0].split() == ["ID", "STATE", "OWNER", "MODE", "TOKEN", "EXPIRES", "REGION"]
    assert table.stdout.splitlines()[1].split()[:5] == ["L1", "active", "agent-a", "implement", "1"]

    done = lease("release", "L1", "--owner", "agent-a")
    assert (done.returncode, done.stdout) == (0, "released L1 (export compute_tax)\n")
    again = lease("release", "L1", "--owner", "agent-a")
    assert again.returncode == 0 and again.stdout.startswith("nothing to do: L1 is already released since ")
    assert lease("leases").stdout == "no active leases\n"
    everything = _json(lease("leases", "--all", "--json"))
    assert [(x["id"], x["state"]) for x in everything["leases"]] == [("L1", "released")]
    history = lease("leases", "--all").stdout.splitlines()
    assert history[0].split() == ["ID", "STATE", "OWNER", "MODE", "TOKEN", "EXPIRES", "ENDED", "REGION"]
    ended = everything["leases"][0]
    assert history[1].split() == ["L1", "released", "agent-a", "implement", "1", ended["expires_at"],
                                  ended["ended_at"], "export", "compute_tax"]

    shown = _json(lease("show", "L1", "--json"))
    assert [e["kind"] for e in shown["history"]] == ["requested", "granted", "renewed", "released"]
    assert shown["state"] == "released" and ISO.match(shown["ended_at"])
    assert {"node": "src/billing/tax.py::compute_tax", "path": "src/billing/tax.py", "action": "write:implement",
            "whole_file": False} in shown["claims"]
    late = lease("renew", "L1", "--owner", "agent-a")
    assert late.returncode == 1
    assert late.stderr.startswith("semlease: error: L1 cannot be renewed: it is released since ")


def test_a_behaviour_from_pyproject(make_git_repo, tmp_path: Path) -> None:
    root = make_git_repo(tmp_path / "repo", {
        "pyproject.toml": '[tool.semlease.regions]\npaying = ["export pay", "file tests/test_pay.py"]\n',
        "app/__init__.py": "", "app/pay.py": "def pay(amount):\n    return amount\n",
        "app/refund.py": "def refund(amount):\n    return -amount\n",
        "tests/test_pay.py": "from app.pay import pay\n\n\ndef test_pay():\n    assert pay(1) == 1\n"})
    env = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}
    listed = run_cli("list", "behavior", "--repo", str(root), env=env)
    assert listed.stdout.split() == ["behavior", "paying", "=", "export", "pay;", "file", "tests/test_pay.py"]
    resolved = json.loads(run_cli("resolve", "behavior paying", "--json", "--repo", str(root), env=env).stdout)
    assert [e["id"] for e in resolved["footprint"]["definition"]] == ["app/pay.py::pay", "tests/test_pay.py"]
    granted = run_cli("acquire", "behavior paying", "--owner", "a", "--intent", "x", "--repo", str(root), env=env)
    assert granted.returncode == 0, describe(granted)
    refused = run_cli("acquire", "test tests/test_pay.py::test_pay", "--owner", "b", "--intent", "fix it",
                      "--repo", str(root), "--json", env=env)
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["overlaps"][0]["region"] == "behavior paying"
    unknown = run_cli("acquire", "behavior shipping", "--owner", "b", "--intent", "x", "--repo", str(root), env=env)
    assert unknown.returncode == 2
    assert unknown.stderr == "semlease: error: no behaviour named 'shipping'; configured: paying\n"


def test_worktrees_share_the_default_store(make_git_repo, tmp_path: Path) -> None:
    root = make_git_repo(tmp_path / "main", {"a.py": "def f():\n    return 1\n\n\ndef g():\n    return 2\n"})
    subprocess.run(["git", "-C", str(root), "worktree", "add", "--quiet", str(tmp_path / "wt"), "-b", "wt"],
                   check=True, env=cli_env())
    env = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}
    got = run_cli("acquire", "export f", "--owner", "main-agent", "--intent", "x", cwd=root, env=env)
    assert got.returncode == 0, describe(got)
    assert (root / ".git" / "semlease" / "leases.db").is_file()
    seen = json.loads(run_cli("leases", "--json", cwd=tmp_path / "wt", env=env).stdout)
    assert [(x["id"], x["owner"]) for x in seen["leases"]] == [("L1", "main-agent")]
    refused = run_cli("acquire", "export f", "--owner", "wt-agent", "--intent", "rename f", cwd=tmp_path / "wt",
                      env=env)
    assert refused.returncode == 1
    assert run_cli("acquire", "export g", "--owner", "wt-agent", "--intent", "x", cwd=tmp_path / "wt",
                   env=env).returncode == 0


def test_semlease_store_variable_and_a_folder_outside_git(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.py").write_text("def f():\n    return 1\n")
    env = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}
    assert run_cli("acquire", "export f", "--owner", "a", "--intent", "x", cwd=folder, env=env).returncode == 0
    assert (folder / ".semlease" / "leases.db").is_file()
    other = tmp_path / "elsewhere.db"
    env["SEMLEASE_STORE"] = f"sqlite:///{other}"
    refused = run_cli("leases", "--json", cwd=folder, env=env)  # named, but never made: refused, not made
    assert refused.returncode == 2 and not other.exists(), describe(refused)
    assert json.loads(refused.stdout)["error"].startswith(f"no lease store at {other} (from SEMLEASE_STORE)")
    assert run_cli("acquire", "export f", "--owner", "b", "--intent", "x", cwd=folder, env=env).returncode == 0
    listed = json.loads(run_cli("leases", "--json", cwd=folder, env=env).stdout)
    assert [lease["owner"] for lease in listed["leases"]] == ["b"] and other.is_file()


def test_wait_is_granted_when_the_holder_releases(lease, shop: ShopRepo) -> None:
    _json(lease("acquire", "export create_invoice", "--owner", "agent-a", "--intent", "x", "--json"))
    waiter = subprocess.Popen(
        [sys.executable, "-m", "semlease", "acquire", "export create_invoice", "--owner", "agent-b", "--intent",
         "change the signature", "--wait", "60s", "--json", "--repo", str(shop.root), "--store",
         f"sqlite:///{lease.store_path}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli_env(**shop.env))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the waiter shows in the queue
        queue = _json(lease("leases", "--json"))["leases"]
        if len(queue) == 2:
            break
        time.sleep(0.2)
    assert [(x["id"], x["state"], x["waiting_for"]) for x in queue] == [("L1", "active", []),
                                                                       ("L2", "waiting", ["L1"])]
    assert lease("leases").stdout.splitlines()[2].endswith("export create_invoice  (waiting for L1 agent-a)")
    assert lease("release", "L1", "--owner", "agent-a").returncode == 0
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, err
    decision = json.loads(out)
    assert decision["granted"] is True and decision["lease"]["id"] == "L2" and decision["lease"]["token"] == 2
    assert err == "semlease: L2 queued behind agent-a's L1 for up to 1m\n"


def test_a_wait_that_runs_out_exits_1(lease) -> None:
    _json(lease("acquire", "export create_invoice", "--owner", "agent-a", "--intent", "x", "--json"))
    ran_out = lease("acquire", "export create_invoice", "--owner", "agent-b", "--intent", "x", "--wait", "1s",
                    "--json")
    decision = _json(ran_out, code=1)
    assert decision["granted"] is False and decision["lease"]["state"] == "refused"
    shown = _json(lease("show", "L2", "--json"))
    assert [e["kind"] for e in shown["history"]] == ["requested", "queued", "refused"]
    assert shown["history"][-1]["detail"] == {"reason": "the wait of 1s ran out"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("acquire", "export create_invoice", "--owner", "a", "--intent", "x", "--ttl", "0"),
         "--ttl '0' must be longer than zero"),
        (("acquire", "export create_invoice", "--owner", "a", "--intent", "x", "--ttl", "soon"),
         "--ttl 'soon' is not a duration: expected e.g. 30m, 1h30m, 90s, 2d"),
        (("acquire", "export create_invoice", "--owner", "a", "--intent", "x", "--wait", "0s"),
         "--wait '0s' must be longer than zero"),
        (("acquire", "export create_invoice", "--owner", "a", "--intent", "x", "--mode", "write"),
         "unknown mode 'write': expected one of observe, test, extend, implement, contract, rename"),
        (("acquire", "export no_such_thing", "--owner", "a", "--intent", "x"),
         "nothing matches 'export no_such_thing'"),
        (("acquire", "export create_invoice", "--owner", "", "--intent", "x"),
         "--owner must name who holds the lease (e.g. --owner worker-17)"),
        (("acquire", "export create_invoice", "--owner", "a", "--intent", "x", "--scope", "../outside"),
         "--scope '../outside' leaves the repository ('..')"),
        (("acquire", "export create_invoice", "--intent", "x"), "Missing option '--owner'"),
        (("acquire", "export create_invoice", "--owner", "a", "--intent", " "),
         "--intent must say what the work is (e.g. --intent 'fix rounding in totals')"),
        (("renew", "L99", "--owner", "a"), "no lease L99 in this store"),
        (("release", "seven", "--owner", "a"), "not a lease id: 'seven' (expected e.g. L17)"),
        (("show", "L0"), "not a lease id: 'L0' (expected e.g. L17)"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_stores_nothing(lease, args: tuple[str, ...], message: str) -> None:
    SqliteLeaseStore(lease.store_path).close()  # an empty store (a store named but missing is refused first)
    result = lease(*args)
    assert result.returncode == 2, describe(result)
    assert result.stderr.startswith(f"semlease: error: {message}"), result.stderr
    assert len(result.stderr.splitlines()) == 1
    listed = _json(lease("leases", "--all", "--json"))
    assert listed["leases"] == []


def test_a_damaged_store_is_refused_and_left_alone(shop: ShopRepo, tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    junk = b"garbage" * 1000
    path.write_bytes(junk)
    result = shop.run("acquire", "export create_invoice", "--owner", "a", "--intent", "x",
                      "--store", f"sqlite:///{path}")
    assert result.returncode == 2
    assert result.stderr.startswith(f"semlease: error: lease store {path} is damaged or not a SQLite file")
    assert path.read_bytes() == junk
    blocked = shop.run("acquire", "export create_invoice", "--owner", "a", "--intent", "x",
                       "--store", f"sqlite:///{path}/sub/leases.db")
    assert blocked.returncode == 2
    assert blocked.stderr == f"semlease: error: cannot create the lease store folder {path}/sub: Not a directory\n"
    pg = shop.run("leases", "--store", "postgresql://localhost/test")
    assert (pg.returncode, pg.stderr) == (2, "semlease: error: PostgreSQL lease stores are not supported yet; "
                                             "use sqlite:///PATH\n")


@pytest.mark.parametrize("command", [("leases",), ("show", "L1"), ("release", "L1", "--owner", "a"), ("admissions",)])
def test_a_store_named_that_does_not_exist_is_refused_and_not_made(shop: ShopRepo, tmp_path: Path,
                                                                  command: tuple[str, ...]) -> None:
    missing = tmp_path / "no-such-folder" / "leases.db"
    result = run_cli(*command, "--store", f"sqlite:///{missing}", repo=shop.root, cwd=tmp_path)
    assert result.returncode == 2, describe(result)
    assert result.stderr == (f"semlease: error: no lease store at {missing} (from --store): check the path; "
                             "a store is made by the first acquire\n")
    assert not missing.parent.exists()
