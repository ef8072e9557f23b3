"""Plain helpers shared by the tests (importable as ``helpers``: ``tests/conftest.py`` puts this folder on
``sys.path``). Fixtures wrapping them live in ``tests/conftest.py``.

Every git command here runs with :func:`isolated_git_env`, so results do not depend on the user's git
configuration (name, e-mail, default branch, signing, hooks) and commits are reproducible.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

# Fixed identity and dates: the same files give the same commit hashes on every run.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Semlease Test",
    "GIT_AUTHOR_EMAIL": "test@semlease.invalid",
    "GIT_COMMITTER_NAME": "Semlease Test",
    "GIT_COMMITTER_EMAIL": "test@semlease.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
}

# Ignore the machine's and the user's git configuration; pin what a test might otherwise depend on.
GIT_ISOLATION = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_COUNT": "4",
    "GIT_CONFIG_KEY_0": "init.defaultBranch",
    "GIT_CONFIG_VALUE_0": "main",
    "GIT_CONFIG_KEY_1": "commit.gpgSign",
    "GIT_CONFIG_VALUE_1": "false",
    "GIT_CONFIG_KEY_2": "core.autocrlf",
    "GIT_CONFIG_VALUE_2": "false",
    "GIT_CONFIG_KEY_3": "core.hooksPath",
    "GIT_CONFIG_VALUE_3": os.devnull,
}

GIT_ENV: dict[str, str] = {**GIT_IDENTITY, **GIT_ISOLATION}

# Variables that would redirect git away from the folder a test works in.
_REDIRECTING = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")


def isolated_git_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: ``os.environ``) with the test identity and isolation variables applied."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _REDIRECTING}
    env.update(GIT_ENV)
    return env


def run_git(root: Path | str, *args: str) -> str:
    """Run ``git -C root args...`` with the test environment; return stdout, raise on failure."""
    result = subprocess.run(
        ["git", "-C", os.fspath(root), *args],
        capture_output=True,
        text=True,
        env=isolated_git_env(),
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def write_files(root: Path | str, files: Mapping[str, str | bytes]) -> Path:
    """Write ``files`` (relative path with ``/`` -> text or bytes) under ``root``, creating folders.

    Text is written as UTF-8 with ``\\n`` line endings, exactly as given.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        target.write_bytes(data)
    return root


def write_repo(
    root: Path | str,
    files: Mapping[str, str | bytes],
    *,
    commit: bool = True,
    message: str = "initial",
) -> Path:
    """Write ``files`` under ``root``, ``git init`` it (if needed), add everything and commit.

    With ``commit=False`` the repository is created with nothing staged and no commit. Calling it again
    on the same ``root`` writes more files and makes another commit. Returns ``root``.
    """
    root = write_files(root, files)
    if not (root / ".git").exists():
        run_git(root, "init", "--quiet")
    if commit:
        run_git(root, "add", "--all")
        run_git(root, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", message)
    return root
