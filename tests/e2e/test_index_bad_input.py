"""`semlease index` on trees that try to stop it: syntax errors, bytes that are not UTF-8, binary files,
empty and huge files, symlink loops, an ignored folder outside git. Nothing stops the index; everything
odd is listed with its reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import write_repo

SRC = str(Path(__file__).resolve().parents[2] / "src")


def semlease(*args: str, cwd: Path, ceiling: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=SRC, GIT_CEILING_DIRECTORIES=str(ceiling or cwd.parent))
    return subprocess.run([sys.executable, "-m", "semlease", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def odd_tree(root: Path) -> None:
    files: dict[str, str | bytes] = {
        "good.py": "def ok():\n    return 1\n",
        "broken.py": "def fine():\n    return 2\n\ndef broken(:\n    pass\n\ndef after():\n    return fine()\n",
        "latin1.py": "# caf\xe9\ndef cafe():\n    return 'caf\xe9'\n".encode("latin-1"),
        "blob.py": b"\x00\x01\x02binary\x00",
        "empty.py": "",
        "huge.py": "X = 1\n" * 400_000,  # 2.4 MB, over the 2 MB limit
        "uses.py": "from good import ok\n\ndef twice():\n    return ok() + ok()\n",
    }
    for rel, body in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body if isinstance(body, bytes) else body.encode())
    (root / "loop").mkdir()
    os.symlink("..", root / "loop" / "again")


def test_odd_files_never_stop_the_index_and_are_listed(tmp_path: Path) -> None:
    root = tmp_path / "odd"
    root.mkdir()
    odd_tree(root)
    result = semlease("index", "--json", "--repo", str(root), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["head"] is None
    assert report["index"] == str(root / ".semlease" / "index.db")
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert skipped["blob.py"] == "binary"
    assert skipped["huge.py"].startswith("too large (2400000 bytes")
    assert "loop/again" in skipped
    assert report["syntax_errors"] == [{"path": "broken.py", "errors": 1}]
    assert report["files"] == 5  # good, broken, latin1, empty, uses

    # the broken file is indexed as far as the parser recovered: `after` still links to `fine`
    fp = json.loads(semlease("resolve", "export fine", "--json", "--repo", str(root), cwd=tmp_path).stdout)
    assert [e["id"] for e in fp["footprint"]["dependents"]] == ["broken.py::after"]
    latin = json.loads(semlease("resolve", "export cafe", "--json", "--repo", str(root), cwd=tmp_path).stdout)
    assert [e["id"] for e in latin["footprint"]["definition"]] == ["latin1.py::cafe"]
    assert latin["footprint"]["definition"][0]["start_line"] == 2
    empty = json.loads(semlease("resolve", "file empty.py", "--json", "--repo", str(root), cwd=tmp_path).stdout)
    assert empty["footprint"]["definition"] == [
        {"id": "empty.py", "kind": "file", "path": "empty.py", "start_line": 1, "end_line": 1}]


def test_a_plain_folder_honours_gitignore(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    for rel, body in {
        ".gitignore": "build/\n*.gen.py\n",
        "app.py": "from lib import helper\n\ndef main():\n    return helper()\n",
        "lib.py": "def helper():\n    return 1\n",
        "build/lib.py": "def helper():\n    return 2\n",
        "schema.gen.py": "def helper():\n    return 3\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body)
    result = semlease("resolve", "export helper", "--json", "--repo", str(root), cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # one helper, so not ambiguous
    fp = json.loads(result.stdout)
    assert [e["id"] for e in fp["footprint"]["definition"]] == ["lib.py::helper"]
    assert [e["id"] for e in fp["footprint"]["dependents"]] == ["app.py", "app.py::main"]


def test_repo_defaults_to_the_enclosing_work_tree(tmp_path: Path) -> None:
    root = tmp_path / "wt"
    write_repo(root, {"pkg/__init__.py": "", "pkg/mod.py": "def f():\n    return 1\n",
                      "pkg/use.py": "from .mod import f\n\ndef g():\n    return f()\n"})
    result = semlease("resolve", "export pkg.mod.f", "--json", cwd=root / "pkg", ceiling=tmp_path)
    assert result.returncode == 0, result.stderr
    fp = json.loads(result.stdout)
    assert fp["head"] is not None and len(fp["head"]) == 40
    assert [e["id"] for e in fp["footprint"]["dependents"]] == ["pkg/use.py", "pkg/use.py::g"]


def test_a_changed_file_is_reindexed_and_others_are_reused(tmp_path: Path) -> None:
    root = tmp_path / "inc"
    write_repo(root, {"a.py": "def f():\n    return 1\n", "b.py": "def g():\n    return 2\n"})
    first = json.loads(semlease("index", "--json", "--repo", str(root), cwd=tmp_path).stdout)
    assert (first["extracted"], first["reused"], first["up_to_date"], first["relinked"]) == (2, 0, False, -1)
    again = json.loads(semlease("index", "--json", "--repo", str(root), cwd=tmp_path).stdout)
    assert (again["extracted"], again["reused"], again["up_to_date"], again["relinked"]) == (0, 2, True, None)
    (root / "b.py").write_text("from a import f\n\ndef g():\n    return f()\n")
    edited = json.loads(semlease("index", "--json", "--repo", str(root), cwd=tmp_path).stdout)
    # b.py's interface changed (a new import): relinked with the files that read it (none)
    assert (edited["extracted"], edited["reused"], edited["up_to_date"], edited["relinked"]) == (1, 1, False, 1)
    fp = json.loads(semlease("resolve", "export f", "--json", "--repo", str(root), cwd=tmp_path).stdout)
    assert [e["id"] for e in fp["footprint"]["dependents"]] == ["b.py", "b.py::g"]
    (root / "b.py").unlink()
    gone = json.loads(semlease("index", "--json", "--repo", str(root), cwd=tmp_path).stdout)
    assert (gone["removed"], gone["files"]) == (1, 1)
    fp = json.loads(semlease("resolve", "export f", "--json", "--repo", str(root), cwd=tmp_path).stdout)
    assert fp["footprint"]["dependents"] == []
