"""Unified diffs in, file changes out: which lines of which files a patch removes and adds.

Parsing is unidiff's (git's extended headers included: renames, new and deleted files, binary files). What
this module adds is the checking a coordinator needs before it records anything: an empty, binary, huge,
truncated or malformed diff is one clear line (exit 2), never a half-read patch.
"""

from __future__ import annotations

import os
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
    text = _without_signature(text)
    problem = _structure_problem(text)
    if problem is not None:
        raise DiffError(f"{source} is not a valid unified diff: {problem}")
    try:
        patch = PatchSet(text)
    except UnidiffParseError as error:
        raise DiffError(f"{source} is not a valid unified diff: {error}") from error
    if not patch:
        first = text.strip().splitlines()[0][:80]
        raise DiffError(f"{source} holds no file changes (it starts with {first!r}); "
                        "expected the output of git diff or diff -u")
    changes = []
    for patched in patch:
        git_style = any(str(line).startswith("diff --git ") for line in patched.patch_info or ())
        old = _name(patched.source_file, git_style)
        new = _name(patched.target_file, git_style)
        if patched.is_added_file:
            status, old = ADDED, None
        elif patched.is_removed_file:
            status, new = DELETED, None
        elif git_style and old and new and old != new:  # git names both sides the same unless it renamed
            status = RENAMED
        else:
            # A plain `diff -u file.orig file` names a copy on one side: the file is the one it changes.
            status, old = MODIFIED, new or old
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
                if found is not None and found.rstrip("\r\n") == line.rstrip("\r\n"):
                    raise PatchMismatch(path, f"line {at + 1} ends with {_ending(found)} where the diff has "
                                              f"{_ending(line)}")
                raise PatchMismatch(path, f"line {at + 1} reads {_show(found)} where the diff expects {_show(line)}")
            if op != drop:
                out.append(found)
            at += 1
    out.extend(source[at:])
    return "".join(out)


def _ending(line: str) -> str:
    if line.endswith("\r\n"):
        return "CRLF"
    if line.endswith("\n"):
        return "LF"
    return "CR" if line.endswith("\r") else "no line break"


def _show(line: str | None) -> str:
    if line is None:
        return "the end of the file"
    text = line.rstrip("\r\n")
    return repr(text if len(text) <= 60 else text[:57] + "...")


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
# Lines a unified diff may hold between its files: git's extended headers, and what `diff -r` says.
_EXTENDED = ("diff ", "index ", "new file mode ", "deleted file mode ", "old mode ", "new mode ",
             "similarity index ", "dissimilarity index ", "rename from ", "rename to ", "copy from ", "copy to ",
             "Binary files ", "Only in ", "Files ", "GIT binary patch", "literal ", "delta ")


def _without_signature(text: str) -> str:
    """``git format-patch`` ends its mail with a ``-- `` line and git's version: not part of the diff."""
    lines = text.splitlines(keepends=True)
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].rstrip("\r\n") == "-- " and not any(
                line.startswith(("@@", "--- ", "+++ ", "diff ")) for line in lines[i + 1:]):
            return "".join(lines[:i])
    return text


def _structure_problem(text: str) -> str | None:
    """What makes ``text`` something other than a complete unified diff, read line by line: a hunk
    header that does not parse, a hunk shorter than it says, a change line outside every hunk, a file
    header with no hunk after it, a ``diff --git`` line with nothing after it. None when it is whole.
    (unidiff takes a bad hunk header for part of the file's preamble, and a header with no hunk for an
    unchanged file: both would pass a patch with its change silently dropped.)"""
    lines = text.splitlines()
    started = False  # past the first file header (before it: a mail's headers, a commit message)
    section: tuple[int, bool, bool, bool] | None = None  # (first line, has ---/+++, hunks, other headers)
    i = 0

    def close(at: int) -> str | None:
        if section is None:
            return None
        first, headers, hunks, extended = section
        if headers and not hunks:
            return f"line {first}: a file header with no hunk after it; is the diff truncated?"
        if not headers and not extended:
            return f"line {first} ({lines[first - 1][:60]!r}) starts a file and says nothing of it; is the " \
                   "diff truncated?"
        return None

    while i < len(lines):
        line = lines[i]
        number = i + 1
        if line.startswith("diff "):
            problem = close(number)
            if problem:
                return problem
            section, started = (number, False, False, False), True
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            if section is None or section[1]:  # a plain diff's file starts at its --- line
                problem = close(number)
                if problem:
                    return problem
                section = (number, True, False, False)
            else:
                section = (section[0], True, section[2], section[3])
            started = True
            i += 2
            continue
        elif line.startswith("@@"):
            found = _HUNK.match(line)
            if found is None or section is None or not section[1]:
                return f"line {number} ({line[:60]!r}) is not a hunk header (expected @@ -OLD,N +NEW,M @@)"
            old_left = int(found.group(2) if found.group(2) is not None else 1)
            new_left = int(found.group(4) if found.group(4) is not None else 1)
            i += 1
            while old_left > 0 or new_left > 0:
                if i >= len(lines):
                    return f"the hunk at line {number} is shorter than its header says; is the diff truncated?"
                body = lines[i]
                tag = body[:1]
                if tag == "\\":
                    pass
                elif tag == " " or body == "":  # an empty line: a context line whose space was trimmed
                    old_left, new_left = old_left - 1, new_left - 1
                elif tag == "-":
                    old_left -= 1
                elif tag == "+":
                    new_left -= 1
                else:
                    return f"the hunk at line {number} is shorter than its header says (line {i + 1}: " \
                           f"{body[:40]!r}); is the diff truncated?"
                if old_left < 0 or new_left < 0:
                    return f"the hunk at line {number} is longer than its header says (line {i + 1})"
                i += 1
            while i < len(lines) and lines[i].startswith("\\"):
                i += 1
            section = (section[0], True, True, section[3])
            continue
        elif started and line.startswith(("+", "-", " ")) and line.strip():
            return f"line {number} ({line[:40]!r}) lies outside every hunk; is the diff truncated or edited by hand?"
        elif started and line.startswith(_EXTENDED):
            if section is not None:
                section = (section[0], section[1], section[2], True)
        elif started and line.strip() and section is not None and section[3] and _is_base85(line):
            pass  # the data of a GIT binary patch
        i += 1
    return close(len(lines))


def _is_base85(line: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z][0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]+", line))


def _name(name: str | None, git_style: bool) -> str | None:
    """A file name as the diff writes it, unquoted (git C-quotes names with unusual bytes) and without
    git's ``a/``/``b/`` prefix; ``/dev/null`` -> None."""
    if name is None:
        return None
    if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
        name = _unquote(name[1:-1])
    if name == "/dev/null":
        return None
    if name.startswith(("a/", "b/")) and (git_style or len(name) > 2):
        return name[2:]
    return name


def _unquote(quoted: str) -> str:
    """git's C-style quoting: ``caf\\303\\251.py`` -> ``café.py`` (octal bytes, then UTF-8)."""
    out = bytearray()
    i = 0
    escapes = {"n": b"\n", "t": b"\t", '"': b'"', "\\": b"\\", "a": b"\a", "b": b"\b", "f": b"\f",
               "r": b"\r", "v": b"\v"}
    while i < len(quoted):
        c = quoted[i]
        if c == "\\" and i + 1 < len(quoted):
            nxt = quoted[i + 1]
            if nxt in "01234567" and i + 3 < len(quoted) + 1 and all(ch in "01234567" for ch in quoted[i + 1:i + 4]):
                out.append(int(quoted[i + 1:i + 4], 8))
                i += 4
                continue
            out += escapes.get(nxt, nxt.encode())
            i += 2
            continue
        out += c.encode("utf-8")
        i += 1
    return out.decode("utf-8", "surrogateescape")


def read_diff_file(path: str) -> bytes:
    """A diff from a file, or from standard input when ``path`` is ``-``."""
    import sys

    if path == "-":
        data = sys.stdin.buffer.read(MAX_DIFF_BYTES + 1)
        if len(data) > MAX_DIFF_BYTES:
            raise DiffError(f"the diff on standard input is over the {MAX_DIFF_BYTES // 2**20} MB limit")
        return data
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_DIFF_BYTES:
                raise DiffError(f"the diff {path} is {size / 2**20:.0f} MB, over the {MAX_DIFF_BYTES // 2**20} MB "
                                "limit")
            return handle.read(MAX_DIFF_BYTES + 1)
    except OSError as error:
        raise DiffError(f"cannot read the diff {path}: {error.strerror or error}") from error
