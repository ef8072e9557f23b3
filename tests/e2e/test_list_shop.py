"""``semlease list [KIND] [--match TEXT] --json`` on the sample shop.

The listing's JSON may be a list or an object holding one (``{"regions": [...]}``); an item may be an
object with an ``id`` or the region text itself (``fixture tests/conftest.py::db``). Contents are exact.
"""

from __future__ import annotations

from typing import Any

import pytest

from .expected import (
    ALL_FIXTURES,
    ALL_TESTS,
    CENT,
    COMPUTE_TAX,
    CREATE_INVOICE,
    DISPATCH,
    EXPORT_CSV,
    F_API_DB,
    FORMAT_MONEY,
    INVOICE,
    INVOICE_DESCRIBE,
    INVOICE_IS_VOID,
    INVOICE_TOTAL,
    ORDER,
    PARSE_MONEY,
    PLACE_ORDER,
    PY_FILES,
    ROUND,
    ROUTES,
    T_REFUND,
    T_TOTAL,
    TAX_PY,
    TAX_RATE,
    TEST_CLASS,
    VOID_INVOICE,
)

KINDS = ("export", "symbol", "test", "fixture", "file")


def listed_ids(out: Any) -> list[str]:
    """The ids in a listing, whatever its envelope."""
    items = out
    if isinstance(out, dict):
        lists = [v for v in out.values() if isinstance(v, list)]
        assert len(lists) == 1, f"expected one list in the listing object, got keys {sorted(out)}"
        items = lists[0]
    assert isinstance(items, list), out
    ids = []
    for item in items:
        if isinstance(item, dict):
            ids.append(item["id"])
        else:
            assert isinstance(item, str), item
            kind, _, rest = item.partition(" ")
            ids.append(rest if kind in KINDS else item)
    return ids


def listing(shop, *args: str) -> set[str]:
    ids = listed_ids(shop.json("list", *args))
    return set(ids)


def test_every_python_file_is_in_the_repository_we_think(shop):
    """Keeps expected.PY_FILES honest about the fixture."""
    on_disk = {p.relative_to(shop.root).as_posix() for p in shop.root.rglob("*.py") if ".git" not in p.parts}
    assert on_disk == PY_FILES


def test_list_fixtures(shop):
    assert listing(shop, "fixture") == ALL_FIXTURES


def test_list_tests(shop):
    """Test functions and methods; the class TestInvoice itself may be listed or not."""
    assert listing(shop, "test") - {TEST_CLASS} == ALL_TESTS


def test_list_files(shop):
    files = listing(shop, "file")
    assert PY_FILES <= files
    assert not {f for f in files if f.startswith((".git/", ".semlease/")) or "/.git/" in f}


def test_list_exports_match(shop):
    ids = listing(shop, "export", "--match", "invoice")
    assert {CREATE_INVOICE, VOID_INVOICE} <= ids
    assert all("invoice" in i.lower() for i in ids), ids
    assert not ids & (ALL_TESTS | ALL_FIXTURES), "tests and fixtures are not exports"
    assert ROUND not in ids, "private names are not exports"


def test_list_exports_are_public_top_level_definitions(shop):
    ids = listing(shop, "export")
    assert {CREATE_INVOICE, VOID_INVOICE, INVOICE, TAX_RATE, COMPUTE_TAX, ORDER, PLACE_ORDER, FORMAT_MONEY,
            PARSE_MONEY, EXPORT_CSV, ROUTES, DISPATCH} <= ids
    assert not ids & {ROUND, CENT, INVOICE_TOTAL, INVOICE_DESCRIBE}, "private or not top level"
    assert not ids & (ALL_TESTS | ALL_FIXTURES)


def test_list_symbols_include_methods(shop):
    ids = listing(shop, "symbol", "--match", "Invoice.")
    assert {INVOICE_TOTAL, INVOICE_IS_VOID, INVOICE_DESCRIBE} <= ids
    assert all("invoice." in i.lower() for i in ids), ids


def test_list_tests_match(shop):
    assert listing(shop, "test", "--match", "refund") == {T_REFUND}


def test_list_everything(shop):
    ids = listing(shop)
    assert {CREATE_INVOICE, F_API_DB, T_TOTAL, TAX_PY} <= ids


@pytest.mark.parametrize("kind", KINDS)
def test_every_listed_region_resolves(shop, kind):
    """What `list` prints as region text is what `resolve` accepts (spot check: first three of each kind)."""
    out = shop.json("list", kind)
    items = out["regions"] if isinstance(out, dict) and "regions" in out else out
    for item in items[:3]:
        text = item["region"] if isinstance(item, dict) and "region" in item else (
            item if isinstance(item, str) else f"{kind} {item['id']}")
        resolved = shop.resolve(text)
        if isinstance(item, dict):
            want = item["id"]
        else:
            path, sep, qualname = text.partition(" ")[2].partition("::")
            want = path + sep + qualname.replace("::", ".")
        assert {e["id"] for e in resolved["footprint"]["definition"]} == {want}, text


def test_text_output(shop):
    result = shop.run("list", "fixture")
    assert result.returncode == 0, result.stderr
    assert "db" in result.stdout and "customer" in result.stdout
