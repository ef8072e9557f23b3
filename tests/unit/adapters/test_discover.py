"""semlease.adapters.discover on real trees (git work trees and plain folders) built in tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import isolated_git_env, run_git, write_files
from semlease.adapters.discover import Discovery, Skipped, SourceFile, discover, resolve_repo
from semlease.errors import RepositoryError

PY = {".py"}


def paths(discovery: Discovery) -> list[str]:
    return [f.path for f in discovery.files]


def skipped(discovery: Discovery) -> list[tuple[str, str]]:
    return [(s.path, s.reason) for s in discovery.skipped]


def add_odd_entries(root: Path, outside: Path) -> None:
    """Symlinks of every kind under ``root/src`` (which must hold ``app.py``) and a fifo."""
    src = root / "src"
    os.symlink("app.py", src / "alias.py")  # to a regular file inside: followed
    os.symlink(outside / "secret.py", src / "outside.py")  # to a file outside the root
    os.symlink("missing.py", src / "dangling.py")
    os.symlink("self.py", src / "self.py")  # a link to itself
    os.symlink("..", src / "up.py")  # a folder link to the root (named like a source file)
    os.mkfifo(src / "pipe.py")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    return write_files(tmp_path / "outside", {"secret.py": "token = 'x'\n", "pkg/mod.py": "m = 1\n"})


# -- inside a git work tree ---------------------------------------------------------------------------


@pytest.fixture
def git_tree(tmp_path: Path, make_git_repo, outside: Path) -> Path:
    root = make_git_repo(
        tmp_path / "repo",
        {
            ".gitignore": "build/\n*.gen.py\n!keep.gen.py\n",
            "README.md": "# shop\n",
            "src/app.py": "print('hi')\n",
            "src/empty.py": "",
            "src/gone.py": "x = 1\n",
            "src/blob.py": b"\x00\x01binary",
            "src/big.py": "#" * 300 + "\n",
            "pkg/.gitignore": "local_*.py\n",
            "pkg/mod.py": "m = 1\n",
            "node_modules/dep/index.py": "tracked but always skipped\n",
        },
    )
    (root / "src" / "gone.py").unlink()  # deleted, still tracked
    write_files(
        root,
        {
            "src/new.py": "n = 1\n",  # untracked
            "src/c.gen.py": "ignored\n",
            "src/keep.gen.py": "re-included\n",
            "build/out.py": "ignored folder\n",
            "pkg/local_x.py": "ignored by the nested .gitignore\n",
            "local_y.py": "the nested .gitignore does not reach up here\n",
            ".venv/lib/site.py": "untracked, not ignored, always skipped\n",
            "src/__pycache__/app.py": "always skipped\n",
        },
    )
    add_odd_entries(root, outside)
    os.symlink("src", root / "lib")  # folder link, no extension: not a candidate
    return root


def test_git_tree(git_tree: Path) -> None:
    found = discover(git_tree, extensions=PY, max_bytes=200)
    assert paths(found) == [
        "local_y.py",
        "pkg/mod.py",
        "src/alias.py",
        "src/app.py",
        "src/empty.py",
        "src/keep.gen.py",
        "src/new.py",
    ]
    assert skipped(found) == [
        ("src/big.py", "too large (301 bytes)"),
        ("src/blob.py", "binary"),
        ("src/dangling.py", "unreadable: dangling symlink"),
        ("src/outside.py", "symlink outside repository"),
        ("src/self.py", "symlink loop"),
        ("src/up.py", "symlink loop"),
    ]


def test_source_file_fields(git_tree: Path) -> None:
    found = {f.path: f for f in discover(git_tree, extensions=PY).files}
    app = found["src/app.py"]
    assert app == SourceFile(
        path="src/app.py",
        abs_path=git_tree / "src" / "app.py",
        size=12,
        mtime_ns=os.stat(git_tree / "src" / "app.py").st_mtime_ns,
    )
    # A symlink keeps its own path; size and time are those of the file it points to.
    alias = found["src/alias.py"]
    assert alias.abs_path == git_tree / "src" / "alias.py"
    assert (alias.size, alias.mtime_ns) == (12, app.mtime_ns)
    assert found["src/empty.py"].size == 0


def test_git_tree_from_a_subfolder(git_tree: Path) -> None:
    found = discover(git_tree / "src", extensions=PY, max_bytes=200)
    assert paths(found) == ["alias.py", "app.py", "empty.py", "keep.gen.py", "new.py"]
    assert [s.path for s in found.skipped] == [
        "big.py",
        "blob.py",
        "dangling.py",
        "outside.py",
        "self.py",
        "up.py",
    ]


def test_ignored_folder_inside_a_work_tree_is_walked(tmp_path: Path, make_git_repo) -> None:
    root = make_git_repo(tmp_path / "repo", {".gitignore": "corpora/\n", "app.py": ""})
    write_files(
        root / "corpora" / "django",
        {".gitignore": "*.tmp.py\n", "db/models.py": "class M: ...\n", "x.tmp.py": "", "README": ""},
    )
    found = discover(root / "corpora" / "django", extensions=PY)
    assert paths(found) == ["db/models.py"]
    assert found.skipped == ()
    assert paths(discover(root, extensions=PY)) == ["app.py"]


def test_non_utf8_file_name_in_git_tree(tmp_path: Path, make_git_repo) -> None:
    root = make_git_repo(tmp_path / "repo", {"ok.py": ""})
    with open(os.path.join(os.fsencode(root), b"caf\xe9.py"), "wb") as handle:
        handle.write(b"x = 1\n")
    found = discover(root, extensions=PY)
    assert paths(found) == ["ok.py"]
    assert skipped(found) == [("caf\ufffd.py", "unreadable: file name is not valid UTF-8")]


def test_git_and_plain_walk_agree(tmp_path: Path, make_git_repo) -> None:
    files = {
        ".gitignore": "*.gen.py\nout/\n!keep.gen.py\n",
        "a.py": "a = 1\n",
        "b.gen.py": "",
        "keep.gen.py": "",
        "out/c.py": "",
        "sub/.gitignore": "/only_here.py\n",
        "sub/only_here.py": "",
        "sub/deep/only_here.py": "",
        "sub/d.py": "",
    }
    in_git = make_git_repo(tmp_path / "git", files, commit=False)
    plain = write_files(tmp_path / "plain", files)
    expected = ["a.py", "keep.gen.py", "sub/d.py", "sub/deep/only_here.py"]
    assert paths(discover(in_git, extensions=PY)) == expected
    assert paths(discover(plain, extensions=PY)) == expected


# -- outside git: walking with .gitignore files -------------------------------------------------------


@pytest.fixture
def plain_tree(tmp_path: Path, outside: Path, git_env) -> Path:
    root = write_files(
        tmp_path / "plain",
        {
            ".gitignore": "# comment\n*.log\nbuild/\ndocs/**/draft_*.py\n",
            "src/app.py": "print('hi')\n",
            "src/empty.py": "",
            "src/blob.py": b"x\x00y",
            "src/big.py": "#" * 300 + "\n",
            "sub/.gitignore": "!important.log\n*.tmp.py\n/local.py\n",
            "sub/local.py": "ignored: anchored to sub/\n",
            "sub/deeper/local.py": "kept: the anchor is sub/, not sub/deeper/\n",
            "sub/x.tmp.py": "ignored by sub/.gitignore\n",
            "sub/important.log": "re-included by sub/.gitignore\n",
            "sub/other.log": "ignored by the root .gitignore\n",
            "x.tmp.py": "kept: sub/.gitignore does not reach up\n",
            "docs/guide/draft_one.py": "ignored\n",
            "docs/guide/final.py": "kept\n",
            "build/gen.py": "ignored folder\n",
            "build/.gitignore": "!gen.py\n",  # cannot re-include inside an excluded folder
            ".venv/lib/site.py": "",
            "node_modules/dep/index.py": "",
            "__pycache__/cached.py": "",
            ".semlease/state.py": "",
            ".git/hooks/hook.py": "",  # a stray .git folder that is not a repository
        },
    )
    add_odd_entries(root, outside)
    os.symlink("..", root / "sub" / "up")  # folder link to its parent: a loop
    os.symlink("../src/app.py", root / "sub" / "alias.py")
    os.symlink(outside, root / "ext")  # folder link leaving the root
    os.symlink("src", root / "srcalias")  # folder link to a folder walked anyway
    os.symlink("build", root / "vendored")  # folder link to an ignored folder: walked under its own name
    return root


def test_plain_tree(plain_tree: Path) -> None:
    found = discover(plain_tree, extensions={".py", "log"}, max_bytes=200)
    assert paths(found) == [
        "docs/guide/final.py",
        "src/alias.py",
        "src/app.py",
        "src/empty.py",
        "sub/alias.py",
        "sub/deeper/local.py",
        "sub/important.log",
        "vendored/gen.py",
        "x.tmp.py",
    ]
    assert skipped(found) == [
        ("ext", "symlink outside repository"),
        ("src/big.py", "too large (301 bytes)"),
        ("src/blob.py", "binary"),
        ("src/dangling.py", "unreadable: dangling symlink"),
        ("src/outside.py", "symlink outside repository"),
        ("src/pipe.py", "not a regular file"),
        ("src/self.py", "symlink loop"),
        ("src/up.py", "symlink loop"),
        ("srcalias", "symlink to a folder listed already (src)"),
        ("sub/up", "symlink loop"),
    ]


def test_plain_tree_source_files(plain_tree: Path) -> None:
    found = {f.path: f for f in discover(plain_tree, extensions=PY).files}
    assert found["vendored/gen.py"] == SourceFile(
        path="vendored/gen.py",
        abs_path=plain_tree / "vendored" / "gen.py",
        size=15,
        mtime_ns=os.stat(plain_tree / "build" / "gen.py").st_mtime_ns,
    )


def test_symlink_loops_between_folders(tmp_path: Path, git_env) -> None:
    root = write_files(tmp_path / "plain", {"a/x.py": "", "b/y.py": ""})
    os.symlink("../b", root / "a" / "to_b")
    os.symlink("../a", root / "b" / "to_a")
    found = discover(root, extensions=PY)
    assert paths(found) == ["a/x.py", "b/y.py"]
    assert skipped(found) == [
        ("a/to_b", "symlink to a folder listed already (b)"),
        ("b/to_a", "symlink to a folder listed already (a)"),
    ]


def test_folder_reached_only_through_links_is_listed_once(tmp_path: Path, git_env) -> None:
    root = write_files(tmp_path / "plain", {".gitignore": "real/\n", "real/m.py": ""})
    os.symlink("real", root / "one")
    os.symlink("real", root / "two")
    os.symlink("..", root / "real" / "back")
    found = discover(root, extensions=PY)
    assert paths(found) == ["one/m.py"]
    assert skipped(found) == [
        ("one/back", "symlink loop"),
        ("two", "symlink to a folder listed already (real)"),
    ]


def test_non_utf8_file_name_in_plain_tree(tmp_path: Path, git_env) -> None:
    root = write_files(tmp_path / "plain", {"ok.py": ""})
    (root / "sub").mkdir()
    with open(os.path.join(os.fsencode(root), b"sub", b"caf\xe9.py"), "wb") as handle:
        handle.write(b"x = 1\n")
    found = discover(root, extensions=PY)
    assert paths(found) == ["ok.py"]
    assert skipped(found) == [("sub/caf\ufffd.py", "unreadable: file name is not valid UTF-8")]


# -- sizes, binaries, extensions ------------------------------------------------------------------------


def test_size_limit_is_inclusive(tmp_path: Path, git_env) -> None:
    root = write_files(tmp_path / "plain", {"fits.py": "a" * 100, "over.py": "a" * 101})
    found = discover(root, extensions=PY, max_bytes=100)
    assert paths(found) == ["fits.py"]
    assert skipped(found) == [("over.py", "too large (101 bytes)")]


def test_binary_means_nul_in_the_first_8_kb(tmp_path: Path, git_env) -> None:
    root = write_files(
        tmp_path / "plain",
        {
            "late_nul.py": b"a" * 8192 + b"\x00",
            "nul_at_8191.py": b"a" * 8191 + b"\x00",
            "latin1.py": "caf\xe9 = 1\n".encode("latin-1"),  # not UTF-8, but text
        },
    )
    found = discover(root, extensions=PY)
    assert paths(found) == ["late_nul.py", "latin1.py"]
    assert skipped(found) == [("nul_at_8191.py", "binary")]


def test_extensions_with_or_without_dot_and_any_case(tmp_path: Path, git_env) -> None:
    root = write_files(
        tmp_path / "plain",
        {"a.py": "", "b.PY": "", "c.ts": "", "d.d.ts": "", "e.tsx": "", "f.txt": "", "Makefile": ""},
    )
    assert paths(discover(root, extensions={"py", ".ts"})) == ["a.py", "b.PY", "c.ts", "d.d.ts"]
    assert paths(discover(root, extensions=".tsx")) == ["e.tsx"]
    assert paths(discover(root, extensions=set())) == []


def test_empty_folder(tmp_path: Path, git_env) -> None:
    (tmp_path / "empty").mkdir()
    assert discover(tmp_path / "empty", extensions=PY) == Discovery(files=(), skipped=())


def test_results_are_sorted_by_path(tmp_path: Path, git_env) -> None:
    root = write_files(tmp_path / "plain", {"b.py": "", "a/z.py": "", "a.py": "", "A.py": "", "a_b.py": ""})
    assert paths(discover(root, extensions=PY)) == ["A.py", "a.py", "a/z.py", "a_b.py", "b.py"]


# -- bad roots ----------------------------------------------------------------------------------------------


def test_missing_root_raises(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError) as info:
        discover(tmp_path / "nope", extensions=PY)
    assert str(info.value) == f"repository path does not exist: {tmp_path / 'nope'}"


def test_file_root_raises(tmp_path: Path) -> None:
    (tmp_path / "f.py").write_text("")
    with pytest.raises(RepositoryError) as info:
        discover(tmp_path / "f.py", extensions=PY)
    assert str(info.value) == f"repository path is not a folder: {tmp_path / 'f.py'}"


# -- permission denied ------------------------------------------------------------------------------------

NOBODY = 65534


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temporary folder another user can enter (pytest's own tmp_path is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="semlease-perm-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path, dirs, _ in os.walk(folder):
            for name in dirs:
                os.chmod(os.path.join(path, name), 0o755)
        shutil.rmtree(folder)


def discover_without_privileges(root: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """Run discover as a user that permission bits apply to.

    As root, ``chmod 000`` stops nothing, so the tree is handed to ``nobody`` and discover runs in a
    forked child that drops to that user (forked rather than started afresh: the interpreter may live
    where ``nobody`` cannot reach, such as under /root). As any other user it runs in this process.
    """
    if os.geteuid() != 0:
        found = discover(root, extensions=PY)
        return paths(found), skipped(found)
    for path, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(path, name), NOBODY, NOBODY)
    os.lchown(root, NOBODY, NOBODY)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            os.close(read_end)
            os.environ.update(isolated_git_env())
            os.environ["HOME"] = str(root)
            os.environ["GIT_CEILING_DIRECTORIES"] = str(root.parent)
            os.chdir(root)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            found = discover(root, extensions=PY)
            payload = {"files": paths(found), "skipped": skipped(found)}
            code = 0
        except Exception as error:  # noqa: BLE001 - any failure goes to the parent
            payload = {"error": repr(error)}
        try:
            with os.fdopen(write_end, "w") as pipe:
                json.dump(payload, pipe)
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        data = json.load(pipe)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, data
    return data["files"], [tuple(item) for item in data["skipped"]]


def lock(root: Path) -> None:
    (root / "locked").chmod(0)
    (root / "secret.py").chmod(0)


def test_permission_denied_in_plain_tree(shared_tmp: Path) -> None:
    root = write_files(shared_tmp / "plain", {"open/a.py": "", "locked/b.py": "", "secret.py": "s = 1\n"})
    for folder in (root, root / "open", root / "locked"):
        folder.chmod(0o755)
    lock(root)
    found, left_out = discover_without_privileges(root)
    assert found == ["open/a.py"]
    assert left_out == [
        ("locked", "unreadable: Permission denied"),
        ("secret.py", "unreadable: Permission denied"),
    ]


def test_permission_denied_in_git_tree(shared_tmp: Path) -> None:
    env = isolated_git_env()
    root = write_files(shared_tmp / "repo", {"open/a.py": "", "locked/b.py": "", "secret.py": "s = 1\n"})
    subprocess.run(["git", "-C", str(root), "init", "--quiet"], env=env, check=True)
    run_git(root, "add", "open", "secret.py")
    run_git(root, "commit", "--quiet", "-m", "initial")
    for path, dirs, _ in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(path, name), 0o755)
    root.chmod(0o755)
    lock(root)
    assert stat.S_IMODE(os.stat(root / "secret.py").st_mode) == 0
    found, left_out = discover_without_privileges(root)
    # git cannot look inside locked/ (its untracked file is not listed); the tracked secret.py is.
    assert found == ["open/a.py"]
    assert left_out == [("secret.py", "unreadable: Permission denied")]


# -- resolve_repo -----------------------------------------------------------------------------------------


def test_resolve_repo_default_is_the_enclosing_work_tree(tmp_path: Path, make_git_repo, monkeypatch) -> None:
    root = make_git_repo(tmp_path / "repo", {"src/pkg/a.py": ""})
    monkeypatch.chdir(root / "src" / "pkg")
    assert resolve_repo(None) == root


def test_resolve_repo_default_outside_git_is_the_current_folder(tmp_path: Path, git_env, monkeypatch) -> None:
    (tmp_path / "plain").mkdir()
    monkeypatch.chdir(tmp_path / "plain")
    assert resolve_repo(None) == tmp_path / "plain"


def test_resolve_repo_given_path_is_made_absolute(tmp_path: Path, make_git_repo, monkeypatch) -> None:
    root = make_git_repo(tmp_path / "repo", {"fixtures/shop/app.py": ""})
    monkeypatch.chdir(root)
    assert resolve_repo("fixtures/shop") == root / "fixtures" / "shop"
    assert resolve_repo(str(root)) == root


def test_resolve_repo_missing_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RepositoryError) as info:
        resolve_repo("does/not/exist")
    assert str(info.value) == "repository path does not exist: does/not/exist"


def test_resolve_repo_file_path(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "notes.txt").write_text("")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RepositoryError) as info:
        resolve_repo("notes.txt")
    assert str(info.value) == "repository path is not a folder: notes.txt"


def test_skipped_is_a_frozen_record() -> None:
    item = Skipped(path="a.py", reason="binary")
    with pytest.raises(AttributeError):
        item.reason = "other"  # type: ignore[misc]
