"""Language support, one package per language: its extractor (bytes -> FileFacts) and its linker.

The core knows languages only through this registry. Extractors are imported lazily: a command that
reads a stored index never pays for loading parsers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from semlease.domain.facts import FileFacts
from semlease.domain.graph import GraphReader, SymbolGraph
from semlease.domain.shapes import FileShapes


@dataclass(frozen=True)
class LanguageSupport:
    name: str
    extensions: frozenset[str]
    extractor: str  # "module:function" taking (path, bytes) and returning FileFacts
    linker: str  # "module:function" taking (facts by path, graph) and adding nodes and edges
    shapes: str  # "module:function" taking bytes and returning FileShapes (precise, for the files of a patch)
    test_code: str  # "module:function" taking a path and saying whether it holds test code
    test_id: str  # "module:function" turning a test's graph id into the id its test runner takes
    import_roots: str  # "module:function" taking the repository's files, giving the folders to import from
    interface_digest: str  # "module:function": FileFacts -> digest of what other files' linking reads
    interface_names: str  # "module:function": FileFacts -> the names the file offers others
    layout: str  # "module:function": the language's files -> what their module names are counted from
    added_reads: str  # "module:function": (paths, the language's files) -> the reads files added there answer
    # Files that change what the extractor produces; their content is part of the cache key.
    query_files: tuple[str, ...] = ()

    def extract(self, path: str, source: bytes) -> FileFacts:
        return _load(self.extractor)(path, source)

    def file_shapes(self, source: bytes) -> FileShapes:
        return _load(self.shapes)(source)

    def is_test_code(self, path: str) -> bool:
        return _load(self.test_code)(path)

    def runner_test_id(self, node_id: str) -> str:
        return _load(self.test_id)(node_id)

    def roots(self, files: list[str]) -> list[str]:
        return _load(self.import_roots)(files)

    def link(self, facts: Mapping[str, FileFacts], graph: SymbolGraph, *, files: Iterable[str] | None = None,
             targets: Iterable[str] | None = None, base: GraphReader | None = None) -> dict[str, set[str]]:
        """Link ``facts`` into ``graph``: every file, or only ``targets`` (``files`` then lists every file of
        the language, ``facts`` may load lazily, ``base`` has the other files' nodes). Returns, per linked
        file, the files its linking read."""
        return _load(self.linker)(facts, graph, files=files, targets=targets, base=base)

    def interface(self, facts: FileFacts) -> str:
        """A digest of what other files' linking can read of this one."""
        return _load(self.interface_digest)(facts)

    def offered_names(self, facts: FileFacts) -> set[str]:
        return _load(self.interface_names)(facts)

    def module_layout(self, files: Iterable[str]) -> object:
        """Compared before and after files are added or removed: equal, the others keep their names."""
        return _load(self.layout)(files)

    def reads_answered_by(self, paths: Iterable[str], files: Iterable[str]) -> set[str]:
        """The link dependencies of other files that files added (or removed) at ``paths`` can change the
        answer to."""
        return _load(self.added_reads)(paths, files)


PYTHON = LanguageSupport(
    name="python",
    extensions=frozenset({".py"}),
    extractor="semlease.languages.python.extract:extract_python",
    linker="semlease.languages.python.link:link_python",
    shapes="semlease.languages.python.shapes:python_shapes",
    test_code="semlease.languages.python.link:is_test_support_path",
    test_id="semlease.languages.python.link:pytest_node_id",
    import_roots="semlease.languages.python.link:import_roots",
    interface_digest="semlease.languages.python.link:interface_digest",
    interface_names="semlease.languages.python.link:interface_names",
    layout="semlease.languages.python.link:layout",
    added_reads="semlease.languages.python.link:module_reads",
    query_files=("tags.scm", "locals.scm"),
)

LANGUAGES: tuple[LanguageSupport, ...] = (PYTHON,)


def by_name(name: str) -> LanguageSupport:
    for language in LANGUAGES:
        if language.name == name:
            return language
    raise KeyError(name)


def language_for(path: str) -> LanguageSupport | None:
    dot = path.rfind(".")
    ext = path[dot:] if dot >= 0 else ""
    for language in LANGUAGES:
        if ext in language.extensions:
            return language
    return None


def all_extensions() -> set[str]:
    return {ext for language in LANGUAGES for ext in language.extensions}


def _load(spec: str) -> Callable:
    module, _, func = spec.partition(":")
    return getattr(importlib.import_module(module), func)
