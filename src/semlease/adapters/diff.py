"""Unified diffs in, file changes out: which lines of which files a patch removes and adds.

Parsing is unidiff's (git's extended headers included: renames, new and deleted files, binary files). What
this module adds is the checking a coordinator needs before it records anything: an empty, binary, huge,
truncated or malformed diff is one clear line (exit 2), never a half-read patch.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from semlease.errors import SemleaseError

MAX_DIFF_BYTES = 64 * 1024 * 1024
ADDED, DELETED, MODIFIED, RENAMED = "added", "deleted", "modified", "renamed"


class DiffError(SemleaseError):
    """The diff cannot be read as a unified diff, or git could not produce it."""


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file of a patch. Line numbers are 1-based: ``removed`` in the old file, ``added`` in the new one.

    A pure insertion removes nothing; ``insertions`` holds, for each run of added lines, the old line it
    follows (0 for the top of the file), so the change can be placed inside whatever encloses that spot.
    """

    old_path: str | None  # None for an added file
    new_path: str | None  # None for a deleted file
    status: str  # added | deleted | modified | renamed
    binary: bool = False
    removed: tuple[int, ...] = ()
    added: tuple[int, ...] = ()
    insertions: tuple[int, ...] = ()

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""

    def __str__(self) -> str:
        moved = f"{self.old_path} -> {self.new_path}" if self.status == RENAMED else self.path
        return f"{self.status} {moved} (-{len(self.removed)} +{len(self.added)})"


def parse_diff(data: str | bytes, *, source: str = "the diff") -> tuple[FileChange, ...]:
    """Every file the diff changes, in order. Raises :class:`DiffError` for anything that is not a
    complete unified diff."""
    if isinstance(data, bytes):
        if len(data) > MAX_DIFF_BYTES:
            raise DiffError(f"{source} is {len(data) / 2**20:.0f} MB, over the {MAX_DIFF_BYTES // 2**20} MB limit")
        if b"\0" in data:
            raise DiffError(f"{source} is binary data, not a unified diff")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DiffError(f"{source} is not UTF-8 text (byte {error.start}); "
                            "produce it with git diff or diff -u") from error
    else:
        text = data
        if len(text) > MAX_DIFF_BYTES:
            raise DiffError(f"{source} is over the {MAX_DIFF_BYTES // 2**20} MB limit")
    if not text.strip():
        raise DiffError(f"{source} is empty: nothing to check")
    try:
        patch = PatchSet(text)
    except UnidiffParseError as error:
        raise DiffError(f"{source} is not a valid unified diff: {error}") from error
    stray = _stray_line(text, str(patch))
    if stray is not None:
        raise DiffError(f"{source} is not a valid unified diff: line {stray[0]} ({stray[1][:40]!r}) lies outside "
                        "every hunk; is the diff truncated or edited by hand?")
    if not patch:
        first = text.strip().splitlines()[0][:80]
        raise DiffError(f"{source} holds no file changes (it starts with {first!r}); "
                        "expected the output of git diff or diff -u")
    changes = []
    for patched in patch:
        old = _strip(patched.source_file)
        new = _strip(patched.target_file)
        if patched.is_added_file:
            status, old = ADDED, None
        elif patched.is_removed_file:
            status, new = DELETED, None
        elif patched.is_rename or (old and new and old != new):
            status = RENAMED
        else:
            status = MODIFIED
        removed: list[int] = []
        added: list[int] = []
        insertions: list[int] = []
        for hunk in patched:
            last_old = hunk.source_start - 1 if hunk.source_length else hunk.source_start
            in_run = False
            for line in hunk:
                if line.is_removed:
                    removed.append(line.source_line_no)
                    last_old = line.source_line_no
                    in_run = False
                elif line.is_added:
                    added.append(line.target_line_no)
                    if not in_run:
                        insertions.append(last_old)
                        in_run = True
                else:
                    if line.source_line_no is not None:
                        last_old = line.source_line_no
                    in_run = False
        changes.append(FileChange(old_path=old, new_path=new, status=status, binary=patched.is_binary_file,
                                  removed=tuple(removed), added=tuple(added), insertions=tuple(insertions)))
    return tuple(changes)


def _stray_line(original: str, parsed: str) -> tuple[int, str] | None:
    """The first change line (``+``, ``-``, space, ``@``) after the first file header that the parser did
    not take into any hunk: unidiff stops at a hunk's stated length and silently skips what follows."""
    import difflib

    ours = original.splitlines()
    theirs = parsed.splitlines()
    start = next((i for i, line in enumerate(ours) if line.startswith(("--- ", "diff --git "))), None)
    if start is None:
        return None
    matcher = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            for i in range(max(i1, start), i2):
                line = ours[i]
                if line.startswith(("+", "-", " ")) and not line.startswith(("--- ", "+++ ")):
                    return i + 1, line
    return None


def _strip(name: str | None) -> str | None:
    """``a/src/x.py`` -> ``src/x.py``; ``/dev/null`` -> None."""
    if name is None or name == "/dev/null":
        return None
    if name.startswith(("a/", "b/")):
        return name[2:]
    return name


def read_diff_file(path: str) -> bytes:
    """A diff from a file, or from standard input when ``path`` is ``-``."""
    import sys

    if path == "-":
        return sys.stdin.buffer.read(MAX_DIFF_BYTES + 1)
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_DIFF_BYTES + 1)
    except OSError as error:
        raise DiffError(f"cannot read the diff {path}: {error.strerror or error}") from error


def git_diff(root: Path, base: str, head: str | None = None) -> bytes:
    """``git diff -M base [head]``: between two commits, or from ``base`` to the work tree."""
    args = ["git", "-C", os.fspath(root), "diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M",
            "--end-of-options", base] + ([head] if head else [])
    try:
        result = subprocess.run(args, capture_output=True, check=False)
    except FileNotFoundError as error:
        raise DiffError("git is not installed (no 'git' on PATH)") from error
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiffError(f"git diff {base}{' ' + head if head else ''} failed: "
                        + (reason[0] if reason else f"exit {result.returncode}"))
    return result.stdout


def show_file(root: Path, rev: str, path: str) -> bytes | None:
    """The file as it is in commit ``rev`` (None when it is not there)."""
    result = subprocess.run(["git", "-C", os.fspath(root), "show", f"{rev}:{path}"], capture_output=True,
                            check=False)
    return result.stdout if result.returncode == 0 else None
