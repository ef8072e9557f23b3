"""A small repository as an in-memory graph, shared by the coordinator and scoping tests: a function with
a caller and a test, two functions of one file, a class with methods, and a configured behaviour."""

from __future__ import annotations

import pytest

from semlease.adapters.config import Config
from semlease.domain.graph import SymbolGraph
from semlease.languages.python.extract import extract_python
from semlease.languages.python.link import link_python
from semlease.services.resolve import Resolver
from semlease.services.scoping import RegionResolver

SOURCES = {
    "search/__init__.py": "",
    "search/engine.py": '''
def search(index, query):
    return [d for d in index if query in d]
''',
    "search/api.py": '''
from search.engine import search

INDEX = ["apple", "banana"]


def handle(q):
    return search(INDEX, q)
''',
    "util/__init__.py": "",
    "util/fmt.py": '''
import datetime


def parse_date(text):
    return datetime.date.fromisoformat(text)


def format_currency(amount):
    return f"${amount:.2f}"
''',
    "shop/__init__.py": "",
    "shop/cart.py": '''
class Cart:
    def __init__(self):
        self.items = []

    def total(self):
        return sum(self.items)

    def add(self, price):
        self.items.append(price)
''',
    "tests/__init__.py": "",
    "tests/test_engine.py": '''
from search.engine import search


def test_search():
    assert search(["ab"], "a") == ["ab"]
''',
    "tests/test_fmt.py": '''
from util.fmt import format_currency, parse_date


def test_parse_date():
    assert parse_date("2026-01-02").day == 2


def test_format_currency():
    assert format_currency(2) == "$2.00"
''',
}

BEHAVIOURS = Config(regions={"searching": ("export search", "export handle")})


@pytest.fixture(scope="module")
def regions() -> RegionResolver:
    graph = SymbolGraph()
    link_python({p: extract_python(p, s.encode()) for p, s in SOURCES.items()}, graph)
    return RegionResolver(Resolver(graph, head="c0ffee"), BEHAVIOURS)
