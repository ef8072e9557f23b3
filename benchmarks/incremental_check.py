#!/usr/bin/env python3
"""Random edits against full rebuilds: does the incremental index stay exactly the full one?

    python benchmarks/incremental_check.py [--corpus stdlib|self|PATH] [--rounds 8] [--seed 1]

Each round edits one random Python file of a copy of the corpus in one of several ways (a statement added
to a body, a function added, a top-level definition renamed, a definition deleted, an import added, a
class base changed, the file copied under a new name beside it, the file removed), refreshes the index
(timed: the one-file-edit figure), then rebuilds the same tree from scratch in a second copy and compares
every table of the graph. It prints each round and exits 1 on the first difference, naming the rows.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from semlease.adapters.index_store import IndexStore  # noqa: E402
from semlease.services.indexer import build_index  # noqa: E402

_DEF = re.compile(rb"^(def|class) ([A-Za-z_][A-Za-z0-9_]*)", re.M)
_BODY = re.compile(rb"^(    +)return ", re.M)


def snapshot(index: str) -> dict[str, set[tuple]]:
    with IndexStore.open(Path(index)) as store:
        return store.rows()


def mutate(path: Path, rng: random.Random, files: list[Path]) -> str:
    if rng.random() < 0.25:  # a file added or removed: `files` follows
        if path.name != "__init__.py" and rng.random() < 0.5:
            path.unlink()
            files.remove(path)
            return "remove file"
        copy = path.with_name(f"semlease_copy_{rng.randrange(10**6)}.py")
        copy.write_bytes(path.read_bytes())
        files.append(copy)
        return "copy file"
    data = path.read_bytes()
    defs = list(_DEF.finditer(data))
    bodies = list(_BODY.finditer(data))
    choices = ["add function", "add import"]
    if bodies:
        choices += ["body"] * 3
    if defs:
        choices += ["rename", "delete"]
    if b"\nclass " in data:
        choices.append("base")
    kind = rng.choice(choices)
    if kind == "body":
        m = rng.choice(bodies)
        data = data[:m.start()] + m.group(1) + b"_semlease_x = 1\n" + data[m.start():]
    elif kind == "add function":
        data += b"\n\ndef semlease_added_" + str(rng.randrange(10**6)).encode() + b"():\n    return len([])\n"
    elif kind == "add import":
        data = b"import collections.abc\n" + data
    elif kind == "rename":
        m = rng.choice(defs)
        data = data[:m.start(2)] + m.group(2) + b"_renamed" + data[m.end(2):]
    elif kind == "delete":
        m = rng.choice(defs)
        nxt = next((d.start() for d in defs if d.start() > m.start()), len(data))
        data = data[:m.start()] + data[nxt:]
    else:
        m = re.search(rb"^class ([A-Za-z_][A-Za-z0-9_]*)(\([^)\n]*\))?:", data, re.M)
        if m is None:
            return "none"
        data = data[:m.start()] + b"class " + m.group(1) + b"(object):" + data[m.end():]
    path.write_bytes(data)
    return kind


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="self")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.corpus == "stdlib":
        sys.path.insert(0, str(HERE))
        from run import stdlib_corpus

        source = stdlib_corpus()
    elif args.corpus == "self":
        source = HERE.parent
    else:
        source = Path(args.corpus).resolve()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(source, work, ignore=shutil.ignore_patterns(".git", ".venv", "corpora", "__pycache__"))
        build_index(work, with_counts=False)
        files = sorted(p for p in work.rglob("*.py") if p.stat().st_size < 200_000)
        for round_ in range(1, args.rounds + 1):
            victim = rng.choice(files)
            kind = mutate(victim, rng, files)
            t0 = time.perf_counter()
            report = build_index(work, with_counts=False)
            seconds = time.perf_counter() - t0
            mine = snapshot(report.index_path)
            again = Path(tmp) / f"again{round_}"
            shutil.copytree(work, again, ignore=shutil.ignore_patterns(".semlease"))
            full = snapshot(build_index(again, force=True, with_counts=False).index_path)
            shutil.rmtree(again)
            rel = victim.relative_to(work)
            print(f"round {round_}: {kind:<12} {rel}  refresh {seconds * 1000:.0f} ms, relinked {report.relinked}",
                  flush=True)
            for table in full:
                missing, extra = full[table] - mine[table], mine[table] - full[table]
                if missing or extra:
                    print(f"  {table}: missing {sorted(missing)[:5]}\n  {table}: extra {sorted(extra)[:5]}")
                    return 1
    print("every refresh equals a full rebuild")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
