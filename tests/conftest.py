"""Fixtures shared by every test. Plain functions behind them live in ``tests/helpers.py``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

# Make ``import helpers`` work from any test module, whatever pytest's import mode.
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from helpers import GIT_ENV, write_repo  # noqa: E402 - needs the sys.path line above

MakeGitRepo = Callable[..., Path]


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Give every git process started by the test (ours or the code under test) a fixed identity and no
    user or system configuration, and stop git's repository search above ``tmp_path`` (so a folder under
    ``tmp_path`` is "outside git" even when the temporary folder sits inside some work tree).
    Returns the variables that were set."""
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    env = {**GIT_ENV, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def make_git_repo(git_env: dict[str, str]) -> MakeGitRepo:
    """Factory: ``make_git_repo(root, {"src/a.py": "x = 1\\n", "logo.png": b"..."}) -> root``.

    Writes the files, runs ``git init``, adds everything and commits (``commit=False`` to leave the
    repository without a commit; ``message=`` for the commit message). Call it again on the same root to
    add a second commit.
    """

    def factory(
        root: Path, files: Mapping[str, str | bytes], *, commit: bool = True, message: str = "initial"
    ) -> Path:
        return write_repo(root, files, commit=commit, message=message)

    return factory
