"""End-to-end fixtures: the bundled sample repository (``fixtures/shop``) copied into a fresh git repository
once per session, and the CLI pointed at it. The helpers behind them are in ``shop_cli.py``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .shop_cli import IGNORED, SHOP_SOURCE, ShopRepo, describe, make_git_repo


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> ShopRepo:
    """``fixtures/shop`` copied into a fresh git repository with one commit, then indexed once."""
    root = tmp_path_factory.mktemp("e2e") / "shop"
    shutil.copytree(SHOP_SOURCE, root, ignore=IGNORED)
    head = make_git_repo(root, message="shop: the sample repository")
    repo = ShopRepo(root=root, head=head, env={"GIT_CEILING_DIRECTORIES": str(root.parent)})
    result = repo.run("index")
    assert result.returncode == 0, describe(result)
    return repo


@pytest.fixture(scope="session")
def shop_without_git(tmp_path_factory: pytest.TempPathFactory) -> ShopRepo:
    """The same files in a plain folder (no git): ``head`` must come back null."""
    root = tmp_path_factory.mktemp("e2e-nogit") / "shop"
    shutil.copytree(SHOP_SOURCE, root, ignore=IGNORED)
    return ShopRepo(root=root, head=None, env={"GIT_CEILING_DIRECTORIES": str(root.parent)})


@pytest.fixture(scope="session")
def outside_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder outside any repository, to run the CLI from."""
    return tmp_path_factory.mktemp("e2e-outside")


@pytest.fixture(scope="session")
def cli(shop: ShopRepo):
    """``cli(*args) -> CompletedProcess``: ``python -m semlease ARGS --repo <the shop copy>``, text output."""
    return shop.run
