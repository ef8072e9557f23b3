"""Find the source files of a repository: the first step of indexing.

Inside a git work tree the candidates come from git (tracked plus untracked-but-not-ignored files, one
subprocess). Outside one, the folder is walked, honouring every ``.gitignore`` on the way (a nested
``.gitignore`` applies to its own subtree, later and deeper patterns win, ``!`` re-includes). In both
cases a few folders are always left out (:data:`ALWAYS_SKIPPED_DIRS`) and every candidate whose name
ends with one of ``extensions`` is checked: a regular file (or a symlink to a regular file inside the
root), not larger than ``max_bytes``, not binary (a NUL byte in its first 8 KB), with a UTF-8 name.
Anything else lands in ``Discovery.skipped`` with a reason; :func:`discover` does not raise on odd
trees (permission denied, dangling symlinks, symlink loops, fifos, sockets).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from semlease.adapters import git
from semlease.errors import RepositoryError

__all__ = [
    "ALWAYS_SKIPPED_DIRS",
    "BINARY_PROBE_BYTES",
    "Discovery",
    "Skipped",
    "SourceFile",
    "discover",
    "resolve_repo",
]

ALWAYS_SKIPPED_DIRS = frozenset({".git", ".semlease", ".venv", "node_modules", "__pycache__"})
BINARY_PROBE_BYTES = 8192


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file to index. ``path`` is relative to the root, with forward slashes."""

    path: str
    abs_path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Skipped:
    """A candidate left out, and why (``"binary"``, ``"too large (N bytes)"``, ``"unreadable: ..."``, ...)."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Discovery:
    files: tuple[SourceFile, ...]
    skipped: tuple[Skipped, ...]


# ---------------------------------------------------------------------------------------------------------
# entry points


def resolve_repo(path: str | None) -> Path:
    """The repository folder a command works on (the ``--repo`` option), absolute.

    Without a path: the git work tree enclosing the current folder, else the current folder. A given path
    must exist and be a folder; it is used as given (a sub-folder of a work tree stays a sub-folder).
    """
    if path is None or path == "":
        try:
            cwd = Path.cwd()
        except OSError as error:
            raise RepositoryError(f"the current folder cannot be read: {error.strerror or error}") from error
        return git.find_worktree_root(cwd) or cwd
    candidate = Path(path).expanduser()
    try:
        if not candidate.exists():
            raise RepositoryError(f"repository path does not exist: {path}")
        if not candidate.is_dir():
            raise RepositoryError(f"repository path is not a folder: {path}")
    except OSError as error:
        raise RepositoryError(f"repository path cannot be read: {path}: {error.strerror or error}") from error
    return Path(os.path.abspath(candidate))


def discover(root: Path | str, *, extensions: Iterable[str], max_bytes: int = 2_000_000,
             known: Collection[str] | None = None) -> Discovery:
    """List the files under ``root`` whose name ends with one of ``extensions`` (``".py"`` or ``"py"``).

    Results are sorted by path. Files of other extensions are ignored silently (they are not "skipped").
    ``known`` holds the paths indexed before: such a regular file is not opened here to be probed for
    binary content (a refresh of a large tree would otherwise open every file); the caller that reads it
    again, because its stat data moved, checks it then.
    """
    root_path = Path(root)
    if not root_path.exists():
        raise RepositoryError(f"repository path does not exist: {root}")
    if not root_path.is_dir():
        raise RepositoryError(f"repository path is not a folder: {root}")
    scan = _Scan(Path(os.path.abspath(root_path)), _normalise_extensions(extensions), max_bytes,
                 frozenset(known or ()))

    listed = _git_candidates(scan.root)
    if listed is None:
        scan.walk()
    else:
        for rel in listed:
            scan.consider_listed(rel)

    files = sorted(scan.files, key=lambda f: f.path)
    skipped = sorted(scan.skipped, key=lambda s: (s.path, s.reason))
    return Discovery(files=tuple(files), skipped=tuple(skipped))


# ---------------------------------------------------------------------------------------------------------
# internals


def _normalise_extensions(extensions: Iterable[str]) -> tuple[str, ...]:
    if isinstance(extensions, str):  # a lone ".py" would otherwise be taken as {".", "p", "y"}
        extensions = [extensions]
    out = {(e if e.startswith(".") else "." + e).lower() for e in extensions if e and e != "."}
    return tuple(sorted(out))


def _git_candidates(root: Path) -> list[str] | None:
    """git's file list for ``root``, or None when the folder should be walked instead."""
    top = git.find_worktree_root(root)
    if top is None:
        return None
    if os.path.realpath(top) != os.path.realpath(root) and git.is_ignored(root):
        # A folder git ignores (a downloaded corpus under an ignored path): git would list nothing.
        return None
    return git.list_files(root, on_disk=False)  # consider_listed stats each one


def _message(error: OSError) -> str:
    return error.strerror or str(error)


def _display(rel: str) -> str:
    """``rel`` as printable text: bytes that are not UTF-8 become U+FFFD."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


# One .gitignore: the folder it sits in (relative to the root, "" for the root) and its patterns.
_IgnoreFile = tuple[str, tuple]


def _load_gitignore(abs_path: str, rel_dir: str) -> _IgnoreFile | None:
    try:
        with open(abs_path, "rb") as handle:
            data = handle.read(1_000_000)
    except OSError:
        return None  # an unreadable .gitignore ignores nothing, as with git
    lines = data.decode("utf-8", "surrogateescape").splitlines()
    patterns = tuple(p for p in GitIgnoreSpec.from_lines(lines).patterns if p.include is not None)
    return (rel_dir, patterns) if patterns else None


def _ignored(ignore_files: tuple[_IgnoreFile, ...], rel: str, is_dir: bool) -> bool:
    """git's rule: the last matching pattern decides; a deeper .gitignore comes after a shallower one."""
    decision: bool | None = None
    for base, patterns in ignore_files:
        sub = rel[len(base) + 1 :] if base else rel
        if is_dir:
            sub += "/"
        for pattern in patterns:
            if pattern.match_file(sub) is not None:
                decision = pattern.include
    return bool(decision)


@dataclass(slots=True)
class _PendingLink:
    """A symlink to a folder met while walking; followed after every real folder has been seen."""

    rel: str
    abs_path: str
    ignore_files: tuple[_IgnoreFile, ...]
    ancestors: frozenset[tuple[int, int]]


class _Scan:
    def __init__(self, root: Path, extensions: tuple[str, ...], max_bytes: int, known: Collection[str]) -> None:
        self.known = known
        self.root = root
        self.real_root = os.path.realpath(root)
        self.extensions = extensions
        self.max_bytes = max_bytes
        self.files: list[SourceFile] = []
        self.skipped: list[Skipped] = []

    # -- shared -------------------------------------------------------------------------------------------

    def _skip(self, rel: str, reason: str) -> None:
        self.skipped.append(Skipped(_display(rel), reason))

    def _wanted(self, name: str) -> bool:
        return bool(self.extensions) and name.lower().endswith(self.extensions)

    def consider_listed(self, rel: str) -> None:
        """A path git listed (relative to the root, forward slashes)."""
        parts = rel.split("/")
        if any(part in ALWAYS_SKIPPED_DIRS for part in parts[:-1]) or not self._wanted(parts[-1]):
            return
        full = os.path.join(self.root, rel)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            return  # tracked, but deleted from the work tree
        except OSError as error:
            self._skip(rel, f"unreadable: {_message(error)}")
            return
        if stat.S_ISDIR(st.st_mode):
            return  # a submodule's checkout or a nested repository: not a file of this one
        self._inspect(rel, full, st)

    def _inspect(self, rel: str, full: str, lst: os.stat_result) -> None:
        """Decide about one candidate file; ``lst`` is its lstat."""
        if _display(rel) != rel:
            self._skip(rel, "unreadable: file name is not valid UTF-8")
            return
        is_link = stat.S_ISLNK(lst.st_mode)
        if is_link:
            try:
                st = os.stat(full)
            except OSError as error:
                if error.errno == errno.ELOOP:
                    self._skip(rel, "symlink loop")
                elif error.errno in (errno.ENOENT, errno.ENOTDIR):
                    self._skip(rel, "unreadable: dangling symlink")
                else:
                    self._skip(rel, f"unreadable: {_message(error)}")
                return
            real = os.path.realpath(full)
            if not _is_within(real, self.real_root):
                self._skip(rel, "symlink outside repository")
                return
            if stat.S_ISDIR(st.st_mode) and _is_within(os.path.realpath(os.path.dirname(full)), real):
                self._skip(rel, "symlink loop")
                return
        else:
            st = lst
            if rel in self.known and stat.S_ISREG(st.st_mode) and st.st_size <= self.max_bytes:
                self.files.append(SourceFile(path=rel, abs_path=self.root / rel, size=st.st_size,
                                             mtime_ns=st.st_mtime_ns))
                return  # indexed before: whoever reads it again checks it is still text
        if not stat.S_ISREG(st.st_mode):
            self._skip(rel, "not a regular file")
            return
        if st.st_size > self.max_bytes:
            self._skip(rel, f"too large ({st.st_size} bytes)")
            return
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        if not is_link:
            flags |= getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(full, flags)
        except OSError as error:
            self._skip(rel, f"unreadable: {_message(error)}")
            return
        try:
            st = os.fstat(fd)  # the file we actually opened (it may have changed since the stat)
            if not stat.S_ISREG(st.st_mode):
                self._skip(rel, "not a regular file")
                return
            if st.st_size > self.max_bytes:
                self._skip(rel, f"too large ({st.st_size} bytes)")
                return
            head = os.read(fd, BINARY_PROBE_BYTES)
        except OSError as error:
            self._skip(rel, f"unreadable: {_message(error)}")
            return
        finally:
            os.close(fd)
        if b"\0" in head:
            self._skip(rel, "binary")
            return
        self.files.append(
            SourceFile(path=rel, abs_path=self.root / rel, size=st.st_size, mtime_ns=st.st_mtime_ns)
        )

    # -- walking outside git ------------------------------------------------------------------------------

    def walk(self) -> None:
        try:
            root_stat = os.stat(self.root)
        except OSError as error:
            raise RepositoryError(
                f"repository path cannot be read: {self.root}: {_message(error)}"
            ) from error
        root_id = (root_stat.st_dev, root_stat.st_ino)
        visited: set[tuple[int, int]] = {root_id}
        pending: list[_PendingLink] = []
        # Phase 1: every real folder. Phase 2: folder symlinks, so that a link to a folder that was
        # walked anyway is reported instead of listing the same files twice, whatever the name order.
        self._walk_from("", str(self.root), (), frozenset({root_id}), visited, pending)
        while pending:
            pending.sort(key=lambda p: p.rel, reverse=True)
            link = pending.pop()
            try:
                st = os.stat(link.abs_path)
            except OSError as error:
                self._skip(link.rel, f"unreadable: {_message(error)}")
                continue
            ident = (st.st_dev, st.st_ino)
            if ident in link.ancestors:
                self._skip(link.rel, "symlink loop")
            elif ident in visited:
                target = os.path.relpath(os.path.realpath(link.abs_path), self.real_root).replace(os.sep, "/")
                self._skip(link.rel, f"symlink to a folder listed already ({target})")
            else:
                visited.add(ident)
                ancestors = link.ancestors | {ident}
                self._walk_from(link.rel, link.abs_path, link.ignore_files, ancestors, visited, pending)

    def _walk_from(
        self,
        rel_top: str,
        abs_top: str,
        ignore_top: tuple[_IgnoreFile, ...],
        ancestors_top: frozenset[tuple[int, int]],
        visited: set[tuple[int, int]],
        pending: list[_PendingLink],
    ) -> None:
        stack = [(rel_top, abs_top, ignore_top, ancestors_top)]
        while stack:
            rel_dir, abs_dir, ignore_files, ancestors = stack.pop()
            try:
                with os.scandir(abs_dir) as iterator:
                    entries = sorted(iterator, key=lambda e: e.name)
            except OSError as error:
                self._skip(rel_dir or ".", f"unreadable: {_message(error)}")
                continue
            for entry in entries:
                if entry.name == ".gitignore":
                    loaded = _load_gitignore(entry.path, rel_dir)
                    if loaded is not None:
                        ignore_files = (*ignore_files, loaded)
                    break
            subfolders = []
            for entry in entries:
                name = entry.name
                rel = f"{rel_dir}/{name}" if rel_dir else name
                try:
                    # d_type from the folder listing: no system call for most entries.
                    is_link = entry.is_symlink()
                    is_dir = not is_link and entry.is_dir(follow_symlinks=False)
                    lst = entry.stat(follow_symlinks=False) if is_dir else None
                except OSError as error:
                    self._skip(rel, f"unreadable: {_message(error)}")
                    continue
                if lst is not None:
                    if name in ALWAYS_SKIPPED_DIRS or _ignored(ignore_files, rel, True):
                        continue
                    ident = (lst.st_dev, lst.st_ino)
                    if ident in ancestors:  # a bind mount of a folder above
                        self._skip(rel, "folder loop")
                        continue
                    if ident in visited:  # a bind mount of a folder seen elsewhere
                        self._skip(rel, "folder listed already")
                        continue
                    visited.add(ident)
                    subfolders.append((rel, entry.path, ignore_files, ancestors | {ident}))
                elif is_link and _points_to_folder(entry.path):
                    if name in ALWAYS_SKIPPED_DIRS or _ignored(ignore_files, rel, True):
                        continue
                    if not _is_within(os.path.realpath(entry.path), self.real_root):
                        self._skip(rel, "symlink outside repository")
                        continue
                    pending.append(_PendingLink(rel, entry.path, ignore_files, ancestors))
                else:
                    if not self._wanted(name) or _ignored(ignore_files, rel, False):
                        continue
                    try:
                        lst = entry.stat(follow_symlinks=False)
                    except OSError as error:
                        self._skip(rel, f"unreadable: {_message(error)}")
                        continue
                    self._inspect(rel, entry.path, lst)
            stack.extend(reversed(subfolders))


def _points_to_folder(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False  # dangling or looping: handled as a file candidate
