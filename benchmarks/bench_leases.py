#!/usr/bin/env python3
"""The lease coordinator under load: acquire+release with many active leases, in process and from the shell.

    python benchmarks/bench_leases.py [--active 1000] [--cycles 500] [--cli 20] [--out benchmarks/results]

In process, on a SQLite store in a temporary folder:
  latency      acquire then release of one lease while ACTIVE others are held (p50/p99), and throughput
  growth       the p50 of one acquire as the number of active leases and the size of footprints grow
From the shell: `semlease acquire` then `semlease release` on the sample repository (fixtures/shop), with
ACTIVE leases held in its store (p50/max over N cycles, start-up included).

Leases are made of synthetic claims (see Leases): each holds FOOTPRINT nodes, a tenth of them written (its
definition) and the rest relied on (dependencies, dependents), so the overlap join of each acquire meets
held leases and has real work, and every request is granted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from semlease.adapters.sqlite_store import SqliteLeaseStore  # noqa: E402
from semlease.domain import policy as P  # noqa: E402
from semlease.domain.footprint import Entry, Footprint  # noqa: E402
from semlease.domain.leases import Claim, Scope, choose_mode  # noqa: E402
from semlease.services.coordinator import AcquireRequest, Coordinator  # noqa: E402
from semlease.services.scoping import LeasePlan  # noqa: E402

POOL = 200_000  # node ids leases are drawn from


class Leases:
    """Synthetic lease plans. Each writes a tenth of its footprint in nodes of its own (leases held at once
    write different things, or they would conflict) and relies on the rest, drawn from a shared pool and
    from what the others write: the overlap join finds real matches (compatible ones: relying on what
    another lease writes), and every request is granted."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.written = 0  # written node ids so far (numbered after the pool)

    def plan(self, size: int, mode: str = "implement") -> LeasePlan:
        own = max(1, size // 10)
        written = [POOL + self.written + i for i in range(own)]
        self.written += own
        relied = self.rng.sample(range(POOL + self.written), size - own)
        claims, entries = [], []
        for n, action in [(n, P.write(mode)) for n in written] + [(n, P.RELY) for n in relied]:
            path = f"pkg/mod{n % 5000}.py"
            node = f"{path}::f{n}"
            claims.append(Claim(node=node, path=path, action=action))
            entries.append(Entry(id=node, kind="function", path=path, start_line=1, end_line=2))
        footprint = Footprint(region=f"symbol {claims[0].node}", kind="symbol", head=None,
                              footprint={"definition": tuple(entries[:own]), "contract": (),
                                         "dependencies": tuple(entries[own:]), "dependents": (), "tests": (),
                                         "fixtures": ()})
        unique = {c.node: c for c in claims}  # a node drawn twice is claimed once
        return LeasePlan(mode=mode, footprint=footprint, claims=tuple(unique.values()),
                         scope=Scope(nodes=tuple(c.node for c in claims[:own])))


def request(owner: str, region: str) -> AcquireRequest:
    return AcquireRequest(owner=owner, region=region, intent="bench", mode=choose_mode("implement", ""),
                          ttl=timedelta(hours=2))


def populate(coordinator: Coordinator, leases: Leases, active: int, size: int) -> None:
    for held in range(active):
        p = leases.plan(size)
        decision = coordinator.acquire(request(f"holder-{held}", p.footprint.region), p)
        assert decision.granted, decision.overlaps


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def in_process(active: int, size: int, cycles: int, seed: int = 7) -> dict:
    leases = Leases(seed)
    with tempfile.TemporaryDirectory() as tmp, SqliteLeaseStore(Path(tmp) / "leases.db") as store:
        coordinator = Coordinator(store)
        t0 = time.perf_counter()
        populate(coordinator, leases, active, size)
        fill = time.perf_counter() - t0
        acquire, release, total, met = [], [], [], []
        granted = 0
        started = time.perf_counter()
        for i in range(cycles):
            p = leases.plan(size)
            a0 = time.perf_counter()
            decision = coordinator.acquire(request(f"worker-{i}", p.footprint.region), p)
            a1 = time.perf_counter()
            if decision.granted:
                granted += 1
                coordinator.release(decision.lease.id, f"worker-{i}")
            r1 = time.perf_counter()
            acquire.append(a1 - a0)
            release.append(r1 - a1)
            total.append(r1 - a0)
            met.append(len(decision.overlaps))
        elapsed = time.perf_counter() - started
    return {"active": active, "footprint": size, "cycles": cycles, "granted": granted,
            "fill_s": round(fill, 2), "overlaps_met_p50": pct(met, 0.5),
            "acquire_p50_ms": round(pct(acquire, 0.5) * 1000, 2), "acquire_p99_ms": round(pct(acquire, 0.99) * 1000, 2),
            "release_p50_ms": round(pct(release, 0.5) * 1000, 2),
            "cycle_p50_ms": round(pct(total, 0.5) * 1000, 2), "cycle_p99_ms": round(pct(total, 0.99) * 1000, 2),
            "cycles_per_s": round(cycles / elapsed, 1)}


def from_the_shell(active: int, cycles: int, seed: int = 7) -> dict:
    """`semlease acquire` + `semlease release` on a git copy of fixtures/shop with ``active`` leases held."""
    leases = Leases(seed)
    with tempfile.TemporaryDirectory() as tmp:
        shop = Path(tmp) / "shop"
        shutil.copytree(HERE.parent / "fixtures" / "shop", shop,
                        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b",
                   GIT_COMMITTER_EMAIL="b@b")
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "shop"]):
            subprocess.run(["git", "-C", str(shop), *args], check=True, env=env, capture_output=True)
        store_path = Path(tmp) / "leases.db"
        with SqliteLeaseStore(store_path) as store:
            populate(Coordinator(store), leases, active, 100)
        cli = [sys.executable, "-m", "semlease"]
        at = ["--repo", str(shop), "--store", f"sqlite:///{store_path}"]
        subprocess.run(cli + ["index", *at[:2], "--quiet"], check=True, capture_output=True)
        acquire, release = [], []
        for i in range(cycles):
            t0 = time.perf_counter()
            out = subprocess.run(cli + ["acquire", "export create_invoice", "--owner", f"cli-{i}", "--intent",
                                        "bench", "--json", *at], capture_output=True, text=True)
            t1 = time.perf_counter()
            lease = json.loads(out.stdout)["lease"]["id"]
            subprocess.run(cli + ["release", lease, "--owner", f"cli-{i}", *at], check=True, capture_output=True)
            t2 = time.perf_counter()
            acquire.append(t1 - t0)
            release.append(t2 - t1)
        startup = min(_time([sys.executable, "-c", "pass"]) for _ in range(5))
    return {"active": active, "cycles": cycles, "acquire_p50_s": round(pct(acquire, 0.5), 3),
            "acquire_max_s": round(max(acquire), 3), "release_p50_s": round(pct(release, 0.5), 3),
            "release_max_s": round(max(release), 3), "python_startup_s": round(startup, 3)}


def _time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--active", type=int, default=1000)
    ap.add_argument("--cycles", type=int, default=500)
    ap.add_argument("--cli", type=int, default=20)
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args()
    results: dict = {"latency": [], "growth": [], "shell": None}
    for size in (10, 100):
        row = in_process(args.active, size, args.cycles)
        results["latency"].append(row)
        print("latency", row, flush=True)
    for active in (0, 100, 1000, 5000):
        for size in (10, 100, 1000):
            if active * size > 2_000_000:
                continue
            row = in_process(active, size, cycles=100)
            results["growth"].append(row)
            print("growth", {k: row[k] for k in ("active", "footprint", "acquire_p50_ms", "acquire_p99_ms",
                                                 "overlaps_met_p50")}, flush=True)
    results["shell"] = from_the_shell(args.active, args.cli)
    print("shell", results["shell"], flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (out / f"leases-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out / f'leases-{stamp}.json'}")


if __name__ == "__main__":
    main()
