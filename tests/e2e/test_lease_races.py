"""Many processes on one SQLite store: conflicting acquires race and exactly one wins, every round; fencing
tokens stay unique and growing across processes. Real processes, real file locks, no mocks."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from semlease.adapters.sqlite_store import SqliteLeaseStore
from semlease.domain.graph import SymbolGraph
from semlease.domain.leases import choose_mode
from semlease.domain.regions import parse_region
from semlease.languages.python.extract import extract_python
from semlease.languages.python.link import link_python
from semlease.services.coordinator import AcquireRequest, Coordinator
from semlease.services.resolve import Resolver
from semlease.services.scoping import LeasePlan, RegionResolver

from .shop_cli import ShopRepo, cli_env

SOURCE = {f"pkg/mod{i}.py": f"def f{i}():\n    return {i}\n" for i in range(8)}
SOURCE["pkg/__init__.py"] = ""
PROCESSES = 6
ROUNDS = 40
_CTX = multiprocessing.get_context("fork")


def _plans() -> dict[str, LeasePlan]:
    graph = SymbolGraph()
    link_python({p: extract_python(p, s.encode()) for p, s in SOURCE.items()}, graph)
    regions = RegionResolver(Resolver(graph))
    return {f"export f{i}": regions.plan(parse_region(f"export f{i}"), "implement") for i in range(8)}


def _request(owner: str, region: str) -> AcquireRequest:
    return AcquireRequest(owner=owner, region=region, intent="race", mode=choose_mode("implement", ""),
                          ttl=timedelta(minutes=5))


def _racer(path: str, plan: LeasePlan, owner: str, barrier, results) -> None:
    with SqliteLeaseStore(path, busy_timeout=60) as store:
        coordinator = Coordinator(store)
        for round_no in range(ROUNDS):
            barrier.wait()
            decision = coordinator.acquire(_request(owner, "export f0"), plan)
            results.put((round_no, owner, decision.granted, decision.lease.token))
            barrier.wait()  # everyone has decided
            if decision.granted:
                coordinator.release(decision.lease.id, owner)
            barrier.wait()  # the winner has released


def test_conflicting_acquires_race_and_exactly_one_wins_each_round(tmp_path: Path) -> None:
    path = str(tmp_path / "leases.db")
    SqliteLeaseStore(path).close()
    plan = _plans()["export f0"]
    barrier, results = _CTX.Barrier(PROCESSES), _CTX.Queue()
    workers = [_CTX.Process(target=_racer, args=(path, plan, f"agent-{n}", barrier, results))
               for n in range(PROCESSES)]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=120) for _ in range(PROCESSES * ROUNDS)]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    for round_no in range(ROUNDS):
        winners = [o for o in outcomes if o[0] == round_no and o[2]]
        assert len(winners) == 1, f"round {round_no}: {winners}"
    tokens = sorted(o[3] for o in outcomes if o[2])
    assert tokens == list(range(1, ROUNDS + 1))
    with SqliteLeaseStore(path) as store, store.transaction(write=False) as tx:
        states = [lease.state for lease in tx.leases()]
        assert states.count("released") == ROUNDS
        assert states.count("refused") == ROUNDS * (PROCESSES - 1)
        assert len(tx.history()) == ROUNDS * PROCESSES * 2 + ROUNDS  # requested + decided, + each release


def _taker(path: str, plans: dict[str, LeasePlan], n: int, count: int, results) -> None:
    region = f"export f{n}"
    with SqliteLeaseStore(path, busy_timeout=60) as store:
        coordinator = Coordinator(store)
        tokens = []
        for _ in range(count):
            decision = coordinator.acquire(_request(f"agent-{n}", region), plans[region])
            assert decision.granted
            tokens.append(decision.lease.token)
            coordinator.release(decision.lease.id, f"agent-{n}")
        results.put(tokens)


def test_tokens_are_unique_and_growing_across_processes_and_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "leases.db")
    plans = _plans()
    issued: list[int] = []
    for batch in range(2):  # the second batch reopens the store: the counter carries on
        results = _CTX.Queue()
        workers = [_CTX.Process(target=_taker, args=(path, plans, n, 25, results)) for n in range(4)]
        for w in workers:
            w.start()
        per_process = [results.get(timeout=120) for _ in workers]
        for w in workers:
            w.join(timeout=60)
            assert w.exitcode == 0
        for tokens in per_process:
            assert tokens == sorted(tokens) and len(set(tokens)) == len(tokens)
        flat = sorted(t for tokens in per_process for t in tokens)
        assert flat == list(range(batch * 100 + 1, batch * 100 + 101))
        issued += flat
    assert issued == list(range(1, 201))


def test_racing_from_the_command_line(shop: ShopRepo, tmp_path: Path) -> None:
    """The same race through `semlease acquire` processes started together."""
    store = f"sqlite:///{tmp_path / 'leases.db'}"
    for round_no in range(3):
        procs = [subprocess.Popen(
            [sys.executable, "-m", "semlease", "acquire", "export create_invoice", "--owner", f"cli-{n}",
             "--intent", "change the signature", "--repo", str(shop.root), "--store", store, "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(**shop.env))
            for n in range(4)]
        outputs = [(p.communicate(timeout=120)[0], p.returncode) for p in procs]
        assert sorted(code for _, code in outputs) == [0, 1, 1, 1], f"round {round_no}: {outputs}"
        decisions = [json.loads(out) for out, _ in outputs]
        (winner,) = [d for d in decisions if d["granted"]]
        for loser in (d for d in decisions if not d["granted"]):
            assert [o["lease_id"] for o in loser["overlaps"] if o["class"] == "conflict"] == [winner["lease"]["id"]]
        released = shop.run("release", winner["lease"]["id"], "--owner", winner["lease"]["owner"], "--store", store)
        assert released.returncode == 0, released.stderr


def _opener(path: str, barrier, results) -> None:
    barrier.wait()
    try:
        with SqliteLeaseStore(path, busy_timeout=30) as store:
            results.put(store.schema_version())
    except Exception as error:  # reported, so the test names it
        results.put(f"{type(error).__name__}: {error}")


def test_processes_creating_one_new_store_at_once_all_open_it(tmp_path: Path) -> None:
    # Switching a new file to WAL needs it alone (SQLite says "locked" at once, without waiting), and a
    # process reading the store's header while another creates it must see all of it or none of it.
    for round_no in range(25):
        path = str(tmp_path / f"leases-{round_no}.db")
        barrier, results = _CTX.Barrier(PROCESSES), _CTX.Queue()
        workers = [_CTX.Process(target=_opener, args=(path, barrier, results)) for _ in range(PROCESSES)]
        for w in workers:
            w.start()
        got = [results.get(timeout=120) for _ in workers]
        for w in workers:
            w.join(timeout=60)
        assert got == [4] * PROCESSES, f"round {round_no}: {got}"
