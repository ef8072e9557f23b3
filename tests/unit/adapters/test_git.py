"""semlease.adapters.git against real repositories built in tmp_path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from helpers import run_git, write_files
from semlease.adapters import git
from semlease.errors import RepositoryError

# Blob ids as git computes them (`git hash-object`), fixed by content.
EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
HELLO_BLOB = "ce013625030ba8dba906f756967f9e9ca394464a"  # b"hello\n"


@pytest.fixture
def repo(tmp_path: Path, make_git_repo) -> Path:
    return make_git_repo(
        tmp_path / "repo",
        {
            ".gitignore": "*.log\nbuild/\n",
            "src/app.py": "hello\n",
            "src/pkg/__init__.py": "",
            "docs/readme.md": "# docs\n",
        },
    )


# -- find_worktree_root -------------------------------------------------------------------------------


def test_find_worktree_root_from_top_and_from_below(repo: Path) -> None:
    assert git.find_worktree_root(repo) == repo
    assert git.find_worktree_root(repo / "src" / "pkg") == repo
    assert git.find_worktree_root(str(repo / "src")) == repo


def test_find_worktree_root_from_a_file_uses_its_folder(repo: Path) -> None:
    assert git.find_worktree_root(repo / "src" / "app.py") == repo


def test_find_worktree_root_outside_git_is_none(tmp_path: Path, git_env) -> None:
    plain = write_files(tmp_path / "plain", {"a.py": "x = 1\n"})
    assert git.find_worktree_root(plain) is None


def test_find_worktree_root_inside_dot_git_is_none(repo: Path) -> None:
    assert git.find_worktree_root(repo / ".git") is None


def test_find_worktree_root_missing_path_raises(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(RepositoryError) as info:
        git.find_worktree_root(missing)
    assert str(info.value) == f"repository path does not exist: {missing}"


def test_redirecting_environment_is_ignored(repo: Path, tmp_path: Path, make_git_repo, monkeypatch) -> None:
    other = make_git_repo(tmp_path / "other", {"other.py": "y = 2\n"})
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    assert git.find_worktree_root(repo / "src") == repo
    assert git.list_files(repo) == [".gitignore", "docs/readme.md", "src/app.py", "src/pkg/__init__.py"]


# -- head_commit ------------------------------------------------------------------------------------------


def test_head_commit_is_the_full_hash_of_head(repo: Path) -> None:
    expected = run_git(repo, "rev-parse", "HEAD").strip()
    assert git.head_commit(repo) == expected
    assert git.head_commit(repo / "src") == expected
    # Fixed identity and dates in the test environment make the commit reproducible.
    assert expected == "7c0f9b93351b0f4862fd8e99980c44bb979c238e"


def test_head_commit_follows_new_commits(repo: Path, make_git_repo) -> None:
    first = git.head_commit(repo)
    make_git_repo(repo, {"src/more.py": "z = 3\n"}, message="second")
    second = git.head_commit(repo)
    assert second != first
    assert second == run_git(repo, "rev-parse", "HEAD").strip()
    assert run_git(repo, "rev-parse", "HEAD~1").strip() == first


def test_head_commit_without_commits_is_none(tmp_path: Path, make_git_repo) -> None:
    empty = make_git_repo(tmp_path / "empty", {"a.py": "x = 1\n"}, commit=False)
    assert git.head_commit(empty) is None


def test_head_commit_outside_git_is_none(tmp_path: Path, git_env) -> None:
    assert git.head_commit(tmp_path) is None


# -- git_dir / git_common_dir -------------------------------------------------------------------------


def test_git_dirs_of_a_plain_repository(repo: Path) -> None:
    assert git.git_dir(repo) == repo / ".git"
    assert git.git_common_dir(repo) == repo / ".git"
    assert git.git_common_dir(repo / "src" / "pkg") == repo / ".git"


def test_git_dirs_of_a_linked_worktree(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    run_git(repo, "worktree", "add", "--quiet", "-b", "feature", str(linked))
    assert git.find_worktree_root(linked) == linked
    assert git.git_dir(linked) == repo / ".git" / "worktrees" / "linked"
    assert git.git_common_dir(linked) == repo / ".git"
    assert git.git_common_dir(linked / "src") == repo / ".git"
    assert git.head_commit(linked) == git.head_commit(repo)


def test_git_dirs_outside_git_are_none(tmp_path: Path, git_env) -> None:
    assert git.git_dir(tmp_path) is None
    assert git.git_common_dir(tmp_path) is None


# -- list_files -------------------------------------------------------------------------------------------


def test_list_files_tracked_and_untracked_not_ignored(repo: Path) -> None:
    write_files(
        repo,
        {
            "src/new.py": "n = 1\n",  # untracked
            "debug.log": "ignored\n",  # ignored by pattern
            "build/out.py": "ignored\n",  # ignored folder
            "src/pkg/data.bin": b"\x00\x01",
        },
    )
    assert git.list_files(repo) == [
        ".gitignore",
        "docs/readme.md",
        "src/app.py",
        "src/new.py",
        "src/pkg/__init__.py",
        "src/pkg/data.bin",
    ]


def test_list_files_drops_deleted_tracked_files(repo: Path) -> None:
    (repo / "docs" / "readme.md").unlink()
    assert git.list_files(repo) == [".gitignore", "src/app.py", "src/pkg/__init__.py"]
    assert "docs/readme.md" in run_git(repo, "ls-files")  # still tracked


def test_list_files_from_a_subfolder_is_relative_to_it(repo: Path) -> None:
    write_files(repo, {"src/pkg/new.py": ""})
    assert git.list_files(repo / "src") == ["app.py", "pkg/__init__.py", "pkg/new.py"]


def test_list_files_skips_submodules_and_nested_repositories(repo: Path, make_git_repo) -> None:
    make_git_repo(repo / "vendor" / "lib", {"lib.py": "v = 1\n"})
    run_git(repo, "add", "vendor/lib")  # recorded as a gitlink (mode 160000)
    run_git(repo, "commit", "--quiet", "-m", "vendor")
    make_git_repo(repo / "scratch", {"s.py": "s = 1\n"})  # untracked nested repository
    assert "160000" in run_git(repo, "ls-files", "-s", "vendor/lib")
    assert git.list_files(repo) == [".gitignore", "docs/readme.md", "src/app.py", "src/pkg/__init__.py"]
    assert "vendor/lib" not in git.blob_ids(repo)


def test_list_files_keeps_symlinks_even_dangling(repo: Path) -> None:
    os.symlink("app.py", repo / "src" / "alias.py")
    os.symlink("missing.py", repo / "src" / "dangling.py")
    assert git.list_files(repo) == [
        ".gitignore",
        "docs/readme.md",
        "src/alias.py",
        "src/app.py",
        "src/dangling.py",
        "src/pkg/__init__.py",
    ]


def test_list_files_lists_each_unmerged_path_once(repo: Path) -> None:
    run_git(repo, "checkout", "--quiet", "-b", "other")
    (repo / "src" / "app.py").write_text("other\n")
    run_git(repo, "commit", "--quiet", "-am", "other")
    run_git(repo, "checkout", "--quiet", "main")
    (repo / "src" / "app.py").write_text("main\n")
    run_git(repo, "commit", "--quiet", "-am", "main")
    merge = subprocess.run(["git", "-C", str(repo), "merge", "other"], capture_output=True, check=False)
    assert merge.returncode == 1
    assert run_git(repo, "ls-files", "--cached").splitlines().count("src/app.py") == 3
    assert git.list_files(repo) == [".gitignore", "docs/readme.md", "src/app.py", "src/pkg/__init__.py"]
    assert "src/app.py" not in git.blob_ids(repo)


def test_list_files_keeps_non_utf8_names_as_surrogate_escapes(repo: Path) -> None:
    raw = os.path.join(os.fsencode(repo), b"src", b"caf\xe9.py")
    with open(raw, "wb") as handle:
        handle.write(b"x = 1\n")
    listed = git.list_files(repo)
    assert "src/caf\udce9.py" in listed
    assert os.fsencode(repo / "src/caf\udce9.py") == raw


def test_list_files_outside_git_raises(tmp_path: Path, git_env) -> None:
    with pytest.raises(RepositoryError) as info:
        git.list_files(tmp_path)
    assert str(info.value) == f"not inside a git work tree: {tmp_path}"


def test_list_files_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError) as info:
        git.list_files(tmp_path / "gone")
    assert str(info.value) == f"repository path does not exist: {tmp_path / 'gone'}"


# -- blob_ids / hash_blob ---------------------------------------------------------------------------------


def test_blob_ids_are_the_index_ids_of_tracked_files(repo: Path) -> None:
    ids = git.blob_ids(repo)
    assert ids == {
        ".gitignore": git.hash_blob(b"*.log\nbuild/\n"),
        "docs/readme.md": git.hash_blob(b"# docs\n"),
        "src/app.py": HELLO_BLOB,
        "src/pkg/__init__.py": EMPTY_BLOB,
    }
    assert ids["docs/readme.md"] == run_git(repo, "hash-object", "docs/readme.md").strip()


def test_blob_ids_show_staged_content_not_the_work_tree(repo: Path) -> None:
    (repo / "src" / "app.py").write_text("changed\n")
    write_files(repo, {"src/untracked.py": "u = 1\n"})
    ids = git.blob_ids(repo)
    assert ids["src/app.py"] == HELLO_BLOB
    assert "src/untracked.py" not in ids
    run_git(repo, "add", "src/app.py")
    assert git.blob_ids(repo)["src/app.py"] == git.hash_blob(b"changed\n")


def test_blob_ids_from_a_subfolder_is_relative_to_it(repo: Path) -> None:
    assert git.blob_ids(repo / "src") == {"app.py": HELLO_BLOB, "pkg/__init__.py": EMPTY_BLOB}


def test_blob_ids_outside_git_raises(tmp_path: Path, git_env) -> None:
    with pytest.raises(RepositoryError) as info:
        git.blob_ids(tmp_path)
    assert str(info.value) == f"not inside a git work tree: {tmp_path}"


def test_hash_blob_matches_git() -> None:
    assert git.hash_blob(b"") == EMPTY_BLOB
    assert git.hash_blob(b"hello\n") == HELLO_BLOB
    assert git.hash_blob(b"hello\n", algorithm="sha256") == (
        "2cf8d83d9ee29543b34a87727421fdecb7e3f3a183d337639025de576db9ebb4"
    )


# -- is_ignored -------------------------------------------------------------------------------------------


def test_is_ignored(repo: Path) -> None:
    write_files(repo, {"build/gen/out.py": "", "src/keep.py": ""})
    assert git.is_ignored(repo / "build" / "gen") is True
    assert git.is_ignored(repo / "src") is False
    assert git.is_ignored(repo, "debug.log") is True
    assert git.is_ignored(repo, "src/keep.py") is False
