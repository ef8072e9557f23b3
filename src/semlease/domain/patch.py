"""What a patch touched, as values: the symbols and files a diff changes, in the graph's own ids.

A patch footprint is computed from the two versions of each file a diff changes (see
:mod:`semlease.services.patches`). Every symbol id is the index's ``path::qualname``, so a footprint meets
lease scopes and admitted patches node by node.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict

from semlease.domain.shapes import ContractDelta

# How a symbol changed.
MODIFIED = "modified"
ADDED = "added"
DELETED = "deleted"
RENAMED = "renamed"  # the same code under another name (in the same file)
MOVED = "moved"  # the same code in another file (a moved definition, or every definition of a renamed file)
CHANGES = (MODIFIED, ADDED, DELETED, RENAMED, MOVED)


class TouchedSymbol(BaseModel):
    """One definition a patch touches.

    ``id`` is its id after the patch (before it, when deleted); ``old_id`` is where a renamed or moved
    symbol was. ``start_line``/``end_line`` are its span in that version. ``lines`` are the lines the patch
    adds inside it (new numbering) and ``removed_lines`` those it removes (old numbering).
    ``contract`` lists how its public contract changed; ``contract_known`` is False when a version of its
    file could not be parsed precisely (``note`` says why), so nothing can be said of its contract.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str  # function, class, method, constant, test, fixture
    change: str
    path: str
    start_line: int
    end_line: int
    old_id: str | None = None
    old_path: str | None = None
    lines: tuple[int, ...] = ()
    removed_lines: tuple[int, ...] = ()
    public: bool = True  # no part of its name private, not local to a function, not test code
    test_code: bool = False  # a test, fixture or helper in test code
    contract: tuple[ContractDelta, ...] = ()
    contract_known: bool = True
    note: str | None = None
    digest: str | None = None  # of its text after the patch (None when deleted): see text_digest

    @property
    def line(self) -> int:
        """Where to point a person: the first changed line, else the symbol's first line."""
        return (self.lines or self.removed_lines or (self.start_line,))[0]

    @property
    def qualname(self) -> str:
        return self.id.partition("::")[2]

    def __str__(self) -> str:
        moved = f" (from {self.old_id})" if self.old_id else ""
        return f"{self.id} {self.change}{moved}"


class FileTouch(BaseModel):
    """One file of the patch. ``module_lines`` are lines changed outside every definition (imports,
    module-level statements; new numbering), ``old_module_lines`` the same in the old version. A file
    no language reads (docs, data) or a binary file has every change there."""

    model_config = ConfigDict(frozen=True)

    path: str
    status: str  # added, deleted, modified, renamed
    old_path: str | None = None
    language: str | None = None
    binary: bool = False
    module_lines: tuple[int, ...] = ()
    old_module_lines: tuple[int, ...] = ()
    digest: str | None = None  # of the whole file after the patch (None when deleted)

    @property
    def module_level(self) -> bool:
        """Whether the file itself is touched, beyond its definitions."""
        return (self.language is None or self.binary or bool(self.module_lines or self.old_module_lines)
                or self.status in ("added", "deleted", "renamed"))

    @property
    def line(self) -> int:
        return (self.module_lines or self.old_module_lines or (1,))[0]


class PatchFootprint(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str  # how the patch was given: "patch.diff", "HEAD~1..HEAD", "HEAD..work tree"
    base: str | None = None  # the commit its old side is, when known
    head: str | None = None  # the commit its new side is; None for a work tree or a diff file
    files: tuple[FileTouch, ...] = ()
    symbols: tuple[TouchedSymbol, ...] = ()

    def touched(self) -> list[tuple[str, str]]:
        """``(node id, path)`` of everything touched: symbols (old ids too), and files touched beyond
        their definitions (a file's id is its path)."""
        return [(node, path) for node, path, _ in self.touched_after()]

    def touched_after(self) -> list[tuple[str, str, str | None]]:
        """``(node id, path, digest after the patch)`` of everything touched (None: gone after it)."""
        found: dict[str, tuple[str, str | None]] = {}
        for s in self.symbols:
            if s.old_id:
                found[s.old_id] = (s.old_path or s.path, None)
            found[s.id] = (s.path, s.digest)
        for f in self.files:
            if f.module_level:
                if f.old_path and f.old_path != f.path:
                    found[f.old_path] = (f.old_path, None)
                found[f.path] = (f.path, f.digest)
        return [(node, path, after) for node, (path, after) in sorted(found.items())]

    def symbol_ids(self) -> set[str]:
        return {s.id for s in self.symbols} | {s.old_id for s in self.symbols if s.old_id}


def text_digest(lines: list[str], spans: list[tuple[int, int]] | None = None) -> str:
    """The digest a patch records of a symbol's text (its spans' lines, 1-based inclusive) or of a whole
    file (no spans): two versions with the same digest hold the same text."""
    chosen = lines if spans is None else [line for start, end in spans for line in lines[start - 1:end]]
    return hashlib.sha1("\n".join(chosen).encode("utf-8", "surrogateescape")).hexdigest()
