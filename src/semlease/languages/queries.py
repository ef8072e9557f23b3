"""Tree-sitter query files: where they live and their compiled form, once per process.

The ``.scm`` files live at the top of the repository (``grammars/<language>/<name>``) and the wheel
ships them inside the package as ``semlease/grammars/<language>/<name>`` (hatch ``force-include``).
:func:`load_query` reads the packaged copy and falls back to the repository's copy, which is what an
editable install or a ``PYTHONPATH=src`` checkout sees.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from tree_sitter import Query

# src/semlease/languages/queries.py -> parents: languages, semlease, src, <repository root>
_REPOSITORY_GRAMMARS = Path(__file__).resolve().parents[3] / "grammars"
_SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _check_part(kind: str, value: str) -> None:
    if not _SAFE_PART.fullmatch(value) or ".." in value:
        raise ValueError(f"bad query {kind}: {value!r}")


def _read_packaged(language: str, name: str) -> str | None:
    """The query text shipped inside the installed package, or None when it is not there."""
    try:
        resource = resources.files("semlease").joinpath("grammars", language, name)
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, ModuleNotFoundError, OSError):
        return None
    return None


def _read_repository(language: str, name: str) -> str | None:
    """The query text in the repository's top-level ``grammars/`` folder, or None."""
    path = _REPOSITORY_GRAMMARS / language / name
    if path.is_file():
        return path.read_text(encoding="utf-8")
    return None


@cache
def load_query(language: str, name: str) -> str:
    """The text of ``grammars/<language>/<name>`` (``load_query("python", "tags.scm")``).

    Raises ``ValueError`` for a language or name that is not a plain file name and
    ``FileNotFoundError`` when neither the package nor the repository holds the file.
    """
    _check_part("language", language)
    _check_part("name", name)
    text = _read_packaged(language, name)
    if text is None:
        text = _read_repository(language, name)
    if text is None:
        raise FileNotFoundError(
            f"query file grammars/{language}/{name} is neither in the installed package nor in {_REPOSITORY_GRAMMARS}"
        )
    return text


@cache
def compiled_query(language: str, *names: str) -> Query:
    """One compiled query made of the named files, in order (``compiled_query("python", "tags.scm",
    "locals.scm")``), built once per process. Compiling several files together lets one
    ``QueryCursor`` pass over the tree serve all of them."""
    from tree_sitter_language_pack import get_language

    if not names:
        raise ValueError("compiled_query needs at least one query file name")
    text = "\n".join(load_query(language, name) for name in names)
    return Query(get_language(language), text)  # type: ignore[arg-type]
