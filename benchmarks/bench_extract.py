"""Time the Python extractor against a bare tree-sitter parse of the same files.

    python benchmarks/bench_extract.py [ROOT] [--repeat N]

ROOT defaults to the running interpreter's standard library (``site-packages`` is left out). Every file
is read into memory first, so both timings measure only work on bytes: the bare ``parser.parse`` of each
file, then ``extract_python`` (which parses too) on each file. The two passes alternate ``--repeat``
times and the fastest of each is kept. Also checks that extraction never failed (no "extraction
failed" note). Standalone: no pytest needed.
"""

from __future__ import annotations

import argparse
import os
import sys
import sysconfig
import time
from pathlib import Path

try:
    from semlease.languages.python.extract import extract_python
except ImportError:  # run from a checkout without installing: put src/ on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from semlease.languages.python.extract import extract_python

from tree_sitter_language_pack import get_parser


def python_files(root: Path) -> list[Path]:
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(s for s in subfolders if s != "site-packages")
        found.extend(Path(folder) / name for name in sorted(files) if name.endswith(".py"))
    return found


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("root", nargs="?", default=sysconfig.get_paths()["stdlib"])
    arguments.add_argument("--repeat", type=int, default=3)
    options = arguments.parse_args()
    root = Path(options.root)
    paths = python_files(root)
    sources = [(str(p.relative_to(root)), p.read_bytes()) for p in paths]
    size = sum(len(data) for _, data in sources)
    print(f"{len(sources)} files, {size / 1e6:.1f} MB under {root}")

    parser = get_parser("python")
    extract_python("warmup.py", b"def f():\n    return g()\n")  # compile the query outside the timing

    def bare() -> None:
        for _, data in sources:
            parser.parse(data)

    failures: list[str] = []
    counts = [0, 0, 0]

    def full() -> None:
        failures.clear()
        counts[:] = [0, 0, 0]
        for path, data in sources:
            facts = extract_python(path, data)
            counts[0] += len(facts.definitions)
            counts[1] += len(facts.imports)
            counts[2] += len(facts.references)
            if any(note.startswith("extraction failed") for note in facts.notes):
                failures.append(f"{path}: {facts.notes}")

    # Alternate the two passes and keep the fastest of each, so that load from other processes
    # weighs on both alike.
    timings = {"parse": float("inf"), "parse+extract": float("inf")}
    for _ in range(max(1, options.repeat)):
        for label, run in (("parse", bare), ("parse+extract", full)):
            started = time.perf_counter()
            run()
            timings[label] = min(timings[label], time.perf_counter() - started)

    print(f"bare parse      : {timings['parse']:.2f} s")
    print(f"parse + extract : {timings['parse+extract']:.2f} s")
    print(f"ratio           : {timings['parse+extract'] / timings['parse']:.2f}x")
    print(f"facts           : {counts[0]} definitions, {counts[1]} imports, {counts[2]} references")
    print(f"failures        : {len(failures)}")
    for line in failures[:20]:
        print("  " + line)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
