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


def open_store(url: str | None, root: Path, *, create: bool = True) -> LeaseStore:
    """The store to use. ``create=False`` (every command but acquire) refuses a store named by ``--store``
    or SEMLEASE_STORE that does not exist, rather than making an empty one: a mistyped path would
    otherwise answer "no active leases" and hide every lease of the real store."""
    chosen = store_url(url, root)
    scheme = chosen.partition(":")[0].lower()
    if scheme == "sqlite":
        path = store_path_from_url(chosen)
        if not create and (url or os.environ.get(STORE_ENV)) and not path.exists():
            source = "--store" if url else STORE_ENV
            raise StoreError(f"no lease store at {path} (from {source}): check the path; "
                             "a store is made by the first acquire")
        return SqliteLeaseStore(path)
    if scheme in ("postgres", "postgresql"):
        raise StoreError("PostgreSQL lease stores are not supported yet; use sqlite:///PATH")
    raise StoreError(f"unknown store URL {chosen!r}: expected sqlite:///PATH")

