"""Unified diffs from real git repositories: each form a patch takes, and each way a diff can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_git
from semlease.adapters import git
from semlease.adapters.diff import (
    MAX_DIFF_BYTES,
    DiffError,
    FileChange,
    Hunk,
    PatchMismatch,
    apply_change,
    parse_diff,
    unapply_change,
)
from semlease.errors import RepositoryError

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
    changes = {c.path: c for c in parse_diff(git.diff(repo, "HEAD~1", "HEAD"))}
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
    (changed,) = parse_diff(git.diff(repo, "HEAD"))
    assert (changed.path, changed.status, changed.added, changed.removed) == ("c.py", "modified", (2,), ())
    assert git.file_at(repo, "HEAD~1", "b.py") == b"X = 1\n"
    assert git.file_at(repo, "HEAD", "b.py") is None


def test_a_git_error_is_one_line(repo: Path) -> None:
    with pytest.raises(RepositoryError) as error:
        git.diff(repo, "no-such-rev")
    assert str(error.value).startswith(f"git diff no-such-rev failed in {repo}: ambiguous argument 'no-such-rev'")


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
         "the diff is not a valid unified diff: the hunk at line 3 is shorter than its header says; is the diff "
         "truncated?"),
        (b"diff --git a/a.py b/a.py\nindex 1..2 100644\n--- a/a.py\n+++ b/a.py\n@@ -x,3 +1,3 @@\n a\n-b\n+c\n",
         "the diff is not a valid unified diff: line 5 ('@@ -x,3 +1,3 @@') is not a hunk header (expected "
         "@@ -OLD,N +NEW,M @@)"),
        (b"diff --git a/a.py b/a.py\nindex 1..2 100644\n--- a/a.py\n+++ b/a.py\n",
         "the diff is not a valid unified diff: line 1: a file header with no hunk after it; is the diff truncated?"),
        (b"diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-a\n+b\ndiff --git a/b.py b/b.py\n",
         "the diff is not a valid unified diff: line 7 ('diff --git a/b.py b/b.py') starts a file and says nothing "
         "of it; is the diff truncated?"),
        (b"--- a.py\n+++ a.py\n@@ -1 +1 @@\n-a\n+b\n--- a/b.py\n",
         "the diff is not a valid unified diff: line 6 ('--- a/b.py') lies outside every hunk; is the diff "
         "truncated or edited by hand?"),
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


# ------------------------------------------------------------------------------------------- applying
def test_each_version_is_rebuilt_from_the_other(repo: Path) -> None:
    changes = {c.path: c for c in parse_diff(git.diff(repo, "HEAD~1", "HEAD"))}
    old_a = BEFORE["a.py"]
    new_a = (repo / "a.py").read_text()
    assert apply_change(changes["a.py"], old_a) == new_a
    assert unapply_change(changes["a.py"], new_a) == old_a
    assert apply_change(changes["new.py"], "") == "def fresh():\n    pass\n"
    assert unapply_change(changes["gone.py"], "") == BEFORE["gone.py"]
    assert apply_change(changes["c.py"], "X = 1\n") == "X = 1\n"  # a pure rename changes no line
    (hunk,) = changes["a.py"].hunks
    assert (hunk.old_start, hunk.old_length, hunk.new_start, hunk.new_length) == (1, 6, 1, 10)
    assert hunk.lines[:3] == ((" ", "def f():\n"), ("-", "    return 1\n"), ("+", "    return 10\n"))
    assert isinstance(hunk, Hunk) and changes["c.py"].hunks == ()


def test_blob_ids_come_from_the_index_line(repo: Path) -> None:
    changes = {c.path: c for c in parse_diff(git.diff(repo, "HEAD~1", "HEAD"))}
    assert git.read_blob(repo, changes["a.py"].old_blob).decode() == BEFORE["a.py"]
    assert git.read_blob(repo, changes["a.py"].new_blob) == (repo / "a.py").read_bytes()
    assert (changes["new.py"].old_blob, changes["gone.py"].new_blob) == (None, None)
    assert git.read_blob(repo, "0123456789") is None


def test_a_file_without_a_final_newline(make_git_repo, tmp_path: Path) -> None:
    root = make_git_repo(tmp_path / "r", {"a.py": "x = 1\ny = 2"})
    (root / "a.py").write_text("x = 1\ny = 3")
    (change,) = parse_diff(git.diff(root, "HEAD"))
    assert change.hunks[0].lines[-1] == ("+", "y = 3")
    assert apply_change(change, "x = 1\ny = 2") == "x = 1\ny = 3"
    assert unapply_change(change, "x = 1\ny = 3") == "x = 1\ny = 2"
    with pytest.raises(PatchMismatch):
        apply_change(change, "x = 1\ny = 2\n")  # the diff says the old file had no final newline


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("def f():\n    return 2\n\n\ndef g():\n    return 2\n",
         "the diff does not fit a.py: line 2 reads '    return 2' where the diff expects '    return 1'"),
        ("def f():\n", "the diff does not fit a.py: line 2 reads the end of the file where the diff expects "
                       "'    return 1'"),
        ("", "the diff does not fit a.py: line 1 reads the end of the file where the diff expects 'def f():'"),
    ],
)
def test_a_text_the_diff_was_not_made_from(repo: Path, text: str, message: str) -> None:
    (change,) = [c for c in parse_diff(git.diff(repo, "HEAD~1", "HEAD")) if c.path == "a.py"]
    with pytest.raises(PatchMismatch) as error:
        apply_change(change, text)
    assert str(error.value) == message


def test_names_git_quotes_plain_diffs_of_a_copy_and_format_patch_mail() -> None:
    quoted = ('diff --git "a/caf\\303\\251 x.py" "b/caf\\303\\251 x.py"\nindex 1..2 100644\n'
              '--- "a/caf\\303\\251 x.py"\n+++ "b/caf\\303\\251 x.py"\n@@ -1 +1 @@\n-a\n+b\n')
    assert [(c.old_path, c.new_path, c.status) for c in parse_diff(quoted)] == [
        ("café x.py", "café x.py", "modified")]
    copy = "--- src/x.py.orig\t2026-01-01\n+++ src/x.py\t2026-01-02\n@@ -1 +1 @@\n-a\n+b\n"
    assert [(c.old_path, c.new_path, c.status) for c in parse_diff(copy)] == [("src/x.py", "src/x.py", "modified")]
    elsewhere = "--- /tmp/x.py\n+++ src/x.py\n@@ -1 +1 @@\n-a\n+b\n"
    assert [(c.old_path, c.new_path) for c in parse_diff(elsewhere)] == [("src/x.py", "src/x.py")]
    mail = ("From 1 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] x\n\n---\n a.py | 2 +-\n\n"
            "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-a\n+b\n-- \n2.39.5\n\n")
    assert [(c.path, c.removed, c.added) for c in parse_diff(mail)] == [("a.py", (1,), (1,))]
    mode_only = "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
    assert [(c.path, c.status, c.hunks) for c in parse_diff(mode_only)] == [("run.sh", "modified", ())]


def test_line_endings_that_differ_are_named() -> None:
    (change,) = parse_diff("--- a.py\n+++ a.py\n@@ -1,2 +1,2 @@\n x = 1\n-y = 2\n+y = 3\n")
    with pytest.raises(PatchMismatch) as error:
        apply_change(change, "x = 1\r\ny = 2\r\n")
    assert str(error.value) == "the diff does not fit a.py: line 1 ends with CRLF where the diff has LF"
