"""Choosing the lease store: ``--store URL``, else ``SEMLEASE_STORE``, else the repository's default file."""

from __future__ import annotations

import os
from pathlib import Path

from semlease.adapters import git
from semlease.adapters.sqlite_store import SqliteLeaseStore, default_store_path, store_path_from_url
from semlease.domain.store import LeaseStore
from semlease.errors import StoreError

STORE_ENV = "SEMLEASE_STORE"


def store_url(url: str | None, root: Path) -> str:
    """The URL of the store a command uses, as a person would write it."""
    chosen = url or os.environ.get(STORE_ENV) or None
    if chosen:
        return chosen
    return "sqlite:///" + str(default_store_path(git.git_common_dir(root), root))


def open_store(url: str | None, root: Path) -> LeaseStore:
    chosen = store_url(url, root)
    scheme = chosen.partition(":")[0].lower()
    if scheme == "sqlite":
        return SqliteLeaseStore(store_path_from_url(chosen))
    if scheme in ("postgres", "postgresql"):
        raise StoreError("PostgreSQL lease stores are not supported yet; use sqlite:///PATH")
    raise StoreError(f"unknown store URL {chosen!r}: expected sqlite:///PATH")

