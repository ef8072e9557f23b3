#!/usr/bin/env python3
"""Index, refresh and resolve benchmarks on real corpora, each next to a bare tree-sitter parse of the same
files measured in the same run, and next to grimp's import graph and Universal Ctags.

    python benchmarks/run.py [--corpus stdlib|django|self|PATH]... [--regions 200] [--edits 10] [--shell 10]

Corpora: `stdlib` copies CPython's standard library of the running interpreter (site-packages excluded)
into benchmarks/corpora/stdlib; `django` unpacks Django's wheel from PyPI into benchmarks/corpora/django;
both become git repositories once (benchmarks/corpora/ is ignored by git). `self` is this repository; any
other value is a folder. For each corpus:

  bare parse       tree-sitter parse of exactly the files the index holds, in this process (wall, CPU)
  cold index       `semlease index` from the shell with no index and no extraction cache: wall, CPU of the
                   process and its workers, peak memory (the largest resident set among them)
  warm no-op       `semlease index` again, nothing changed: from the shell, and in a running process
  one-file edit    in a running process: a statement added to a function body of one file (the file
                   alone is relinked), and a function added (its readers are relinked), over N files
  second worktree  `git worktree add`, then `semlease index` there from the shell (seeded from the first)
  resolve, radius  footprint and blast radius (depth 3) of sampled exports, in a running process (p50/p99)
                   and from the shell (p50, start-up included)
  grimp            grimp.build_graph of the corpus's top-level packages, no cache (imports only)
  ctags            `ctags -R --languages=Python` (definitions only), when Universal Ctags is installed

Machines here are shared and noisy: compare the ratios (measured in the same run) before the seconds.
Results go to benchmarks/results/index-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))
SEMLEASE = [sys.executable, "-m", "semlease"]
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@localhost",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@localhost")
# Commands run as a user's would: with their bytecode cached (some shells set PYTHONDONTWRITEBYTECODE,
# which makes every start-up compile semlease again).
CLI_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
DJANGO = "django==5.2.8"


# ---------------------------------------------------------------------------------------------- corpora
def _as_git_repo(tmp: Path, target: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp)], check=True, env=GIT_ENV)
    subprocess.run(["git", "-C", str(tmp), "add", "-A"], check=True, env=GIT_ENV)
    subprocess.run(["git", "-C", str(tmp), "commit", "-qm", target.name], check=True, env=GIT_ENV)
    tmp.rename(target)
    return target


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
    return _as_git_repo(tmp, target)


def django_corpus() -> Path:
    """Django's own sources, from its wheel on PyPI (the one download this benchmark makes)."""
    target = HERE / "corpora" / "django"
    if (target / ".git").exists():
        return target
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                        "-d", d, DJANGO], check=True)
        (wheel,) = Path(d).glob("*.whl")
        tmp = target.with_name("django.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                if name.startswith("django/"):
                    z.extract(name, tmp)
    return _as_git_repo(tmp, target)


# ---------------------------------------------------------------------------------------------- helpers
def measured(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds and peak resident KB (read from wait4: the process and every child it waited
    for), and stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=CLI_ENV)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status:
        raise SystemExit(f"{' '.join(cmd)} failed ({status}): {err.decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out.decode()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def bare_parse(root: Path, paths: list[str]) -> tuple[float, float, int]:
    from tree_sitter_language_pack import get_parser

    parser = get_parser("python")
    total = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for p in paths:
        data = (root / p).read_bytes()
        total += len(data)
        parser.parse(data)
    return time.perf_counter() - t0, time.process_time() - c0, total


def forget(root: Path) -> None:
    """No index and no extraction cache: a cold start (a lease store there is left alone)."""
    for folder in (root / ".git" / "semlease", root / ".semlease"):
        for pattern in ("index*.db*", "facts.db*"):
            for path in folder.glob(pattern):
                path.unlink()


_BODY = re.compile(rb"^(    +)return ", re.M)


def edit_files(root: Path, paths: list[str], n: int, seed: int) -> list[Path]:
    """Files with a `return` in a function body and no syntax trouble, chosen at random."""
    rng = random.Random(seed)
    candidates = [root / p for p in paths if (root / p).stat().st_size < 100_000]
    rng.shuffle(candidates)
    return [p for p in candidates if _BODY.search(p.read_bytes())][:n]


# ---------------------------------------------------------------------------------------------- the run
def bench(name: str, root: Path, n_regions: int, n_edits: int, n_shell: int) -> dict:
    from semlease.adapters.index_store import IndexStore
    from semlease.domain.regions import parse_region
    from semlease.services.indexer import build_index
    from semlease.services.resolve import Resolver

    print(f"== {name}: {root}", flush=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], env=CLI_ENV, check=True)
    forget(root)
    cold_wall, cold_cpu, cold_kb, out = measured(SEMLEASE + ["index", "--repo", str(root), "--json", "--quiet"])
    cold = json.loads(out)
    with IndexStore.open(Path(cold["index"])) as store:
        paths = sorted(store.file_states())
    parse_wall, parse_cpu, size = bare_parse(root, paths)

    warm_shell = [measured(SEMLEASE + ["index", "--repo", str(root), "--quiet"])[0] for _ in range(5)]
    build_index(root, with_counts=False)
    warm_in = []
    for _ in range(5):
        t0 = time.perf_counter()
        build_index(root, with_counts=False)
        warm_in.append(time.perf_counter() - t0)

    body, added, relinked, new_module, new_relinked = [], [], [], [], []
    for victim in edit_files(root, paths, n_edits, seed=11):
        original = victim.read_bytes()
        try:
            m = _BODY.search(original)
            victim.write_bytes(original[:m.start()] + m.group(1) + b"_bench = 1\n" + original[m.start():])
            t0 = time.perf_counter()
            report = build_index(root, with_counts=False)
            body.append(time.perf_counter() - t0)
            victim.write_bytes(original + b"\n\ndef _semlease_bench_added():\n    return 1\n")
            t0 = time.perf_counter()
            report = build_index(root, with_counts=False)
            added.append(time.perf_counter() - t0)
            relinked.append(report.relinked)
            # a new module beside it, importing from it (what an agent adding a file does)
            module = victim.stem if victim.name != "__init__.py" else victim.parent.name
            new_file = victim.with_name("semlease_bench_new.py")
            new_file.write_bytes(f"from . import {module}\n\n\ndef uses():\n    return {module}\n".encode()
                                 if victim.parent != root else f"import {module}\n".encode())
            t0 = time.perf_counter()
            report = build_index(root, with_counts=False)
            new_module.append(time.perf_counter() - t0)
            new_relinked.append(report.relinked)
        finally:
            victim.write_bytes(original)
            victim.with_name("semlease_bench_new.py").unlink(missing_ok=True)
            build_index(root, with_counts=False)
    victim = edit_files(root, paths, 1, seed=5)[0]
    original = victim.read_bytes()
    body_shell = []
    try:
        for i in range(5):
            m = _BODY.search(original)
            victim.write_bytes(original[:m.start()] + m.group(1) + f"_bench = {i}\n".encode() + original[m.start():])
            body_shell.append(measured(SEMLEASE + ["index", "--repo", str(root), "--quiet"])[0])
    finally:
        victim.write_bytes(original)
        build_index(root, with_counts=False)

    second = root.parent / f"{root.name}-worktree"
    shutil.rmtree(second, ignore_errors=True)
    subprocess.run(["git", "-C", str(root), "worktree", "prune"], check=True)
    subprocess.run(["git", "-C", str(root), "worktree", "add", "-q", "--detach", str(second)], check=True)
    try:
        worktree_wall = measured(SEMLEASE + ["index", "--repo", str(second), "--quiet"])[0]
    finally:
        subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(second)], check=True)

    with IndexStore.open(Path(cold["index"])) as store:
        regions = sample_regions(store.conn, n_regions)
        resolver = Resolver(store.graph())
        resolve_in, radius_in = [], []
        for region in regions:
            parsed = parse_region(region)
            t0 = time.perf_counter()
            resolver.footprint(parsed)
            t1 = time.perf_counter()
            resolver.radius(parsed, depth=3)
            t2 = time.perf_counter()
            resolve_in.append(t1 - t0)
            radius_in.append(t2 - t1)
    resolve_shell = [measured(SEMLEASE + ["resolve", r, "--repo", str(root), "--json"])[0]
                     for r in regions[:n_shell]]
    startup = min(measured([sys.executable, "-c", "pass"])[0] for _ in range(5))
    grimp_s = grimp_time(root)
    ctags_s = ctags_time(root)

    result = {
        "corpus": name, "files": len(paths), "megabytes": round(size / 1e6, 1),
        "nodes": cold["counts"].get("nodes"), "edges": cold["counts"].get("edges"),
        "unresolved": cold["counts"].get("unresolved"),
        "bare_parse_wall_s": round(parse_wall, 2), "bare_parse_cpu_s": round(parse_cpu, 2),
        "cold_wall_s": round(cold_wall, 2), "cold_cpu_s": round(cold_cpu, 2),
        "cold_wall_over_parse": round(cold_wall / parse_wall, 2),
        "cold_cpu_over_parse": round(cold_cpu / parse_cpu, 2),
        "cold_peak_mb": round(cold_kb / 1024), "cold_timings": cold.get("timings"),
        "warm_shell_p50_ms": ms(pct(warm_shell, 0.5)), "warm_in_process_p50_ms": ms(pct(warm_in, 0.5)),
        "warm_over_cold": round(pct(warm_shell, 0.5) / cold_wall, 4),
        "body_edit_p50_ms": ms(pct(body, 0.5)), "body_edit_max_ms": ms(max(body)),
        "added_function_p50_ms": ms(pct(added, 0.5)), "added_function_max_ms": ms(max(added)),
        "added_function_relinked_p50": pct([r for r in relinked if r is not None and r >= 0] or [0], 0.5),
        "new_module_p50_ms": ms(pct(new_module, 0.5)), "new_module_max_ms": ms(max(new_module)),
        "new_module_relinked": sorted(new_relinked, key=lambda r: (r is None, r or 0)),
        "body_edit_shell_p50_ms": ms(pct(body_shell, 0.5)),
        "second_worktree_shell_s": round(worktree_wall, 3),
        "regions": len(regions),
        "resolve_p50_ms": ms(pct(resolve_in, 0.5)), "resolve_p99_ms": ms(pct(resolve_in, 0.99)),
        "radius_p50_ms": ms(pct(radius_in, 0.5)), "radius_p99_ms": ms(pct(radius_in, 0.99)),
        "resolve_shell_p50_s": round(pct(resolve_shell, 0.5), 3),
        "python_startup_s": round(startup, 3),
        "grimp_s": grimp_s, "ctags_s": ctags_s,
    }
    for k, v in result.items():
        print(f"  {k:28} {v}", flush=True)
    return result


def sample_regions(conn, n: int, seed: int = 7) -> list[str]:
    """Unambiguous exports that have at least one dependent, so resolve does real work."""
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


def grimp_time(root: Path) -> dict | None:
    """grimp's import graph of the corpus's top-level packages, from a fresh process, without its cache.
    grimp refuses some packages (a syntax error anywhere in one, setuptools' distutils shim): those are
    left out and named."""
    try:
        import grimp  # noqa: F401
    except ImportError:
        return None
    packages = sorted(p.name for p in root.iterdir() if (p / "__init__.py").is_file() and p.name.isidentifier())
    if not packages:
        return None
    code = ("import sys, time, grimp\n"
            "names = sys.argv[1:]\nrefused = []\n"
            "for n in names:\n"
            "    try: grimp.build_graph(n, cache_dir=None)\n"
            "    except Exception as e: refused.append(n)\n"
            "kept = [n for n in names if n not in refused]\n"
            "t = time.perf_counter(); grimp.build_graph(*kept, cache_dir=None)\n"
            "print(time.perf_counter() - t, ','.join(refused))")
    env = dict(CLI_ENV, PYTHONPATH=str(root))
    proc = subprocess.run([sys.executable, "-c", code, *packages], capture_output=True, text=True, env=env,
                          cwd=root)
    if proc.returncode:
        print(f"  grimp failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    seconds, _, refused = proc.stdout.strip().partition(" ")
    files = sum(1 for n in packages if n not in refused.split(",") for _ in (root / n).rglob("*.py"))
    return {"seconds": round(float(seconds), 2), "packages": len(packages) - len([r for r in refused.split(",") if r]),
            "files": files, "refused": [r for r in refused.split(",") if r]}


def ctags_time(root: Path) -> float | None:
    ctags = shutil.which("ctags")
    if ctags is None:
        return None
    version = subprocess.run([ctags, "--version"], capture_output=True, text=True).stdout
    if "Universal Ctags" not in version:
        return None
    t0 = time.perf_counter()
    subprocess.run([ctags, "-R", "--languages=Python", "--exclude=.git", "--exclude=.venv", "--exclude=corpora",
                    "-f", os.devnull, str(root)], check=True, capture_output=True)
    return round(time.perf_counter() - t0, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", action="append", help="stdlib, django, self, or a path (repeatable)")
    ap.add_argument("--regions", type=int, default=200)
    ap.add_argument("--edits", type=int, default=10)
    ap.add_argument("--shell", type=int, default=10)
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args()
    results = []
    for corpus in args.corpus or ["stdlib", "django"]:
        if corpus == "stdlib":
            root, name = stdlib_corpus(), "stdlib"
        elif corpus == "django":
            root, name = django_corpus(), "django"
        elif corpus == "self":
            root, name = REPO, "semlease"
        else:
            root, name = Path(corpus).resolve(), Path(corpus).name
        results.append(bench(name, root, args.regions, args.edits, args.shell))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (out / f"index-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out / f'index-{stamp}.json'}")


if __name__ == "__main__":
    main()
