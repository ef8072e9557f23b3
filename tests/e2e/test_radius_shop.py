"""``semlease radius REGION --json`` on the sample shop: transitive dependents, nearest first.

The radius walks the same *dependents* relation as ``resolve`` (one hop at a time), so depth 1 is exactly
resolve's dependents role, and tests and fixtures are never dependents: they are reported in ``tests``.
A walk may pass through a file node (``src/shop/orders.py`` is a dependent of create_invoice because it
imports it), so where two nodes are equally near, ``via`` may name either the symbol or its file; distances
are exact either way.
"""

from __future__ import annotations

import pytest

from .expected import (
    ALL_TESTS,
    CHECKOUT,
    COMPUTE_TAX,
    CREATE_INVOICE,
    CREATE_INVOICE_FOOTPRINT,
    CREATE_INVOICE_SRC_RADIUS,
    DISPATCH,
    INVOICE_DESCRIBE,
    INVOICE_TOTAL,
    PLACE_ORDER,
    POST_ORDER,
    RENEW,
    ROUTES,
    SHELF_PRICE,
    T_ADDS_TAX,
    T_BAD_PAYLOAD,
    T_CHECKOUT,
    T_COMPUTE_TAX,
    T_DISCOUNT,
    T_DISPATCH,
    T_PLACE_ORDER,
    T_POST,
    T_PURE,
    T_RATE,
    T_RENEW,
    T_TOTAL,
    TAX_REPORT,
)

REGION = "export create_invoice"
UNRELATED_TESTS = {T_DISCOUNT, T_PURE, T_COMPUTE_TAX, T_RATE}  # reach nothing that depends on create_invoice


def check_invariants(out: dict, region_ids: set[str], depth: int | None) -> None:
    """What holds for any radius: shape, order, distances, ``via`` links, no tests or fixtures."""
    assert set(out) == {"region", "depth", "dependents", "files", "tests"}
    assert out["depth"] == depth
    deps = out["dependents"]
    ids = [e["id"] for e in deps]
    assert len(ids) == len(set(ids)), "each dependent once, at its shortest distance"
    assert not set(ids) & region_ids, "the region is not its own dependent"
    distances = [e["distance"] for e in deps]
    assert all(isinstance(d, int) and d >= 1 for d in distances)
    assert distances == sorted(distances), "nearest first"
    if depth is not None:
        assert max(distances, default=0) <= depth
    at = {e["id"]: e["distance"] for e in deps}
    for e in deps:
        assert {"id", "kind", "path", "start_line", "end_line", "distance", "via"} <= set(e), e
        assert e["path"] == e["id"].partition("::")[0], e
        assert e["kind"] not in ("test", "fixture"), f"tests and fixtures are not dependents: {e}"
        if e["distance"] == 1:
            assert e["via"] in region_ids, e
        else:
            assert at.get(e["via"]) == e["distance"] - 1, f"via must be one step nearer the region: {e}"
    assert len(out["files"]) == len(set(out["files"]))
    dependent_paths = {e["path"] for e in deps}
    test_paths = {t.partition("::")[0] for t in out["tests"]}
    region_paths = {i.partition("::")[0] for i in region_ids}
    assert dependent_paths <= set(out["files"]), "every dependent's file is in files"
    assert set(out["files"]) <= dependent_paths | test_paths | region_paths
    assert len(out["tests"]) == len(set(out["tests"]))
    assert set(out["tests"]) <= ALL_TESTS, "tests are test functions or methods (not classes, not fixtures)"


def by_id(out: dict) -> dict[str, dict]:
    return {e["id"]: e for e in out["dependents"]}


def src_symbols(out: dict) -> dict[str, int]:
    """Dependents that are production definitions (not files, not test code), with their distance."""
    return {e["id"]: e["distance"] for e in out["dependents"]
            if e["path"].startswith("src/") and e["kind"] != "file"}


@pytest.mark.parametrize("depth", [1, 2, 10])
def test_invariants(shop, depth):
    out = shop.radius(REGION, depth)
    assert out["region"] == REGION
    check_invariants(out, {CREATE_INVOICE}, depth)


def test_depth_one_is_the_dependents_role(shop):
    out = shop.radius(REGION, 1)
    assert {e["id"]: e["kind"] for e in out["dependents"]} == CREATE_INVOICE_FOOTPRINT["dependents"]
    assert {e["distance"] for e in out["dependents"]} == {1}
    assert {e["via"] for e in out["dependents"]} == {CREATE_INVOICE}
    assert {e["id"] for e in out["dependents"]} == shop.ids(REGION, "dependents")


def test_transitive_dependents_with_exact_distances(shop):
    out = shop.radius(REGION, 10)
    assert src_symbols(out) == {i: d for i, (d, _) in CREATE_INVOICE_SRC_RADIUS.items()}
    deps = by_id(out)
    for node, (_, via) in CREATE_INVOICE_SRC_RADIUS.items():
        assert deps[node]["via"] in {via, via.partition("::")[0]}, deps[node]
    # everything one hop away is still at distance 1
    for node in CREATE_INVOICE_FOOTPRINT["dependents"]:
        assert deps[node]["distance"] == 1, deps[node]
    # the chain place_order -> post_order -> ROUTES -> dispatch is walked in order
    order = [e["id"] for e in out["dependents"]]
    assert order.index(PLACE_ORDER) < order.index(POST_ORDER) < order.index(ROUTES) < order.index(DISPATCH)


def test_depth_limits_the_walk(shop):
    out = shop.radius(REGION, 2)
    assert src_symbols(out) == {PLACE_ORDER: 1, CHECKOUT: 1, RENEW: 2, POST_ORDER: 2}
    assert ROUTES not in by_id(out) and DISPATCH not in by_id(out)


@pytest.mark.parametrize("depth", [1, 2, 10])
def test_tests_include_the_regions_own_tests_at_any_depth(shop, depth):
    """Tests through fixtures and helpers count at depth 1 already: they test the region itself."""
    tests = set(shop.radius(REGION, depth)["tests"])
    assert shop.ids(REGION, "tests") <= tests
    assert not tests & UNRELATED_TESTS


def test_tests_follow_the_dependents(shop):
    near = set(shop.radius(REGION, 1)["tests"])
    assert {T_PLACE_ORDER, T_CHECKOUT} <= near, "tests of place_order and checkout (distance 1)"
    assert T_RENEW not in near and T_BAD_PAYLOAD not in near, "their code is two hops away"
    far = set(shop.radius(REGION, 10)["tests"])
    assert {T_PLACE_ORDER, T_CHECKOUT, T_RENEW, T_POST, T_DISPATCH, T_BAD_PAYLOAD} <= far


def test_radius_from_a_dependency_further_down(shop):
    """compute_tax: used by create_invoice, by pricing through ``import billing.tax as tax_rules`` and by a
    function-level import in reports; create_invoice's dependents follow one step further out."""
    out = shop.radius("export compute_tax", 3)
    check_invariants(out, {COMPUTE_TAX}, 3)
    # src/billing/invoice.py itself is a dependent (it imports compute_tax), so how far the walk goes from
    # that file node is the implementation's call: only the distances of these are fixed.
    symbols = src_symbols(out)
    expected = {CREATE_INVOICE: 1, SHELF_PRICE: 1, TAX_REPORT: 1, PLACE_ORDER: 2, CHECKOUT: 2, RENEW: 3,
                POST_ORDER: 3}
    assert {i: symbols.get(i) for i in expected} == expected
    assert {i for i, d in symbols.items() if d == 1} == {CREATE_INVOICE, SHELF_PRICE, TAX_REPORT}
    assert ROUTES not in symbols, "four hops away"
    tests = set(out["tests"])
    assert {T_COMPUTE_TAX, T_TOTAL, T_ADDS_TAX, T_PLACE_ORDER} <= tests
    assert not tests & {T_DISCOUNT, T_PURE}


def test_radius_of_a_method_used_through_self(shop):
    out = shop.radius("symbol billing.invoice.Invoice.total", 10)
    check_invariants(out, {INVOICE_TOTAL}, 10)
    assert by_id(out)[INVOICE_DESCRIBE]["distance"] == 1


def test_default_depth(shop):
    out = shop.radius(REGION)
    assert out["depth"] is None or (isinstance(out["depth"], int) and out["depth"] >= 1)
    check_invariants(out, {CREATE_INVOICE}, out["depth"])
    assert shop.ids(REGION, "dependents") <= set(by_id(out))


def test_text_output(shop):
    result = shop.run("radius", REGION, "--depth", "2")
    assert result.returncode == 0, result.stderr
    assert PLACE_ORDER in result.stdout and POST_ORDER in result.stdout
