"""What a lease would claim: members of a class, whole files, --scope paths and globs, behaviours."""

from __future__ import annotations

import pytest

from semlease.domain.leases import Claim
from semlease.domain.regions import parse_region
from semlease.errors import SemleaseError
from semlease.services.scoping import RegionResolver, expand_scope, normalise_scope_path


def test_a_class_claims_its_methods(regions: RegionResolver) -> None:
    plan = regions.plan(parse_region("export Cart"), "contract")
    assert plan.mode == "contract"
    assert [(c.node, c.action) for c in plan.claims] == [
        ("shop/cart.py::Cart", "write:contract"),
        ("shop/cart.py::Cart.__init__", "write:contract"),
        ("shop/cart.py::Cart.add", "write:contract"),
        ("shop/cart.py::Cart.total", "write:contract"),
    ]
    assert plan.scope.nodes == tuple(c.node for c in plan.claims)


def test_observe_claims_only_rely(regions: RegionResolver) -> None:
    plan = regions.plan(parse_region("export search"), "observe")
    assert {c.action for c in plan.claims} == {"rely"}
    assert plan.scope.nodes == ("search/engine.py::search", "tests/test_engine.py::test_search")


def test_a_file_region_is_a_whole_file_claim(regions: RegionResolver) -> None:
    plan = regions.plan(parse_region("file util/fmt.py"), "rename")
    assert Claim(node="util/fmt.py", path="util/fmt.py", action="write:rename", whole_file=True) in plan.claims


def test_scope_paths_become_whole_file_claims(regions: RegionResolver) -> None:
    plan = regions.plan(parse_region("export search"), "implement", ["./docs/*.md", "NOTES.txt"],
                        ["docs/a.md", "docs/sub/b.md", "docs/c.rst", "README.md"])
    assert plan.scope.paths == ("docs/*.md", "NOTES.txt")
    whole = [c.node for c in plan.claims if c.whole_file]
    assert whole == ["NOTES.txt", "docs/a.md"]
    assert all(c.action == "write:implement" for c in plan.claims if c.whole_file)


def test_expand_scope_follows_git_wildcards() -> None:
    files = ["docs/a.md", "docs/sub/b.md", "src/x.py", "assets/img/logo.png"]
    assert expand_scope(["docs/**/*.md"], files) == ["docs/a.md", "docs/sub/b.md"]
    assert expand_scope(["docs/"], files) == ["docs/a.md", "docs/sub/b.md"]
    assert expand_scope(["assets/**"], files) == ["assets/img/logo.png"]
    assert expand_scope(["new/file.py"], files) == ["new/file.py"]
    assert expand_scope([], files) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [("", "--scope '' names nothing"), ("/etc/passwd", "--scope '/etc/passwd' is absolute"),
     ("a/../../b", "--scope 'a/../../b' leaves the repository ('..')"), ("C:/x", "--scope 'C:/x' is absolute")],
)
def test_bad_scope_paths(raw: str, message: str) -> None:
    with pytest.raises(SemleaseError) as error:
        normalise_scope_path(raw)
    assert str(error.value).startswith(message)


def test_scope_paths_are_normalised() -> None:
    assert normalise_scope_path("./docs//a.md") == "docs/a.md"
    assert normalise_scope_path("docs\\sub\\") == "docs/sub/"


def test_behaviour_radius_is_the_union_without_its_own_parts(regions: RegionResolver) -> None:
    radius = regions.radius(parse_region("behavior searching"))
    assert [(d.id, d.distance) for d in radius.dependents] == [("search/api.py", 1), ("tests/test_engine.py", 1)]
    assert radius.tests == ("tests/test_engine.py::test_search",)
