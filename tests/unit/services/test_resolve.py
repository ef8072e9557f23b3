"""The resolver on in-memory graphs built from small sources: spans of names defined twice, inherited
members, unittest classes, and the errors a person sees."""

from __future__ import annotations

import pytest

from semlease.domain.graph import SymbolGraph
from semlease.domain.regions import parse_region
from semlease.errors import AmbiguousRegionError, UnknownRegionError
from semlease.languages.python.extract import extract_python
from semlease.languages.python.link import link_python
from semlease.services.resolve import Resolver

SETTINGS = b'''import sys


class App:
    @property
    def debug(self) -> bool:
        return self._debug

    @debug.setter
    def debug(self, value: bool) -> None:
        self._debug = value


if sys.platform == "win32":
    def home():
        return "C:/"
else:
    def home():
        return "/root"


def describe(app: App):
    return app.debug, home()
'''

CASES = b'''import unittest
from app import home


class HomeChecks(unittest.TestCase):
    def test_home(self):
        self.assertTrue(home())

    def helper(self):
        return 1


class DeeperChecks(HomeChecks):
    def test_again(self):
        assert home()
'''


def resolver(files: dict[str, bytes]) -> Resolver:
    graph = SymbolGraph()
    link_python({p: extract_python(p, src) for p, src in files.items()}, graph)
    return Resolver(graph)


def spans(fp, role):
    return [(e.id, e.kind, e.start_line, e.end_line) for e in fp.role(role)]


def test_a_name_defined_twice_covers_both_definitions():
    r = resolver({"app.py": SETTINGS})
    fp = r.footprint(parse_region("symbol App.debug"))
    assert spans(fp, "definition") == [("app.py::App.debug", "method", 5, 7), ("app.py::App.debug", "method", 9, 11)]
    assert spans(fp, "contract") == [("app.py::App.debug", "signature", 5, 6),
                                     ("app.py::App.debug", "signature", 9, 10)]
    fp = r.footprint(parse_region("export home"))
    assert spans(fp, "definition") == [("app.py::home", "function", 15, 16), ("app.py::home", "function", 18, 19)]
    assert [e.id for e in fp.role("dependents")] == ["app.py::describe"]


def test_unittest_classes_are_tests_whatever_their_name():
    r = resolver({"app.py": SETTINGS, "tests/test_home.py": CASES})
    fp = r.footprint(parse_region("export home"))
    assert [e.id for e in fp.role("tests")] == ["tests/test_home.py::HomeChecks.test_home",
                                                "tests/test_home.py::DeeperChecks.test_again"]
    assert "tests/test_home.py::HomeChecks.helper" not in [e.id for e in fp.role("dependents")]
    assert r.graph.node("tests/test_home.py::HomeChecks.helper").kind == "method"


def test_a_member_inherited_from_a_base_class():
    r = resolver({"app.py": SETTINGS, "tests/test_home.py": CASES})
    fp = r.footprint(parse_region("symbol DeeperChecks.helper"))
    assert [e.id for e in fp.role("definition")] == ["tests/test_home.py::HomeChecks.helper"]


def test_unknown_and_ambiguous_names_say_what_to_type():
    r = resolver({"app.py": SETTINGS, "other.py": b"def describe():\n    return 1\n"})
    with pytest.raises(UnknownRegionError) as unknown:
        r.footprint(parse_region("export descrbe"))
    assert str(unknown.value) == "nothing matches 'export descrbe'; closest: export describe"
    with pytest.raises(AmbiguousRegionError) as ambiguous:
        r.footprint(parse_region("export describe"))
    assert ambiguous.value.candidates == ["app.py::describe", "other.py::describe"]
    assert str(ambiguous.value) == ("'export describe' is ambiguous: 2 candidates: app.py::describe, "
                                    "other.py::describe; name one as 'export PATH::NAME'")
