"""Query files: found in the installed package or in the repository, compiled once per process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tree_sitter import Query

from semlease.languages import queries
from semlease.languages.queries import compiled_query, load_query

REPOSITORY = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    load_query.cache_clear()
    yield
    load_query.cache_clear()


def test_repository_grammars_folder_is_found_from_the_source_file() -> None:
    assert queries._REPOSITORY_GRAMMARS == REPOSITORY / "grammars"


@pytest.mark.parametrize("name", ["tags.scm", "locals.scm"])
def test_load_query_reads_the_repository_copy(name: str) -> None:
    expected = (REPOSITORY / "grammars" / "python" / name).read_text(encoding="utf-8")
    assert load_query("python", name) == expected


def test_load_query_prefers_the_packaged_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packaged = tmp_path / "semlease"
    (packaged / "grammars" / "python").mkdir(parents=True)
    (packaged / "grammars" / "python" / "tags.scm").write_text("(identifier) @packaged\n", encoding="utf-8")
    monkeypatch.setattr(queries.resources, "files", lambda package: packaged)
    assert load_query("python", "tags.scm") == "(identifier) @packaged\n"
    # A file the package lacks still comes from the repository.
    assert load_query("python", "locals.scm") == (REPOSITORY / "grammars/python/locals.scm").read_text(encoding="utf-8")


def test_load_query_falls_back_when_the_package_cannot_be_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(package: str) -> Path:
        raise ModuleNotFoundError(package)

    monkeypatch.setattr(queries.resources, "files", missing)
    assert load_query("python", "tags.scm").startswith("; Python definitions and references for semlease.")


def test_load_query_caches_the_text() -> None:
    assert load_query("python", "tags.scm") is load_query("python", "tags.scm")


def test_missing_query_file_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(queries, "_REPOSITORY_GRAMMARS", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"grammars/python/nothing\.scm"):
        load_query("python", "nothing.scm")


@pytest.mark.parametrize(
    ("language", "name"),
    [("python", "../tags.scm"), ("..", "tags.scm"), ("python", "a/b.scm"), ("", "tags.scm"), ("python", "")],
)
def test_bad_names_are_refused(language: str, name: str) -> None:
    with pytest.raises(ValueError, match="bad query"):
        load_query(language, name)


def test_compiled_query_is_built_once_from_several_files() -> None:
    combined = compiled_query("python", "tags.scm", "locals.scm")
    assert isinstance(combined, Query)
    assert compiled_query("python", "tags.scm", "locals.scm") is combined
    tags_only = compiled_query("python", "tags.scm")
    locals_only = compiled_query("python", "locals.scm")
    assert combined.pattern_count == tags_only.pattern_count + locals_only.pattern_count


def test_compiled_query_needs_a_file() -> None:
    with pytest.raises(ValueError, match="at least one"):
        compiled_query("python")


def test_every_python_pattern_has_a_known_kind() -> None:
    from semlease.languages.python.extract import _K_IGNORED, _query

    query, kinds = _query()
    assert len(kinds) == query.pattern_count
    assert _K_IGNORED not in kinds
