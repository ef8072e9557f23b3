"""One base exception for everything a user can cause; interfaces print its message and exit 2."""

from __future__ import annotations


class SemleaseError(Exception):
    """A problem the user can fix: bad input, an unknown region, an unreadable repository.

    ``str(error)`` is one line meant for a person. ``exit_code`` is what the command line returns.
    """

    exit_code = 2

    def __init__(self, message: str, *, candidates: list[str] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []


class RegionSyntaxError(SemleaseError):
    """The region text does not follow the grammar (`export NAME`, `symbol QUALNAME`, ...)."""


class UnknownRegionError(SemleaseError):
    """Nothing in the index answers to the region; ``candidates`` holds the closest names."""


class AmbiguousRegionError(SemleaseError):
    """A bare name matches several definitions; ``candidates`` holds their ids."""


class RepositoryError(SemleaseError):
    """The repository path does not exist, is not a folder, or cannot be read."""


class IndexError_(SemleaseError):
    """The stored index cannot be read or written."""


class StoreError(SemleaseError):
    """The lease store cannot be opened, read or written: locked, damaged, not writable, too new."""


class ConfigError(SemleaseError):
    """semlease.toml or [tool.semlease] in pyproject.toml cannot be read or says something invalid."""


class Refused(SemleaseError):
    """A refusal, not a mistake: a conflicting lease, someone else's lease, an expired lease (exit 1)."""

    exit_code = 1
