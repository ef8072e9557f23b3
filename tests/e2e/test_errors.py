"""Bad input: exit 2, one line on stderr saying what is wrong (and what was probably meant), no traceback."""

from __future__ import annotations

import json

import pytest

from .expected import F_API_DB, F_DB
from .shop_cli import assert_bad_input, run_cli


@pytest.mark.parametrize(("region", "suggestion"), [
    ("export create_invoce", "create_invoice"),
    ("export billing.create_invoce", "create_invoice"),
    ("symbol billing.invoice.Invoice.totl", "total"),
    ("fixture custmer", "customer"),
    ("test tests/test_invoice.py::TestInvoice::test_totl", "test_total"),
    ("file src/billing/taxes.py", "src/billing/tax.py"),
    ("file src/billing", "'src/billing' is a folder: name one of its files, or lease its files with "
                         "--scope 'src/billing/**'"),
    ("file /home/me/shop/src/billing/tax.py", "give the path relative to the repository's top folder"),
])
def test_unknown_region_suggests_the_closest_name(shop, region, suggestion):
    assert_bad_input(shop.run("resolve", region, "--json"), suggestion)


@pytest.mark.parametrize("region", [
    "export billing.void_invoice",  # void_invoice exists, but billing/__init__.py does not re-export it
    "symbol shop.util.parse_money",  # not in money.__all__, so the star import does not bring it
    "fixture tests/conftest.py::payload",  # payload lives in tests/api/conftest.py
    "test tests/test_invoice.py::test_total",  # test_total is a method of TestInvoice
    "file src/plugins/__init__.py",  # a namespace package has no __init__.py
])
def test_names_that_do_not_resolve(shop, region):
    assert_bad_input(shop.run("resolve", region, "--json"))


def test_ambiguous_fixture_lists_every_candidate(shop):
    """Two conftest files define db: the bare name is ambiguous."""
    assert_bad_input(shop.run("resolve", "fixture db", "--json"), F_DB, F_API_DB)


@pytest.mark.parametrize("region", [
    "",
    "frobnicate create_invoice",  # no such region kind
    "export",  # names nothing
    "export two words",
    "export src/billing/invoice.py",  # a path without ::NAME
])
def test_bad_region_syntax(shop, region):
    assert_bad_input(shop.run("resolve", region, "--json"))


@pytest.mark.parametrize("command", ["resolve", "radius"])
def test_radius_and_resolve_share_region_errors(shop, command):
    assert_bad_input(shop.run(command, "export create_invoce"), "create_invoice")
    assert_bad_input(shop.run(command, "fixture db"), F_DB, F_API_DB)
    assert_bad_input(shop.run(command, "frobnicate x"))


@pytest.mark.parametrize("args", [
    ("index",),
    ("list",),
    ("list", "fixture", "--json"),
    ("resolve", "export create_invoice", "--json"),
    ("radius", "export create_invoice", "--json"),
], ids=" ".join)
def test_missing_repository(outside_dir, args):
    result = run_cli(*args, repo="/nonexistent/semlease-e2e", cwd=outside_dir)
    assert_bad_input(result, "/nonexistent/semlease-e2e")


def test_repository_path_is_a_file(shop, outside_dir):
    result = run_cli("resolve", "export create_invoice", repo=shop.root / "pyproject.toml", cwd=outside_dir)
    assert_bad_input(result)


def test_unknown_list_kind(cli):
    assert_bad_input(cli("list", "route"))


def test_bad_depth_is_a_usage_error_without_traceback(shop):
    result = shop.run("radius", "export create_invoice", "--depth", "many")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [("--debug", "resolve", "export create_invoce", "--json"),
                                  ("resolve", "export create_invoce", "--json", "--debug")])
def test_debug_adds_the_traceback_and_changes_nothing_else(shop, args):
    result = shop.run(*args)
    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("semlease: error: nothing matches 'export create_invoce'")
    assert json.loads(result.stdout)["exit_code"] == 2
