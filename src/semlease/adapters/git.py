"""Thin wrappers around the ``git`` command line (one subprocess per call, no GitPython).

Every function takes a folder and runs ``git -C <folder> ...``. Paths that git prints are decoded with
``os.fsdecode`` (so a file name that is not valid UTF-8 keeps its bytes as surrogate escapes) and are
relative to that folder, with forward slashes. Failures raise :class:`RepositoryError` with one line.

"Not a git repository" is an answer, not an error, for :func:`find_worktree_root`, :func:`head_commit`,
:func:`git_dir` and :func:`git_common_dir` (they return ``None``; so does a machine without git).
:func:`list_files` and :func:`blob_ids` need a work tree and raise outside one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from semlease.errors import RepositoryError

__all__ = [
    "add_worktree",
    "apply_patch",
    "blob_ids",
    "commit_times",
    "diff",
    "file_at",
    "prefix",
    "read_blob",
    "remove_worktree",
    "repository_identity",
    "resolve_commit",
    "temporary_worktree",
    "untracked_files",
    "find_worktree_root",
    "git_common_dir",
    "git_dir",
    "hash_blob",
    "head_commit",
    "is_ignored",
    "list_files",
]

# Variables that would point git somewhere other than the folder we pass with -C (set, for instance,
# while a git hook runs). GIT_INDEX_FILE is kept on purpose: inside a hook it names the index being built.
_REDIRECTING_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_PREFIX", "GIT_NAMESPACE")

# stderr fragments (LC_ALL=C) that mean "this folder is not inside a work tree" rather than a failure.
_NOT_A_REPO = ("not a git repository", "must be run in a work tree", "this operation must be run")

_GITLINK_MODE = "160000"


class _GitMissing(Exception):
    """The git executable cannot be started."""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTING_ENV}
    env["LC_ALL"] = "C"  # stable, English messages that we can recognise
    env["GIT_OPTIONAL_LOCKS"] = "0"  # read-only commands must not take index.lock (parallel agents)
    return env


def _run(folder: Path, args: list[str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", os.fspath(folder), *args],
            capture_output=True,
            env=_env(),
            check=False,
        )
    except FileNotFoundError as error:
        raise _GitMissing() from error
    except OSError as error:  # e.g. folder vanished, exec permission
        raise RepositoryError(f"cannot run git in {folder}: {error.strerror or error}") from error


def _first_line(stderr: bytes) -> str:
    for line in stderr.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("fatal: ").removeprefix("error: ")
    return "unknown error"


def _is_not_a_repo(stderr: bytes) -> bool:
    text = stderr.decode("utf-8", "replace").lower()
    return any(fragment in text for fragment in _NOT_A_REPO)


def _fail(folder: Path, what: str, result: subprocess.CompletedProcess[bytes]) -> RepositoryError:
    return RepositoryError(f"git {what} failed in {folder}: {_first_line(result.stderr)}")


def _check_folder(folder: Path) -> Path:
    folder = Path(folder)
    if not folder.exists():
        raise RepositoryError(f"repository path does not exist: {folder}")
    return folder if folder.is_dir() else folder.parent


def _single_path(folder: Path, args: list[str]) -> Path | None:
    """Run a rev-parse that prints one path; None outside a repository or without git."""
    folder = _check_folder(folder)
    try:
        result = _run(folder, args)
    except _GitMissing:
        return None
    if result.returncode != 0:
        if _is_not_a_repo(result.stderr):
            return None
        raise _fail(folder, " ".join(args), result)
    text = os.fsdecode(result.stdout.rstrip(b"\n"))
    if not text:
        return None
    path = Path(text)
    if not path.is_absolute():
        path = folder / path
    return Path(os.path.abspath(path))


def find_worktree_root(path: Path | str) -> Path | None:
    """The top folder of the git work tree that holds ``path``; None outside one (or in a bare repo)."""
    return _single_path(Path(path), ["rev-parse", "--show-toplevel"])


def git_dir(root: Path | str) -> Path | None:
    """Absolute path of this work tree's git directory (``.git``, or ``.git/worktrees/<name>``)."""
    return _single_path(Path(root), ["rev-parse", "--absolute-git-dir"])


def git_common_dir(root: Path | str) -> Path | None:
    """Absolute path of the git directory shared by all linked work trees (the main ``.git``)."""
    return _single_path(Path(root), ["rev-parse", "--git-common-dir"])


def head_commit(root: Path | str) -> str | None:
    """Full hash of HEAD; None when the repository has no commit yet or ``root`` is not in git."""
    folder = _check_folder(Path(root))
    try:
        result = _run(folder, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
    except _GitMissing:
        return None
    if result.returncode == 0:
        return result.stdout.decode("ascii").strip() or None
    if result.returncode == 1 or _is_not_a_repo(result.stderr):
        return None  # --verify --quiet exits 1 without a message when HEAD does not resolve
    raise _fail(folder, "rev-parse HEAD", result)


def _require_repo(folder: Path, args: list[str], what: str) -> bytes:
    folder = _check_folder(folder)
    try:
        result = _run(folder, args)
    except _GitMissing as error:
        raise RepositoryError("git is not installed (no 'git' on PATH)") from error
    if result.returncode != 0:
        if _is_not_a_repo(result.stderr):
            raise RepositoryError(f"not inside a git work tree: {folder}")
        raise _fail(folder, what, result)
    return result.stdout


def list_files(root: Path | str, *, on_disk: bool = True) -> list[str]:
    """Tracked files plus untracked files that are not ignored, relative to ``root``, sorted.

    Entries that no longer exist on disk (deleted but still tracked) are dropped; so are submodules
    (gitlinks), nested repositories and sparse-directory entries, which git reports as folders. A
    symbolic link is kept as an entry (even a dangling one): deciding what it points to is the caller's job.
    ``on_disk=False`` leaves out the look at the disk (a caller that stats every file anyway).
    """
    folder = Path(root)
    out = _require_repo(folder, ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], "ls-files")
    folder = _check_folder(folder)
    seen: set[str] = set()
    files: list[str] = []
    for raw in out.split(b"\0"):
        if not raw or raw.endswith(b"/"):  # nested repository / sparse directory
            continue
        rel = os.fsdecode(raw)
        if rel in seen:  # unmerged paths appear once per stage
            continue
        seen.add(rel)
        if not on_disk:
            files.append(rel)
            continue
        full = os.path.join(folder, rel)
        if not os.path.lexists(full):
            continue
        if os.path.isdir(full) and not os.path.islink(full):  # submodule checkout (gitlink)
            continue
        files.append(rel)
    files.sort()
    return files


def is_ignored(root: Path | str, path: str = ".") -> bool:
    """Whether git's ignore rules exclude ``path`` (relative to ``root``; ``"."`` = ``root`` itself).

    Used to notice a folder that sits inside a work tree but is ignored by it (a downloaded corpus, say),
    where ``git ls-files`` would list nothing. Must be called inside a work tree, below its top.
    """
    folder = _check_folder(Path(root))
    try:
        result = _run(folder, ["check-ignore", "--quiet", "--", path])
    except _GitMissing as error:
        raise RepositoryError("git is not installed (no 'git' on PATH)") from error
    if result.returncode in (0, 1):
        return result.returncode == 0
    if _is_not_a_repo(result.stderr):
        raise RepositoryError(f"not inside a git work tree: {folder}")
    raise _fail(folder, "check-ignore", result)


def blob_ids(root: Path | str) -> dict[str, str]:
    """Path (relative to ``root``) -> blob id recorded in the index, for tracked files.

    These are the *staged* contents: a file modified in the work tree since ``git add`` no longer has
    this id (compare with :func:`hash_blob` of its bytes). Submodules are left out (their id names a
    commit, not a blob) and so are unmerged paths (no single blob describes them).
    """
    out = _require_repo(Path(root), ["ls-files", "-s", "-z"], "ls-files -s")
    ids: dict[str, str] = {}
    conflicted: set[str] = set()
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        parts = meta.split()
        if len(parts) != 3:
            continue
        mode, sha, stage = (p.decode("ascii") for p in parts)
        path = os.fsdecode(raw_path)
        if stage != "0":
            conflicted.add(path)
            continue
        if mode == _GITLINK_MODE:
            continue
        ids[path] = sha
    for path in conflicted:
        ids.pop(path, None)
    return ids


def hash_blob(data: bytes, *, algorithm: str = "sha1") -> str:
    """The id git gives ``data`` as a blob (``git hash-object``), without running git.

    ``algorithm`` is ``"sha1"`` (the default object format) or ``"sha256"``.
    """
    digest = hashlib.new(algorithm)
    digest.update(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------ patches
def repository_identity(root: Path | str) -> str:
    """What names this repository wherever it is cloned: ``git:<root commit>`` (the oldest commit HEAD
    descends from, the same in every clone and worktree), followed by ``:<folder>`` for a sub-folder of the
    work tree indexed on its own; ``git-dir:<common git dir>`` before the first commit, ``path:<folder>``
    outside git."""
    folder = _check_folder(Path(root))
    try:
        result = _run(folder, ["rev-list", "--max-parents=0", "HEAD"])
    except _GitMissing:
        result = None
    if result is not None and result.returncode == 0 and result.stdout.strip():
        where = prefix(folder).rstrip("/")  # a sub-folder of the work tree is a repository of its own
        return "git:" + sorted(result.stdout.decode("ascii").split())[0] + (f":{where}" if where else "")
    common = git_common_dir(folder)
    if common is not None:
        return f"git-dir:{common}"
    return f"path:{Path(os.path.abspath(folder))}"


def resolve_commit(root: Path | str, rev: str) -> str:
    """The full hash of the commit ``rev`` names; one line when it names none."""
    folder = _check_folder(Path(root))
    try:
        result = _run(folder, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"])
    except _GitMissing as error:
        raise RepositoryError("git is not installed (no 'git' on PATH)") from error
    if result.returncode != 0:
        if _is_not_a_repo(result.stderr):
            raise RepositoryError(f"not inside a git work tree: {folder}")
        raise RepositoryError(f"{rev!r} names no commit in {folder}")
    return result.stdout.decode("ascii").strip()


def diff(root: Path | str, base: str, head: str | None = None) -> bytes:
    """``git diff -M base [head]``: between two commits, or from ``base`` to the work tree (tracked files).
    Paths are relative to ``root`` and limited to it (``--relative``: ``root`` may be a sub-folder of the
    work tree) and written as they are, not C-quoted (``core.quotePath=false``)."""
    args = ["-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M",
            "--relative", "--end-of-options", base]
    return _require_repo(Path(root), args + ([head] if head else []), f"diff {base}{' ' + head if head else ''}")


def prefix(root: Path | str) -> str:
    """Where ``root`` sits in its work tree (``shop/`` for a sub-folder, ``""`` at the top)."""
    out = _require_repo(Path(root), ["rev-parse", "--show-prefix"], "rev-parse --show-prefix")
    return os.fsdecode(out.strip())


def file_at(root: Path | str, rev: str, path: str) -> bytes | None:
    """The file as it is in commit ``rev``; None when the commit does not hold it."""
    folder = _check_folder(Path(root))
    try:  # `rev:./path` is relative to the folder git runs in, which may be a sub-folder of the work tree
        result = _run(folder, ["cat-file", "blob", f"{rev}:./{path}"])
    except _GitMissing as error:
        raise RepositoryError("git is not installed (no 'git' on PATH)") from error
    return result.stdout if result.returncode == 0 else None


def read_blob(root: Path | str, blob: str) -> bytes | None:
    """A blob by its (possibly abbreviated) id; None when git does not have it or it is ambiguous."""
    folder = _check_folder(Path(root))
    try:
        result = _run(folder, ["cat-file", "blob", blob])
    except _GitMissing:
        return None
    return result.stdout if result.returncode == 0 else None


def untracked_files(root: Path | str) -> list[str]:
    """Files git does not track and does not ignore (a patch in the work tree may have added them)."""
    out = _require_repo(Path(root), ["ls-files", "-z", "--others", "--exclude-standard"], "ls-files --others")
    return sorted(os.fsdecode(raw) for raw in out.split(b"\0") if raw and not raw.endswith(b"/"))


def commit_times(root: Path | str, base: str, head: str) -> list[tuple[str, int]]:
    """``(commit, committer time in seconds since the epoch)`` of every commit in ``base..head``, oldest
    first."""
    out = _require_repo(Path(root), ["log", "--reverse", "--format=%H %ct", "--end-of-options", f"{base}..{head}"],
                        f"log {base}..{head}")
    found = []
    for line in out.decode("ascii").splitlines():
        commit, _, seconds = line.partition(" ")
        found.append((commit, int(seconds)))
    return found


def add_worktree(root: Path | str, folder: Path, commit: str) -> None:
    """A detached worktree of ``commit`` at ``folder`` (which must not exist)."""
    _require_repo(Path(root), ["worktree", "add", "--detach", "--quiet", os.fspath(folder), commit],
                  "worktree add")


@contextmanager
def temporary_worktree(root: Path | str, commit: str, patch: bytes | None = None, *,
                       directory: str = "") -> Iterator[Path]:
    """A detached worktree of ``commit`` in a temporary folder (with ``patch`` applied to its files: its
    paths relative to the top, or to ``directory`` when they all name files there), removed afterwards
    whatever happens. Yields the worktree's top."""
    parent = Path(tempfile.mkdtemp(prefix="semlease-tree-"))
    folder = parent / "tree"
    try:
        add_worktree(root, folder, commit)
        if patch is not None:
            try:
                apply_patch(folder, patch)
            except RepositoryError:
                if not directory:
                    raise
                apply_patch(folder, patch, directory=directory)
        yield folder
    finally:
        remove_worktree(root, folder)
        shutil.rmtree(parent, ignore_errors=True)


def remove_worktree(root: Path | str, folder: Path) -> None:
    """Remove a worktree made by :func:`add_worktree`, whatever it holds; never raises."""
    try:
        _run(Path(root), ["worktree", "remove", "--force", os.fspath(folder)])
        _run(Path(root), ["worktree", "prune"])
    except (_GitMissing, RepositoryError):
        pass


def apply_patch(folder: Path | str, patch: bytes, *, directory: str = "") -> None:
    """``git apply`` in a work tree (its files only, not its index), the patch's paths taken under
    ``directory``; one line when the patch does not apply."""
    folder = _check_folder(Path(folder))
    into = [f"--directory={directory.rstrip('/')}"] if directory else []
    try:
        result = subprocess.run(["git", "-C", os.fspath(folder), "apply", "--whitespace=nowarn", *into, "-"],
                                input=patch, capture_output=True, env=_env(), check=False)
    except FileNotFoundError as error:
        raise RepositoryError("git is not installed (no 'git' on PATH)") from error
    if result.returncode != 0:
        raise RepositoryError(f"the patch does not apply in {folder}: {_first_line(result.stderr)}")
