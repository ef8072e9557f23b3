"""Unified diffs from real git repositories: each form a patch takes, and each way a diff can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_git
from semlease.adapters.diff import MAX_DIFF_BYTES, DiffError, FileChange, git_diff, parse_diff, show_file

BEFORE = {
    "a.py": "def f():\n    return 1\n\n\ndef g():\n    return 2\n",
    "b.py": "X = 1\n",
    "gone.py": "def old():\n    pass\n",
    "logo.png": b"\x89PNG\x00\x01",
}


@pytest.fixture
def repo(make_git_repo, tmp_path: Path) -> Path:
    root = make_git_repo(tmp_path / "repo", BEFORE)
    (root / "a.py").write_text("def f():\n    return 10\n\n\ndef g():\n    return 2\n\n\ndef h():\n    return 3\n")
    run_git(root, "mv", "b.py", "c.py")
    run_git(root, "rm", "-q", "gone.py")
    (root / "new.py").write_text("def fresh():\n    pass\n")
    (root / "logo.png").write_bytes(b"\x89PNG\x00\x02")
    run_git(root, "add", "--all")
    run_git(root, "commit", "-q", "-m", "second")
    return root


def test_every_form_of_change_from_git(repo: Path) -> None:
    changes = {c.path: c for c in parse_diff(git_diff(repo, "HEAD~1", "HEAD"))}
    assert changes["a.py"] == FileChange(old_path="a.py", new_path="a.py", status="modified", removed=(2,),
                                         added=(2, 7, 8, 9, 10), insertions=(2, 6))
    assert changes["c.py"] == FileChange(old_path="b.py", new_path="c.py", status="renamed")
    assert changes["gone.py"] == FileChange(old_path="gone.py", new_path=None, status="deleted", removed=(1, 2))
    assert changes["new.py"] == FileChange(old_path=None, new_path="new.py", status="added", added=(1, 2),
                                           insertions=(0,))
    assert changes["logo.png"] == FileChange(old_path="logo.png", new_path="logo.png", status="modified",
                                             binary=True)
    assert str(changes["c.py"]) == "renamed b.py -> c.py (-0 +0)"


def test_the_work_tree_against_a_commit(repo: Path) -> None:
    (repo / "c.py").write_text("X = 1\nY = 2\n")
    (changed,) = parse_diff(git_diff(repo, "HEAD"))
    assert (changed.path, changed.status, changed.added, changed.removed) == ("c.py", "modified", (2,), ())
    assert show_file(repo, "HEAD~1", "b.py") == b"X = 1\n"
    assert show_file(repo, "HEAD", "b.py") is None


def test_a_git_error_is_one_line(repo: Path) -> None:
    with pytest.raises(DiffError) as error:
        git_diff(repo, "no-such-rev")
    assert str(error.value).startswith("git diff no-such-rev failed: fatal: ambiguous argument 'no-such-rev'")


def test_plain_diff_u_output() -> None:
    text = "--- a.py\t2026-01-01\n+++ a.py\t2026-01-02\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n"
    assert parse_diff(text) == (FileChange(old_path="a.py", new_path="a.py", status="modified", removed=(2,),
                                           added=(2,), insertions=(2,)),)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the diff is empty: nothing to check"),
        (b"  \n\n", "the diff is empty: nothing to check"),
        (b"hello\x00world", "the diff is binary data, not a unified diff"),
        (b"\xff\xfe--- a\n", "the diff is not UTF-8 text (byte 0); produce it with git diff or diff -u"),
        (b"just some text\nand more\n", "the diff holds no file changes (it starts with 'just some text'); "
                                       "expected the output of git diff or diff -u"),
        (b"--- a.py\n+++ a.py\n@@ -1,3 +1,3 @@\n def f():\n-    return 1\n",
         "the diff is not a valid unified diff: Hunk is shorter than expected"),
        (b"--- a.py\n+++ a.py\n@@ -1,1 +1,1 @@\n-x\n+y\n+z\n",
         "the diff is not a valid unified diff: line 6 ('+z') lies outside every hunk; is the diff truncated or "
         "edited by hand?"),
    ],
)
def test_bad_diffs_are_one_clear_line(data: bytes, message: str) -> None:
    with pytest.raises(DiffError) as error:
        parse_diff(data)
    assert str(error.value) == message


def test_a_huge_diff_is_refused_before_parsing() -> None:
    with pytest.raises(DiffError) as error:
        parse_diff(b"+" * (MAX_DIFF_BYTES + 1), source="patch.diff")
    assert str(error.value) == "patch.diff is 64 MB, over the 64 MB limit"
