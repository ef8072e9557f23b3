"""Unified diffs in, file changes out: which lines of which files a patch removes and adds.

Parsing is unidiff's (git's extended headers included: renames, new and deleted files, binary files). What
this module adds is the checking a coordinator needs before it records anything: an empty, binary, huge,
truncated or malformed diff is one clear line (exit 2), never a half-read patch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from semlease.errors import SemleaseError

MAX_DIFF_BYTES = 64 * 1024 * 1024
ADDED, DELETED, MODIFIED, RENAMED = "added", "deleted", "modified", "renamed"


class DiffError(SemleaseError):
    """The diff cannot be read as a unified diff, or git could not produce it."""


class PatchMismatch(DiffError):
    """A file's text is not the one the diff was made from (or to); ``detail`` says where, without the path."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"the diff does not fit {path}: {detail}")
        self.detail = detail


# Operations of a hunk line: kept, removed, added.
KEEP, REMOVE, ADD = " ", "-", "+"


@dataclass(frozen=True, slots=True)
class Hunk:
    """One ``@@`` hunk: its place in the old and the new file, and its lines ``(op, text)``; ``text`` keeps
    its line ending, which is absent where the diff says "No newline at end of file"."""

    old_start: int
    old_length: int
    new_start: int
    new_length: int
    lines: tuple[tuple[str, str], ...]


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
    # The text of the change, and git's blob ids from its `index` line (abbreviated): what it takes to
    # rebuild either version of the file from the other. Not part of equality: two changes are equal when
    # they change the same lines of the same files.
    hunks: tuple[Hunk, ...] = field(default=(), compare=False)
    old_blob: str | None = field(default=None, compare=False)
    new_blob: str | None = field(default=None, compare=False)

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
        hunks: list[Hunk] = []
        for hunk in patched:
            hunks.append(_hunk(hunk))
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
        old_blob, new_blob = _blob_ids(patched.patch_info)
        changes.append(FileChange(old_path=old, new_path=new, status=status, binary=patched.is_binary_file,
                                  removed=tuple(removed), added=tuple(added), insertions=tuple(insertions),
                                  hunks=tuple(hunks), old_blob=old_blob, new_blob=new_blob))
    return tuple(changes)


_INDEX_LINE = re.compile(r"^index ([0-9a-f]{4,64})\.\.([0-9a-f]{4,64})(?: \d+)?$")
_NO_BLOB = re.compile(r"^0+$")


def _blob_ids(info: object) -> tuple[str | None, str | None]:
    """git's ``index 1a2b3c4..5d6e7f8 100644`` line; an all-zero id (a new or deleted file) is no blob."""
    for line in info or ():
        found = _INDEX_LINE.match(str(line).rstrip("\r\n"))
        if found:
            old, new = found.groups()
            return (None if _NO_BLOB.match(old) else old), (None if _NO_BLOB.match(new) else new)
    return None, None


def _hunk(hunk) -> Hunk:
    lines: list[tuple[str, str]] = []
    for line in hunk:
        if line.line_type in (KEEP, REMOVE, ADD):
            lines.append((line.line_type, line.value))
        elif line.line_type == "\\" and lines:  # "\ No newline at end of file": the line before has none
            op, text = lines[-1]
            lines[-1] = (op, text.rstrip("\r\n"))
    return Hunk(hunk.source_start, hunk.source_length, hunk.target_start, hunk.target_length, tuple(lines))


# ---------------------------------------------------------------------------------------------- applying
def apply_change(change: FileChange, old_text: str) -> str:
    """The new version of the file from its old version. Raises :class:`PatchMismatch` when ``old_text``
    is not what the diff was made from (a kept or removed line reads otherwise)."""
    return _apply(change.hunks, old_text, change.old_path or change.path, forward=True)


def unapply_change(change: FileChange, new_text: str) -> str:
    """The old version of the file from its new version (the diff applied backwards)."""
    return _apply(change.hunks, new_text, change.new_path or change.path, forward=False)


def _apply(hunks: tuple[Hunk, ...], text: str, path: str, *, forward: bool) -> str:
    source = text.splitlines(keepends=True)
    drop, keep_new = (REMOVE, ADD) if forward else (ADD, REMOVE)
    out: list[str] = []
    at = 0  # index into source of the next line not yet copied
    for hunk in hunks:
        start = hunk.old_start if forward else hunk.new_start
        length = hunk.old_length if forward else hunk.new_length
        first = start - 1 if length else start  # a hunk of length 0 starts after its line
        if first < at or first > len(source):
            raise PatchMismatch(path, f"a hunk starts at line {start}, which the file "
                                      f"{'does not have' if first > len(source) else 'has already passed'}")
        out.extend(source[at:first])
        at = first
        for op, line in hunk.lines:
            if op == keep_new:
                out.append(line)
                continue
            found = source[at] if at < len(source) else None
            if found != line:
                raise PatchMismatch(path, f"line {at + 1} reads {_show(found)} where the diff expects {_show(line)}")
            if op != drop:
                out.append(found)
            at += 1
    out.extend(source[at:])
    return "".join(out)


def _show(line: str | None) -> str:
    if line is None:
        return "the end of the file"
    text = line.rstrip("\r\n")
    return repr(text if len(text) <= 60 else text[:57] + "...")


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
