"""Both versions of every file a patch changes, however the patch is given.

* ``--base REV --head REV``: ``git diff -M`` between the two commits; each version is read from its commit.
* ``--base REV`` alone: from the commit to the work tree, files git does not track yet included (an agent
  that has not run ``git add`` has still written them).
* ``--diff FILE`` (or ``-``): a unified diff from anywhere. The old version of each file is found by trying,
  in order, the commits the caller suggests (the lease's head), HEAD, the blob git's ``index`` line names,
  and the work tree; the first text the diff fits is the old version and the new one is the diff applied
  to it. A work tree that already holds the patched file is recognised too (the diff applied backwards).
  A diff that fits no version of a file is refused with the line that differs.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from semlease.adapters import git
from semlease.adapters.diff import (
    ADDED,
    DELETED,
    DiffError,
    FileChange,
    PatchMismatch,
    apply_change,
    parse_diff,
    unapply_change,
)
from semlease.errors import RepositoryError

WORK_TREE = "work tree"


@dataclass(frozen=True, slots=True)
class FileVersions:
    """One changed file: its change and its text before and after (None where the file does not exist,
    and for binary files)."""

    change: FileChange
    old: bytes | None
    new: bytes | None


@dataclass(frozen=True)
class PatchInput:
    """A patch with both versions of its files."""

    source: str  # for messages: "patch.diff", "HEAD~1..HEAD", "1a2b3c4..work tree"
    diff: bytes  # the unified diff (what `git apply` takes)
    files: tuple[FileVersions, ...]
    base: str | None  # the commit every old version was read from, when there is one
    head: str | None  # the commit of the new versions; None when they are not a commit
    new_in_work_tree: bool  # the work tree holds the new version of every file (tests can run there)


def from_revisions(root: Path, base: str, head: str | None = None) -> PatchInput:
    base_commit = git.resolve_commit(root, base)
    head_commit = git.resolve_commit(root, head) if head else None
    data = git.diff(root, base_commit, head_commit)
    if head_commit is None:
        data += _untracked_as_added(root)
    changes = parse_diff(data, source=f"git diff {base}{' ' + head if head else ''}") if data.strip() else ()
    files = []
    for change in changes:
        old = git.file_at(root, base_commit, change.old_path) if change.old_path and not change.binary else None
        new = None
        if change.new_path and not change.binary:
            new = (git.file_at(root, head_commit, change.new_path) if head_commit
                   else _read(root / change.new_path))
        files.append(FileVersions(change, old, new))
    source = f"{base}..{head if head else WORK_TREE}"
    in_work_tree = head_commit is None or (
        head_commit == git.head_commit(root) and not git.diff(root, head_commit).strip())
    return PatchInput(source=source, diff=data, files=tuple(files), base=base_commit, head=head_commit,
                      new_in_work_tree=in_work_tree)


def from_diff(root: Path, data: bytes, source: str, *, candidates: Sequence[str] = ()) -> PatchInput:
    """``candidates`` are commits to try, first, as the version the diff was made from."""
    changes = parse_diff(data, source=source)
    in_git = git.find_worktree_root(root) is not None
    if in_git:
        changes = _relative(changes, git.prefix(root))
    revisions = _distinct_commits(root, [*candidates, "HEAD"]) if in_git else []
    files: list[FileVersions] = []
    bases: set[str | None] = set()
    in_work_tree = True
    for change in changes:
        versions, base, work_tree_is_new = _versions(root, change, revisions, source)
        files.append(versions)
        bases.add(base)
        in_work_tree = in_work_tree and work_tree_is_new
    base = bases.pop() if len(bases) == 1 else None
    commit = None
    if base is not None:
        try:
            commit = git.resolve_commit(root, base)
        except RepositoryError:
            commit = None
    return PatchInput(source=source, diff=data, files=tuple(files), base=commit, head=None,
                      new_in_work_tree=in_work_tree)


def _versions(root: Path, change: FileChange, revisions: list[str], source: str
              ) -> tuple[FileVersions, str | None, bool]:
    """Both versions of one file, the commit the old one came from, and whether the work tree holds the new."""
    on_disk_new = _read(root / change.new_path) if change.new_path else None
    if change.binary:
        return FileVersions(change, None, None), None, True
    if change.status == ADDED:
        new = _encode(apply_change(change, ""))
        return FileVersions(change, None, new), None, on_disk_new == new
    if change.status == DELETED:  # the diff holds every line of a deleted file
        old = _encode(unapply_change(change, ""))
        return FileVersions(change, old, None), None, not (root / change.old_path).exists()
    path = change.old_path or change.path
    tried: list[tuple[str, bytes]] = []
    for rev in revisions:  # a commit first: a patch that fits one can be applied to a worktree of it
        text = git.file_at(root, rev, path)
        if text is not None:
            tried.append((rev, text))
    if change.old_blob:  # the commit holding the very blob git's `index` line names, before any other
        tried.sort(key=lambda item: not git.hash_blob(item[1]).startswith(change.old_blob))
    on_disk_old = _read(root / path)
    if change.old_blob and (tried or on_disk_old is not None or on_disk_new is not None):
        # the blob only tells which version of a file that is here: never a file from another layout
        blob = git.read_blob(root, change.old_blob)
        if blob is not None:
            tried.append((f"blob {change.old_blob}", blob))
    if on_disk_old is not None:
        tried.append((WORK_TREE, on_disk_old))
    first_mismatch: PatchMismatch | None = None
    for where, text in tried:
        try:
            new = _encode(apply_change(change, _decode(text)))
        except PatchMismatch as mismatch:
            first_mismatch = first_mismatch or mismatch
            continue
        base = where if where in revisions else None
        return FileVersions(change, text, new), base, on_disk_new == new
    if on_disk_new is not None:  # the work tree may already hold the patched file
        try:
            old = _encode(unapply_change(change, _decode(on_disk_new)))
            return FileVersions(change, old, on_disk_new), None, True
        except PatchMismatch:
            pass
    if not tried:
        elsewhere = f", nor in {', '.join(revisions)}" if revisions else ""
        raise DiffError(f"{source} changes {path}, which is not in the work tree{elsewhere}")
    detail = first_mismatch.detail if first_mismatch else "it does not fit"
    raise DiffError(f"{source} was not made from any version of {path} here (tried "
                    f"{', '.join(w for w, _ in tried)}): {detail}")


def _relative(changes: tuple[FileChange, ...], prefix: str) -> tuple[FileChange, ...]:
    """A diff made at the top of the work tree, read in a sub-folder of it: paths relative to the folder."""
    if not prefix:
        return changes
    paths = [p for c in changes for p in (c.old_path, c.new_path) if p is not None]
    if not paths or not all(p.startswith(prefix) for p in paths):
        return changes

    def cut(path: str | None) -> str | None:
        return path[len(prefix):] if path is not None else None

    return tuple(dataclasses.replace(c, old_path=cut(c.old_path), new_path=cut(c.new_path)) for c in changes)


def _distinct_commits(root: Path, revisions: list[str]) -> list[str]:
    """The revisions that name a commit, each commit once, in order: HEAD by that name, others by a short
    hash."""
    head = git.head_commit(root)
    found: dict[str, str] = {}
    for rev in revisions:
        try:
            commit = head if rev == "HEAD" else git.resolve_commit(root, rev)
        except RepositoryError:
            continue
        if commit is None:
            continue
        label = "HEAD" if commit == head else commit[:12]
        found.setdefault(commit, label)  # in the order given: the lease's commit is tried before HEAD
    return list(found.values())


def _untracked_as_added(root: Path) -> bytes:
    """Files git does not track yet, as a diff adding them."""
    out = []
    for rel in git.untracked_files(root):
        data = _read(root / rel)
        if data is None:
            continue
        header = f"diff --git a/{rel} b/{rel}\nnew file mode 100644\n"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None or "\0" in text:
            out.append(header + f"Binary files /dev/null and b/{rel} differ\n")
            continue
        if not text:
            out.append(header)
            continue
        lines = text.splitlines(keepends=True)
        body = "".join("+" + line if line.endswith(("\n", "\r")) else "+" + line + "\n\\ No newline at end of file\n"
                       for line in lines)
        out.append(header + f"--- /dev/null\n+++ b/{rel}\n@@ -0,0 +1,{len(lines)} @@\n" + body)
    return "".join(out).encode("utf-8")


def _read(path: Path) -> bytes | None:
    try:
        if path.is_symlink() and not path.exists():
            return None
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def describe(path: str | os.PathLike[str]) -> str:
    """How a diff file is named in messages (``-`` is standard input)."""
    return "the diff on standard input" if os.fspath(path) == "-" else f"the diff {os.fspath(path)}"
