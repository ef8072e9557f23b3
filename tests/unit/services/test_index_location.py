"""Where the index lives: the work tree's git dir, a named file for a sub-folder, `.semlease/` outside
git, and the user's cache when the repository cannot be written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import write_repo
from semlease.services import indexer
from semlease.services.indexer import index_location


def test_the_index_lives_in_the_git_dir_or_beside_the_files(tmp_path: Path):
    repo = write_repo(tmp_path / "repo", {"a.py": "", "sub/x_y/b.py": "", "sub_x/y/c.py": ""})
    assert index_location(repo) == repo / ".git" / "semlease" / "index.db"
    one = index_location(repo / "sub" / "x_y")
    two = index_location(repo / "sub_x" / "y")
    assert one.parent == two.parent == repo / ".git" / "semlease"
    assert one.name.startswith("index-sub_x_y-") and two.name.startswith("index-sub_x_y-")
    assert one != two  # the same slug, told apart by a hash of the path
    plain = tmp_path / "plain"
    plain.mkdir()
    assert index_location(plain) == plain / ".semlease" / "index.db"


def test_a_repository_that_cannot_be_written_keeps_its_index_in_the_cache(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch):
    repo = write_repo(tmp_path / "ro", {"a.py": ""})
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    real_access = os.access
    # A read-only mount cannot be made here without privileges the tests do not take, and root ignores
    # file modes: this is the one fault the test fakes.
    monkeypatch.setattr(indexer.os, "access", lambda p, mode: False if Path(p).is_relative_to(repo)
                        else real_access(p, mode))
    where = index_location(repo)
    assert where.parent.parent == cache / "semlease"
    assert where.parent.name.startswith("ro-")
    assert where.name == "index.db"
