"""The footprint of a patch: which definitions of which files it modifies, adds, deletes, renames or moves.

Each version of a changed file is read by the same extractor the index uses, so a touched symbol has the
graph's own id. A changed line belongs to the innermost definition whose span holds it; a comment right
above a definition belongs to it; a blank line belongs to nothing; anything else is the file's own
(imports, module-level statements). A definition in only one version is added or deleted, unless the
other version holds the same code under another name or in another file (renamed, moved: matched on the
language's fingerprints). For each touched public symbol the language's precise reader (libcst for Python)
compares its contract before and after.
"""

from __future__ import annotations

import heapq
import textwrap
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from semlease.adapters import git
from semlease.adapters.diff import DELETED, RENAMED
from semlease.adapters.patch_source import FileVersions, PatchInput
from semlease.domain import facts as F
from semlease.domain import patch as P
from semlease.domain.facts import Definition, FileFacts
from semlease.domain.graph import symbol_id
from semlease.domain.patch import FileTouch, PatchFootprint, TouchedSymbol, text_digest
from semlease.domain.shapes import FileShapes, SymbolShape, contract_deltas
from semlease.languages import LanguageSupport, language_for


@dataclass
class _Version:
    """One version of one file, read lazily."""

    path: str
    data: bytes | None
    language: LanguageSupport
    _facts: FileFacts | None = None
    _shapes: FileShapes | None = None
    _defs: dict[str, list[Definition]] | None = None
    _lines: list[str] | None = None
    _members: dict[str, list[str]] | None = None

    @property
    def facts(self) -> FileFacts:
        if self._facts is None:
            self._facts = self.language.extract(self.path, self.data or b"")
        return self._facts

    @property
    def defs(self) -> dict[str, list[Definition]]:
        if self._defs is None:
            self._defs = defaultdict(list)
            for d in self.facts.definitions:
                self._defs[d.qualname].append(d)
        return self._defs

    @property
    def shapes(self) -> FileShapes:
        if self._shapes is None:
            self._shapes = self.language.file_shapes(self.data or b"")
        return self._shapes

    def shapes_of(self, qualname: str) -> tuple[SymbolShape, ...] | str:
        """One definition's shapes; where the file as a whole cannot be read precisely (a syntax error
        elsewhere in it), the definition's own text is read alone. A message when neither can be."""
        whole = self.shapes
        if whole.error is None:
            return whole.shapes.get(qualname, ())
        found: list[SymbolShape] = []
        name = qualname.rpartition(".")[2]
        lines = self.lines()
        for d in self.defs.get(qualname, ()):
            text = textwrap.dedent("\n".join(lines[d.span.start_line - 1:d.span.end_line])) + "\n"
            alone = self.language.file_shapes(text.encode("utf-8", "surrogateescape"))
            if alone.error is not None or name not in alone.shapes:
                return whole.error
            found += alone.shapes[name][:1]
        return tuple(found)

    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = (self.data or b"").decode("utf-8", "surrogateescape").splitlines()
        return self._lines

    def members(self, qualname: str) -> list[str]:
        """The definitions nested in one (`Invoice.total` in `Invoice`), at any depth."""
        if self._members is None:
            self._members = defaultdict(list)
            for q in self.defs:
                parts = q.split(".")
                for i in range(1, len(parts)):
                    self._members[".".join(parts[:i])].append(q)
        return self._members.get(qualname, [])

    def digest(self, qualname: str | None = None) -> str | None:
        """Of one definition's text (every span of its name), or of the whole file."""
        if qualname is None:
            return text_digest(self.lines())
        defs = self.defs.get(qualname)
        if not defs:
            return None
        return text_digest(self.lines(), [(d.span.start_line, d.span.end_line) for d in defs])

    def owners(self, lines: tuple[int, ...]) -> tuple[dict[str, list[int]], list[int]]:
        """Each changed line's innermost definition (qualname -> lines), and the lines owned by none.
        One sweep over the lines in order (a diff may add a hundred thousand of them)."""
        text = (self.data or b"").decode("utf-8", "replace").splitlines()
        spans = sorted((d.span.start_line, -d.span.end_line, d.qualname) for d in self.facts.definitions)
        starts: dict[int, str] = {}
        for start, _, qualname in spans:
            starts[start] = qualname  # the innermost starting at a line wins (sorted outer first)
        # the first line at or below each line that is not a comment (a comment block belongs to what follows)
        after_comments = [len(text)] * (len(text) + 1)
        for i in range(len(text) - 1, -1, -1):
            after_comments[i] = after_comments[i + 1] if text[i].strip().startswith("#") else i
        holder: dict[int, str | None] = {}
        heap: list[tuple[int, int, str]] = []  # open spans, the last-starting innermost on top
        next_span = 0
        for line in sorted(set(lines)):
            while next_span < len(spans) and spans[next_span][0] <= line:
                start, negative_end, qualname = spans[next_span]
                heapq.heappush(heap, (-start, -negative_end, qualname))
                next_span += 1
            while heap and heap[0][1] < line:
                heapq.heappop(heap)  # ended above this line, and so above every later one
            holder[line] = heap[0][2] if heap else None
        owned: dict[str, list[int]] = defaultdict(list)
        loose: list[int] = []
        for line in lines:
            content = text[line - 1].strip() if 0 < line <= len(text) else ""
            if not content:
                continue  # a blank line changes no definition
            owner = None
            if content.startswith("#"):  # a comment block directly above a definition is its own
                owner = starts.get(after_comments[line - 1] + 1)
            if owner is None:
                owner = holder[line]
            if owner is not None:
                owned[owner].append(line)
            else:
                loose.append(line)
        return owned, loose


@dataclass
class _Pending:
    """A symbol on its way to a TouchedSymbol."""

    change: str
    qualname: str
    path: str
    old: _Version | None = None
    new: _Version | None = None
    old_qualname: str | None = None
    old_path: str | None = None
    lines: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


def patch_footprint(patch: PatchInput, *, languages: Callable[[str], LanguageSupport | None] = language_for
                    ) -> PatchFootprint:
    files: list[FileTouch] = []
    pending: list[_Pending] = []
    for versions in patch.files:
        touch, symbols = _file(versions, languages)
        files.append(touch)
        pending += symbols
    _match_renames(pending)
    symbols = sorted((_touched(p) for p in pending), key=lambda s: (s.path, s.start_line, s.id))
    return PatchFootprint(source=patch.source, base=patch.base, head=patch.head, files=tuple(files),
                          symbols=tuple(symbols))


def _file(versions: FileVersions, languages: Callable[[str], LanguageSupport | None]
          ) -> tuple[FileTouch, list[_Pending]]:
    change = versions.change
    language = languages(change.new_path or change.old_path or "")
    if language is None or change.binary:
        digest = text_digest(versions.new.decode("utf-8", "surrogateescape").splitlines()) \
            if versions.new is not None else None
        return FileTouch(path=change.path, status=change.status, old_path=change.old_path, binary=change.binary,
                         module_lines=change.added, old_module_lines=change.removed, digest=digest), []
    old = _Version(change.old_path, versions.old, language) if versions.old is not None and change.old_path else None
    new = _Version(change.new_path, versions.new, language) if versions.new is not None and change.new_path else None
    new_owned, new_loose = new.owners(change.added) if new else ({}, list(change.added))
    old_owned, old_loose = old.owners(change.removed) if old else ({}, list(change.removed))
    touched = set(new_owned) | set(old_owned)
    if change.status == RENAMED and old and new:  # every definition of a renamed file changes its id
        touched |= set(old.defs) & set(new.defs)
    if change.status == DELETED and old:
        touched |= set(old.defs)
    for qualname in list(touched):  # members of a definition that comes or goes come and go with it
        if old and new and qualname in old.defs and qualname not in new.defs:
            touched |= {q for q in old.members(qualname) if q not in new.defs}
        if old and new and qualname in new.defs and qualname not in old.defs:
            touched |= {q for q in new.members(qualname) if q not in old.defs}
    symbols = []
    for qualname in sorted(touched):
        in_old = old is not None and qualname in old.defs
        in_new = new is not None and qualname in new.defs
        if in_old and in_new:
            kind = P.MOVED if change.status == RENAMED and change.old_path != change.new_path else P.MODIFIED
        else:
            kind = P.ADDED if in_new else P.DELETED
        symbols.append(_Pending(change=kind, qualname=qualname, path=(change.new_path if in_new else change.old_path),
                                old=old if in_old else None, new=new if in_new else None,
                                old_qualname=qualname if kind == P.MOVED else None,
                                old_path=change.old_path if kind == P.MOVED else None,
                                lines=new_owned.get(qualname, []), removed=old_owned.get(qualname, [])))
    touch = FileTouch(path=change.path, status=change.status, old_path=change.old_path, language=language.name,
                      module_lines=tuple(new_loose), old_module_lines=tuple(old_loose),
                      digest=new.digest() if new else None)
    return touch, symbols


def _match_renames(pending: list[_Pending]) -> None:
    """Pair a deleted definition with an added one holding the same code under another name or in another
    file (a unique match only), then their members by their names under the pair."""
    def fingerprint(p: _Pending) -> str:
        version = p.new or p.old
        shapes = version.shapes.shapes.get(p.qualname, ())
        return shapes[0].fingerprint if len(shapes) == 1 else ""

    deleted = [p for p in pending if p.change == P.DELETED]
    added = [p for p in pending if p.change == P.ADDED]
    if not deleted or not added:
        return
    by_print: dict[str, list[_Pending]] = defaultdict(list)
    for p in added:
        if fingerprint(p):
            by_print[fingerprint(p)].append(p)
    gone_prints: dict[str, int] = defaultdict(int)
    for p in deleted:
        gone_prints[fingerprint(p)] += 1
    pairs: list[tuple[_Pending, _Pending]] = []
    for gone in deleted:
        found = fingerprint(gone)
        if found and gone_prints[found] == 1 and len(by_print.get(found, ())) == 1:
            pairs.append((gone, by_print[found][0]))
    matched = {id(p) for pair in pairs for p in pair}
    for gone, came in list(pairs):  # members of a renamed class follow it, changed or not
        for member in deleted:
            if id(member) in matched or member.path != gone.path or not member.qualname.startswith(gone.qualname + "."):
                continue
            rest = member.qualname[len(gone.qualname):]
            twin = next((a for a in added if id(a) not in matched and a.path == came.path
                         and a.qualname == came.qualname + rest), None)
            if twin is not None:
                pairs.append((member, twin))
                matched |= {id(member), id(twin)}
    for gone, came in pairs:
        came.change = P.RENAMED if gone.path == came.path else P.MOVED
        came.old, came.old_qualname, came.old_path = gone.old, gone.qualname, gone.path
        came.removed = gone.removed
        pending.remove(gone)


def _touched(p: _Pending) -> TouchedSymbol:
    version = p.new or p.old
    assert version is not None
    definition = version.defs[p.qualname][0]
    spans = [d.span for d in version.defs[p.qualname]]
    test_code = version.language.is_test_code(version.path)
    kind = "test" if definition.is_test else "fixture" if definition.fixture else definition.kind
    public = not test_code and _public(p.qualname, version)
    contract: tuple = ()
    known, note = True, None
    if p.old is not None and p.new is not None and (public or kind == "fixture"):
        before = p.old.shapes_of(p.old_qualname or p.qualname)
        after = p.new.shapes_of(p.qualname)
        if isinstance(before, str) or isinstance(after, str):
            known = False
            note = f"cannot compare the contract: {'old' if isinstance(before, str) else 'new'} version of " \
                   f"{p.old.path if isinstance(before, str) else p.new.path}: " \
                   f"{before if isinstance(before, str) else after}"
        else:
            contract = contract_deltas(before, after)
    digest = p.new.digest(p.qualname) if p.new is not None else None
    return TouchedSymbol(
        id=symbol_id(version.path, p.qualname), kind=kind, change=p.change, path=version.path, digest=digest,
        start_line=min(s.start_line for s in spans), end_line=max(s.end_line for s in spans),
        old_id=symbol_id(p.old_path, p.old_qualname) if p.old_qualname and p.old_path else None,
        old_path=p.old_path, lines=tuple(sorted(p.lines)), removed_lines=tuple(sorted(p.removed)), public=public,
        test_code=test_code, contract=contract, contract_known=known, note=note)


def _public(qualname: str, version: _Version) -> bool:
    """No part of the name is private (``__init__`` and other dunders are public), and no part is a
    function's local."""
    parts = qualname.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return False
        if i < len(parts) - 1:
            outer = version.defs.get(".".join(parts[: i + 1]))
            if outer and outer[0].kind in (F.FUNCTION, F.METHOD):
                return False
    return True


class BaseView:
    """The tree a patch was made on, read lazily: the old version of the patch's own files, and every
    other file as the base commit (or, without one, the work tree) holds it. Says whether that tree holds
    a node with a given text, so admission can tell a patch made on top of another one."""

    def __init__(self, root: Path, patch: PatchInput,
                 languages: Callable[[str], LanguageSupport | None] = language_for) -> None:
        self.root, self.patch, self.languages = root, patch, languages
        self.old = {v.change.old_path: v.old for v in patch.files if v.change.old_path}
        self.gone = {v.change.new_path for v in patch.files if v.change.old_path is None and v.change.new_path}
        self._versions: dict[str, _Version | None] = {}

    def _version(self, path: str) -> _Version | None:
        if path not in self._versions:
            language = self.languages(path)
            data = self._data(path)
            self._versions[path] = _Version(path, data, language) if data is not None and language else None
        return self._versions[path]

    def _data(self, path: str) -> bytes | None:
        if path in self.old:
            return self.old[path]
        if path in self.gone:
            return None  # the patch adds it: the base does not have it
        if self.patch.base is not None:
            return git.file_at(self.root, self.patch.base, path)
        try:
            return (self.root / path).read_bytes()
        except OSError:
            return None

    def holds(self, node_id: str, digest: str | None) -> bool:
        """Whether the base holds ``node_id`` with exactly that text (``digest`` None: does not hold it)."""
        path, _, qualname = node_id.partition("::")
        if not qualname:
            data = self._data(path)
            found = None if data is None else text_digest(data.decode("utf-8", "surrogateescape").splitlines())
        else:
            version = self._version(path)
            found = version.digest(qualname) if version is not None else None
        return found == digest
