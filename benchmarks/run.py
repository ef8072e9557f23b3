#!/usr/bin/env python3
"""Index and resolve benchmarks on real corpora, each next to a bare tree-sitter parse of the same files.

    python benchmarks/run.py [--corpus stdlib|self|PATH]... [--regions 30] [--out benchmarks/results]

Corpora: `stdlib` copies CPython's standard library of the running interpreter (site-packages excluded)
into benchmarks/corpora/stdlib as a git repository, once; `self` is this project's own repository; any
other value is a path to a folder. For each corpus, in one run:

  bare parse      tree-sitter parse of exactly the files the index holds, one process (wall and CPU)
  cold index      `semlease index --force` from the shell (wall; CPU of the process and its workers)
  warm no-op      `semlease index` again, nothing changed
  one-file edit   append a function to one file, `semlease index`, then restore it
  resolve/radius  `semlease resolve/radius REGION --json` from the shell, over N sampled regions

Machines here are shared and noisy: compare the ratios (measured in the same run) before the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SEMLEASE = [sys.executable, "-m", "semlease"]
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@localhost",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@localhost")


def stdlib_corpus() -> Path:
    target = HERE / "corpora" / "stdlib"
    if (target / ".git").exists():
        return target
    src = Path(sysconfig.get_paths()["stdlib"])
    tmp = target.with_name("stdlib.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for path in src.rglob("*.py"):
        rel = path.relative_to(src)
        if rel.parts[0] in ("site-packages", "__pycache__") or "__pycache__" in rel.parts:
            continue
        dest = tmp / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    subprocess.run(["git", "init", "-q", str(tmp)], check=True, env=GIT_ENV)
    subprocess.run(["git", "-C", str(tmp), "add", "-A"], check=True, env=GIT_ENV)
    subprocess.run(["git", "-C", str(tmp), "commit", "-qm", "stdlib"], check=True, env=GIT_ENV)
    tmp.rename(target)
    return target


def run(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds of the child and its own children, and the result."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
    return wall, cpu, proc


def bare_parse(root: Path, paths: list[str]) -> tuple[float, float, int]:
    """Parse every file with tree-sitter alone: the floor any index built on it stands on."""
    from tree_sitter_language_pack import get_parser

    parser = get_parser("python")
    total = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for p in paths:
        data = (root / p).read_bytes()
        total += len(data)
        parser.parse(data)
    return time.perf_counter() - t0, time.process_time() - c0, total


def indexed_files(root: Path) -> tuple[list[str], Path]:
    proc = subprocess.run(SEMLEASE + ["index", "--repo", str(root), "--json", "--quiet"],
                          capture_output=True, text=True, check=True)
    db = Path(json.loads(proc.stdout)["index"])
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT path FROM files ORDER BY path")], db


def sample_regions(db: Path, n: int, seed: int = 7) -> list[str]:
    """Unambiguous exports that have at least one dependent, so resolve does real work."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("""
            SELECT n.name FROM nodes n
            WHERE n.kind IN ('function','class') AND n.parent = n.path AND n.name NOT LIKE '\\_%' ESCAPE '\\'
              AND EXISTS (SELECT 1 FROM edges e WHERE e.dst = n.id AND e.kind IN ('calls','references'))
              AND (SELECT count(*) FROM nodes m WHERE m.name = n.name AND m.parent = m.path
                   AND m.kind IN ('function','class','constant')) = 1
            ORDER BY n.name""").fetchall()
    names = [r[0] for r in rows]
    random.Random(seed).shuffle(names)
    return [f"export {name}" for name in names[:n]]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[k]


def bench(name: str, root: Path, n_regions: int) -> dict:
    print(f"== {name}: {root}", flush=True)
    cold_wall, cold_cpu, proc = run(SEMLEASE + ["index", "--repo", str(root), "--force", "--json", "--quiet"])
    cold = json.loads(proc.stdout)
    paths, db = indexed_files(root)
    parse_wall, parse_cpu, size = bare_parse(root, paths)
    warm_wall, _, _ = run(SEMLEASE + ["index", "--repo", str(root), "--quiet"])
    # one-file edit: a new function in a mid-sized file, then put it back
    victim = root / sorted(paths, key=lambda p: (root / p).stat().st_size)[len(paths) // 2]
    original = victim.read_bytes()
    try:
        victim.write_bytes(original + b"\n\ndef _semlease_bench_added():\n    return 1\n")
        edit_wall, _, _ = run(SEMLEASE + ["index", "--repo", str(root), "--quiet"])
    finally:
        victim.write_bytes(original)
        os.utime(victim)
    run(SEMLEASE + ["index", "--repo", str(root), "--quiet"])
    regions = sample_regions(db, n_regions)
    resolve_times, radius_times = [], []
    for region in regions:
        w, _, _ = run(SEMLEASE + ["resolve", region, "--repo", str(root), "--json"])
        resolve_times.append(w)
        w, _, _ = run(SEMLEASE + ["radius", region, "--repo", str(root), "--json", "--depth", "3"])
        radius_times.append(w)
    startup, _, _ = run([sys.executable, "-c", "pass"])
    result = {
        "corpus": name, "files": len(paths), "megabytes": round(size / 1e6, 1),
        "nodes": cold["counts"].get("nodes"), "edges": cold["counts"].get("edges"),
        "unresolved": cold["counts"].get("unresolved"),
        "bare_parse_wall_s": round(parse_wall, 2), "bare_parse_cpu_s": round(parse_cpu, 2),
        "cold_index_wall_s": round(cold_wall, 2), "cold_index_cpu_s": round(cold_cpu, 2),
        "cold_wall_over_parse": round(cold_wall / parse_wall, 2),
        "cold_cpu_over_parse": round(cold_cpu / parse_cpu, 2),
        "warm_noop_s": round(warm_wall, 3), "one_file_edit_s": round(edit_wall, 3),
        "regions": len(regions),
        "resolve_p50_s": round(pct(resolve_times, 0.5), 3), "resolve_max_s": round(max(resolve_times), 3),
        "radius_p50_s": round(pct(radius_times, 0.5), 3), "radius_max_s": round(max(radius_times), 3),
        "python_startup_s": round(startup, 3),
    }
    for k, v in result.items():
        print(f"  {k:24} {v}")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", action="append", help="stdlib, self, or a path (repeatable)")
    ap.add_argument("--regions", type=int, default=30)
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args()
    results = []
    for corpus in args.corpus or ["stdlib", "self"]:
        if corpus == "stdlib":
            results.append(bench("stdlib", stdlib_corpus(), args.regions))
        elif corpus == "self":
            results.append(bench("semlease", REPO, args.regions))
        else:
            results.append(bench(Path(corpus).name, Path(corpus).resolve(), args.regions))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (out / f"index-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out / f'index-{stamp}.json'}")


if __name__ == "__main__":
    main()
