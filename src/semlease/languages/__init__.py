"""Language support, one package per language: its extractor (bytes -> FileFacts) and its linker.

The core knows languages only through this registry. Extractors are imported lazily: a command that
reads a stored index never pays for loading parsers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from semlease.domain.facts import FileFacts
from semlease.domain.graph import SymbolGraph
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

    def link(self, facts: Mapping[str, FileFacts], graph: SymbolGraph) -> None:
        _load(self.linker)(facts, graph)


PYTHON = LanguageSupport(
    name="python",
    extensions=frozenset({".py"}),
    extractor="semlease.languages.python.extract:extract_python",
    linker="semlease.languages.python.link:link_python",
    shapes="semlease.languages.python.shapes:python_shapes",
    test_code="semlease.languages.python.link:is_test_support_path",
    test_id="semlease.languages.python.link:pytest_node_id",
    import_roots="semlease.languages.python.link:import_roots",
    query_files=("tags.scm", "locals.scm"),
)

LANGUAGES: tuple[LanguageSupport, ...] = (PYTHON,)


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
