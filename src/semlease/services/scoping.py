"""From region text to what a lease would cover: the footprint (behaviours included) and the claims.

A behaviour (``behavior checkout``) is named in the project's configuration as a list of regions; its
footprint is the union of theirs. A lease's claims are its footprint's nodes with the action the lease takes
on each (write, edit-test, rely: :mod:`semlease.domain.policy`), plus every member of what it defines (a
class's methods: leasing a class covers them) and the paths given with ``--scope``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

from pathspec import GitIgnoreSpec
from pydantic import BaseModel, ConfigDict

from semlease.adapters import git
from semlease.adapters.config import Config
from semlease.domain import footprint as R
from semlease.domain import graph as G
from semlease.domain import policy as P
from semlease.domain.footprint import Entry, Footprint, Radius, RadiusEntry
from semlease.domain.graph import GraphReader
from semlease.domain.leases import Claim, Scope, claims_from_footprint
from semlease.domain.regions import Region, parse_region
from semlease.errors import RepositoryError, SemleaseError, UnknownRegionError
from semlease.services.resolve import DEFAULT_RADIUS_DEPTH, Resolver

_GLOB_CHARS = frozenset("*?[")


class LeasePlan(BaseModel):
    """What acquiring a region would claim."""

    model_config = ConfigDict(frozen=True)

    mode: str  # the claims' actions follow from it
    footprint: Footprint
    claims: tuple[Claim, ...]
    scope: Scope


class RegionResolver:
    """The resolver, with the project's behaviours."""

    def __init__(self, resolver: Resolver, config: Config | None = None) -> None:
        self.resolver = resolver
        self.config = config or Config()

    # ------------------------------------------------------------------ behaviours
    def parts(self, region: Region) -> list[Region]:
        if region.kind != "behavior":
            return [region]
        parts = self.config.regions.get(region.target)
        if parts is None:
            known = sorted(self.config.regions)
            where = self.config.source or "semlease.toml or [tool.semlease.regions] in pyproject.toml"
            hint = f"; configured: {', '.join(known)}" if known else f"; none is configured in {where}"
            raise UnknownRegionError(f"no behaviour named {region.target!r}{hint}",
                                     candidates=[f"behavior {k}" for k in known])
        return [parse_region(p) for p in parts]

    def footprint(self, region: Region) -> Footprint:
        if region.kind != "behavior":
            return self.resolver.footprint(region)
        parts = []
        for part in self.parts(region):
            try:
                parts.append(self.resolver.footprint(part))
            except SemleaseError as error:
                raise type(error)(f"behaviour {region.target!r}, part {part.text!r}: {error}",
                                  candidates=error.candidates) from error
        return _union(region, parts, self.resolver.head)

    def radius(self, region: Region, depth: int | None = DEFAULT_RADIUS_DEPTH) -> Radius:
        radii = [self.resolver.radius(part, depth=depth) for part in self.parts(region)]
        if len(radii) == 1 and region.kind != "behavior":
            return radii[0]
        own = {n.id for part in self.parts(region) for n in self.resolver.members(part)}
        nearest: dict[str, RadiusEntry] = {}
        for radius in radii:
            for d in radius.dependents:
                if d.id not in own and (d.id not in nearest or d.distance < nearest[d.id].distance):
                    nearest[d.id] = d
        dependents = sorted(nearest.values(), key=lambda d: (d.distance, d.path, d.start_line, d.id))
        return Radius(region=region.text, depth=depth, dependents=tuple(dependents),
                      files=tuple(sorted({f for r in radii for f in r.files})),
                      tests=tuple(sorted({t for r in radii for t in r.tests})))

    # ------------------------------------------------------------------ claims
    def plan(self, region: Region, mode: str, scope_paths: Sequence[str] = (),
             repository_files: Sequence[str] = ()) -> LeasePlan:
        footprint = self.footprint(region)
        claims = {c.node: c for c in claims_from_footprint(footprint.model_dump(), mode)}
        for part in self.parts(region):
            for member in self.resolver.members(part):
                if member.kind != G.FILE:
                    _add(claims, Claim(node=member.id, path=member.path, action=P.write(mode)))
        patterns = [normalise_scope_path(p) for p in scope_paths]
        for path in expand_scope(patterns, repository_files):
            _add(claims, Claim(node=path, path=path, action=P.write(mode), whole_file=True))
        editable = {e.id for role in (R.DEFINITION, R.CONTRACT, R.TESTS, R.FIXTURES)
                    for e in footprint.role(role)}
        editable |= {c.node for c in claims.values() if c.action.startswith("write:")}
        scope = Scope(nodes=tuple(sorted(editable)), paths=tuple(patterns))
        return LeasePlan(mode=mode, footprint=footprint, claims=tuple(sorted(claims.values(), key=lambda c: c.node)),
                         scope=scope)


def _add(claims: dict[str, Claim], claim: Claim) -> None:
    old = claims.get(claim.node)
    if old is not None:
        claim = Claim(node=claim.node, path=claim.path, action=P.stronger(old.action, claim.action),
                      whole_file=old.whole_file or claim.whole_file)
    claims[claim.node] = claim


def _union(region: Region, parts: list[Footprint], head: str | None) -> Footprint:
    """Each role is the union of the parts' entries; what one part defines is no dependency of another."""
    defined = {e.id for fp in parts for e in fp.role(R.DEFINITION)}
    roles: dict[str, tuple[Entry, ...]] = {}
    for role in R.ROLES:
        seen: dict[tuple[str, str, int], Entry] = {}
        for fp in parts:
            for e in fp.role(role):
                if role in (R.DEPENDENCIES, R.DEPENDENTS) and e.id in defined:
                    continue
                seen.setdefault((e.id, e.kind, e.start_line), e)
        roles[role] = tuple(sorted(seen.values(), key=lambda e: (e.path, e.start_line, e.id)))
    return Footprint(region=region.text, kind=region.kind, head=head, footprint=roles)


# ---------------------------------------------------------------------------------------------- --scope
def is_glob(pattern: str) -> bool:
    return any(c in _GLOB_CHARS for c in pattern)


def normalise_scope_path(raw: str) -> str:
    """A repository-relative path or git-style glob; absolute paths and ``..`` are refused."""
    text = raw.strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    if not text or text in (".", "/"):
        raise SemleaseError(f"--scope {raw!r} names nothing: give a path or glob relative to the repository")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise SemleaseError(f"--scope {raw!r} is absolute: give a path relative to the repository")
    if ".." in text.split("/"):
        raise SemleaseError(f"--scope {raw!r} leaves the repository ('..')")
    return posixpath.normpath(text) + ("/" if text.endswith("/") else "")


def scope_matcher(patterns: Sequence[str]) -> GitIgnoreSpec:
    """Git's own wildcard rules (``*`` stays in a folder, ``**`` crosses folders, ``dir/`` is a folder)."""
    return GitIgnoreSpec.from_lines(patterns)


def expand_scope(patterns: Sequence[str], repository_files: Sequence[str]) -> list[str]:
    """The files the patterns cover now; a literal path is kept even when no such file exists yet."""
    if not patterns:
        return []
    found = set(scope_matcher(patterns).match_files(repository_files))
    found |= {p for p in patterns if not is_glob(p) and not p.endswith("/")}
    return sorted(found)


def repository_files(root: Path, graph: GraphReader) -> list[str]:
    """Every file a ``--scope`` glob may cover: git's tracked and untracked-unignored files in a work tree,
    else the indexed source files."""
    try:
        return git.list_files(root)
    except RepositoryError:
        return sorted(n.path for n in graph.iter_nodes({G.FILE}))
