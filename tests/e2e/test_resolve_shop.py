"""``semlease resolve REGION --json`` on the sample shop: every import form, every fixture form, exact roles.

Roles are compared as sets of ids (order-insensitive); where the contract fixes the entry kind or the
lines, those are compared too, against lines computed from the sources with ``ast``.
"""

from __future__ import annotations

import pytest

from .expected import (
    APPLY_DISCOUNT,
    CENT,
    CHECKOUT,
    CHECKOUT_PY,
    COMPUTE_TAX,
    CONFTEST,
    CREATE_INVOICE,
    CREATE_INVOICE_FOOTPRINT,
    CURRENCY,
    EXPORT_CSV,
    EXPORT_DAY,
    F_API_DB,
    F_CUSTOMER,
    F_DB,
    F_INVOICE,
    F_ITEMS,
    F_ORDER,
    F_PAYLOAD,
    FORMAT_MONEY,
    HANDLERS_PY,
    INVOICE,
    INVOICE_DESCRIBE,
    INVOICE_FIELDS,
    INVOICE_IS_VOID,
    INVOICE_PY,
    INVOICE_STATE,
    INVOICE_TOTAL,
    JSON_ENDPOINT,
    LINE_ITEM,
    MAKE_PAID_INVOICE,
    ORDER,
    ORDERS_PY,
    PARSE_MONEY,
    PLACE_ORDER,
    POST_ORDER,
    PRICING_PY,
    REFUND,
    REFUNDS_PY,
    RENEW,
    REPORTS_PY,
    ROLES,
    ROUND,
    ROUTES,
    SHELF_PRICE,
    SUBSCRIPTIONS_PY,
    SUPPORT_PY,
    T_ADDS_TAX,
    T_BAD_PAYLOAD,
    T_CHECKOUT,
    T_COMPUTE_TAX,
    T_DESCRIBE,
    T_DISCOUNT,
    T_DISPATCH,
    T_NUMBER,
    T_PLACE_ORDER,
    T_POST,
    T_PURE,
    T_RATE,
    T_REFUND,
    T_RENEW,
    T_SHARED_ORDER,
    T_SUBTOTAL,
    T_TOTAL,
    T_VOID,
    T_WITHOUT_TAX,
    TAX_PY,
    TAX_RATE,
    TAX_REPORT,
    TEST_HANDLERS_PY,
    TEST_INVOICE_PY,
    TEST_ORDERS_PY,
    TEST_REFUNDS_PY,
    TEST_TAX_PY,
    UTIL_INIT,
    VOID_INVOICE,
    VOID_LOG,
)
from .shop_cli import assert_bad_input

DEFINITION_KINDS = {"function", "class", "method", "constant", "test", "fixture", "file"}
CONTRACT_KINDS = {"signature", "class-header", "field", "constant"}


def assert_role(shop, region: str, role: str, expected: set[str]) -> None:
    got = shop.ids(region, role)
    assert got == expected, (
        f"{region!r} {role}:\n  missing: {sorted(expected - got)}\n  unexpected: {sorted(got - expected)}")


def assert_roles(shop, region: str, **expected: set[str]) -> None:
    for role, ids in expected.items():
        assert_role(shop, region, role, ids)


# ====================================================================================== output shape
def test_resolve_json_shape(shop):
    out = shop.resolve("export create_invoice")
    assert set(out) == {"region", "kind", "head", "footprint"}
    assert out["region"] == "export create_invoice"
    assert out["kind"] == "export"
    assert out["head"] == shop.head  # the commit of the copy
    assert set(out["footprint"]) == set(ROLES)


REGIONS_FOR_SHAPE = [
    "export create_invoice",
    "symbol billing.invoice.Invoice",
    "export TAX_RATE",
    "file src/billing/tax.py",
    "fixture customer",
    "test tests/test_invoice.py::TestInvoice::test_total",
    "symbol shop.api.handlers.post_order",
    "export void_invoice",
]


@pytest.mark.parametrize("region", REGIONS_FOR_SHAPE)
def test_every_entry_is_well_formed_and_points_at_the_right_lines(shop, region):
    out = shop.resolve(region)
    assert set(out["footprint"]) == set(ROLES), "all six roles, always, even when empty"
    for role, entries in out["footprint"].items():
        assert isinstance(entries, list)
        for e in entries:
            assert {"id", "kind", "path", "start_line", "end_line"} <= set(e), e
            assert e["path"] == e["id"].partition("::")[0], e
            assert isinstance(e["start_line"], int) and isinstance(e["end_line"], int), e
            assert 1 <= e["start_line"] <= e["end_line"], e
            if role == "contract":
                assert e["kind"] in CONTRACT_KINDS, e
            elif role in ("tests",):
                assert e["kind"] == "test", e
            elif role == "fixtures":
                assert e["kind"] == "fixture", e
            else:
                assert e["kind"] in DEFINITION_KINDS, e
            assert (e["start_line"], e["end_line"]) == shop.expected_lines(e, role), (role, e)


def test_head_is_null_outside_git(shop_without_git):
    out = shop_without_git.resolve("export create_invoice")
    assert out["head"] is None
    assert shop_without_git.ids("export create_invoice", "definition") == {CREATE_INVOICE}


def test_text_output_names_the_definition(shop):
    result = shop.run("resolve", "export create_invoice")
    assert result.returncode == 0, result.stderr
    assert CREATE_INVOICE in result.stdout


# ====================================================================================== export create_invoice
@pytest.mark.parametrize("role", ROLES)
def test_create_invoice_role(shop, role):
    """The six roles of ``export create_invoice``, as exact {id: kind} maps."""
    expected = CREATE_INVOICE_FOOTPRINT[role]
    got = shop.kinds("export create_invoice", role)
    missing, unexpected = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    assert set(got) == set(expected), f"{role}:\n  missing: {missing}\n  unexpected: {unexpected}"
    assert got == expected


def test_create_invoice_definition_and_contract_lines(shop):
    roles = shop.roles("export create_invoice")
    spans = shop.spans(INVOICE_PY)["create_invoice"]
    definition = roles["definition"][CREATE_INVOICE]
    assert (definition["start_line"], definition["end_line"]) == spans.span
    contract = roles["contract"][CREATE_INVOICE]
    assert (contract["start_line"], contract["end_line"]) == spans.header
    assert spans.header[0] == spans.header[1], "a one-line header"


@pytest.mark.parametrize("region", [
    "export billing.create_invoice",  # through the package's re-export
    "export billing.invoice.create_invoice",  # dotted by module (src layout: src/ is not in the name)
    "export src/billing/invoice.py::create_invoice",  # by path
    "symbol billing.invoice.create_invoice",
    "symbol src/billing/invoice.py::create_invoice",
])
def test_every_spelling_of_create_invoice_gives_the_same_footprint(shop, region):
    for role in ROLES:
        assert shop.kinds(region, role) == CREATE_INVOICE_FOOTPRINT[role], role


# ====================================================================================== import forms
def test_reexport_from_package_init(shop):
    """orders.py does ``from billing import create_invoice``: billing/__init__.py re-exports it."""
    assert PLACE_ORDER in shop.ids("export create_invoice", "dependents")
    assert CREATE_INVOICE in shop.ids("symbol shop.orders.place_order", "dependencies")


def test_module_attribute_access(shop):
    """checkout.py does ``import billing`` then ``billing.create_invoice(...)``."""
    assert_roles(shop, "symbol shop.checkout.checkout",
                 # invoice = billing.create_invoice(...) (-> Invoice); order: Order
                 dependencies={CREATE_INVOICE, ORDER, FORMAT_MONEY, f"{INVOICE}.number", INVOICE_TOTAL,
                               f"{ORDER}.paid"},
                 dependents={TEST_ORDERS_PY},
                 tests={T_CHECKOUT},
                 fixtures={F_ORDER, F_DB})
    # checkout.py imports the package, not create_invoice: only the function is a dependent.
    assert CHECKOUT_PY not in shop.ids("export create_invoice", "dependents")


def test_alias_import(shop):
    """refunds.py: ``from billing.invoice import void_invoice as cancel``; ``cancel(...)``."""
    assert_roles(shop, "export void_invoice",
                 definition={VOID_INVOICE},
                 contract={VOID_INVOICE},
                 dependencies={INVOICE, VOID_LOG, f"{INVOICE}.number", f"{INVOICE}.voided"},  # invoice: Invoice
                 dependents={REFUNDS_PY, REFUND, TEST_INVOICE_PY},
                 tests={T_VOID},  # not test_refund...: it reaches void_invoice only through refund()
                 fixtures={F_INVOICE, F_ORDER, F_DB})
    assert_roles(shop, "symbol shop.refunds.refund",
                 dependencies={INVOICE, VOID_INVOICE, INVOICE_IS_VOID, f"{INVOICE}.number"},  # invoice: Invoice
                 dependents={TEST_REFUNDS_PY},
                 tests={T_REFUND},
                 fixtures=set())


def test_multi_line_signature_contract(shop):
    entry = shop.roles("export void_invoice")["contract"][VOID_INVOICE]
    start, end = shop.spans(INVOICE_PY)["void_invoice"].header
    assert end - start == 3, "the fixture's header spans four lines"
    assert (entry["kind"], entry["start_line"], entry["end_line"]) == ("signature", start, end)


def test_relative_import_one_level(shop):
    """orders.py: ``from . import pricing`` and ``from .models import LineItem, Order``;
    subscriptions.py: ``from .orders import place_order``."""
    assert_roles(shop, "symbol shop.orders.place_order",
                 dependencies={LINE_ITEM, ORDER, CREATE_INVOICE, APPLY_DISCOUNT},
                 dependents={SUBSCRIPTIONS_PY, RENEW, HANDLERS_PY, POST_ORDER, TEST_ORDERS_PY},
                 tests={T_PLACE_ORDER},
                 fixtures={F_CUSTOMER, F_ITEMS})
    assert_roles(shop, "symbol shop.subscriptions.renew",
                 dependencies={PLACE_ORDER},
                 dependents={TEST_ORDERS_PY},
                 tests={T_RENEW},
                 fixtures={F_ITEMS})


def test_relative_import_two_levels_and_a_decorator(shop):
    """handlers.py (in shop/api/): ``from ..orders import place_order``, ``from ..models import LineItem``,
    ``from ..util.money import parse_money``; post_order is decorated with a decorator of the same file."""
    assert_roles(shop, "symbol shop.api.handlers.post_order",
                 dependencies={JSON_ENDPOINT, LINE_ITEM, PARSE_MONEY, PLACE_ORDER},
                 dependents={ROUTES, TEST_HANDLERS_PY},
                 tests={T_POST, T_BAD_PAYLOAD},
                 fixtures={F_PAYLOAD, F_API_DB, F_CUSTOMER})
    entry = shop.roles("symbol shop.api.handlers.post_order")["contract"][POST_ORDER]
    start, end = shop.spans(HANDLERS_PY)["post_order"].header
    assert shop.text(HANDLERS_PY).splitlines()[start - 1] == "@json_endpoint", "starts at the decorator"
    assert (entry["start_line"], entry["end_line"]) == (start, end)


def test_constant_used_by_a_function(shop):
    """``ROUTES = {("POST", "/orders"): post_order}`` and ``dispatch`` reading it."""
    assert_roles(shop, "symbol shop.api.handlers.dispatch",
                 dependencies={ROUTES},
                 dependents={TEST_HANDLERS_PY},
                 tests={T_DISPATCH},
                 fixtures={F_PAYLOAD, F_CUSTOMER})


def test_star_import_honours_dunder_all(shop):
    """util/__init__.py: ``from .money import *`` with ``money.__all__ = ["format_money"]``."""
    assert_roles(shop, "export format_money",
                 definition={FORMAT_MONEY},
                 dependencies={CURRENCY},
                 dependents={UTIL_INIT, CHECKOUT_PY, CHECKOUT},
                 tests=set(),  # only through checkout(): not a direct test
                 fixtures=set())
    # parse_money is not in __all__: the star import does not re-export it.
    assert_roles(shop, "export parse_money",
                 definition={PARSE_MONEY},
                 dependencies={CURRENCY},
                 dependents={HANDLERS_PY, POST_ORDER})


def test_star_reexport_resolves_only_names_in_dunder_all(shop):
    assert shop.ids("symbol shop.util.format_money", "definition") == {FORMAT_MONEY}
    assert_bad_input(shop.run("resolve", "symbol shop.util.parse_money", "--json"))


def test_import_inside_a_function_and_import_a_b_as_c(shop):
    """reports.py imports compute_tax inside tax_report(); pricing.py does ``import billing.tax as
    tax_rules`` and calls ``tax_rules.compute_tax``. Neither file imports compute_tax at module level."""
    assert_roles(shop, "export compute_tax",
                 definition={COMPUTE_TAX},
                 contract={COMPUTE_TAX},
                 dependencies={TAX_RATE, CENT},  # a default value and a private constant, same file
                 dependents={INVOICE_PY, CREATE_INVOICE, SHELF_PRICE, TAX_REPORT,
                             TEST_INVOICE_PY, TEST_TAX_PY},
                 tests={T_COMPUTE_TAX, T_TOTAL},
                 fixtures={F_INVOICE, F_ORDER, F_DB})
    dependents = shop.ids("export compute_tax", "dependents")
    assert REPORTS_PY not in dependents and PRICING_PY not in dependents
    assert_roles(shop, "symbol shop.pricing.shelf_price", dependencies={COMPUTE_TAX, TAX_RATE})
    assert_roles(shop, "symbol shop.reports.tax_report", dependencies={COMPUTE_TAX})


def test_type_checking_import_used_only_in_an_annotation(shop):
    """invoice.py imports Order under ``if TYPE_CHECKING:`` and uses it only in an annotation."""
    assert ORDER in shop.ids("export create_invoice", "dependencies")
    assert_roles(shop, "symbol shop.models.Order",
                 definition={ORDER},
                 dependencies={LINE_ITEM},
                 dependents={
                     INVOICE_PY, CREATE_INVOICE,  # the TYPE_CHECKING import and the annotation
                     ORDERS_PY, PLACE_ORDER, CHECKOUT_PY, CHECKOUT,
                     CONFTEST, SUPPORT_PY, MAKE_PAID_INVOICE, TEST_INVOICE_PY,
                 },
                 tests={
                     T_WITHOUT_TAX, T_NUMBER,  # build an Order themselves
                     T_ADDS_TAX, T_SUBTOTAL, T_CHECKOUT, T_SHARED_ORDER,  # through the order fixture
                     T_TOTAL, T_VOID,  # through invoice -> order
                     T_REFUND,  # through the helper make_paid_invoice
                 },
                 fixtures={F_DB, F_API_DB, F_ORDER, F_INVOICE})


def test_namespace_package(shop):
    """src/plugins has no __init__.py; reports.py does
    ``from plugins.exporters.csv_export import export_csv``."""
    assert_roles(shop, "export export_csv",
                 definition={EXPORT_CSV},
                 dependencies=set(),  # csv and io are stdlib
                 dependents={REPORTS_PY, EXPORT_DAY},
                 tests=set(),
                 fixtures=set())
    assert shop.ids("symbol plugins.exporters.csv_export.export_csv", "definition") == {EXPORT_CSV}
    assert_roles(shop, "symbol shop.reports.export_day", dependencies={EXPORT_CSV})


def test_src_layout_module_names(shop):
    """Modules are named from src/: ``billing.tax``, ``shop.models``, never ``src.billing.tax``."""
    assert shop.ids("symbol billing.tax.compute_tax", "definition") == {COMPUTE_TAX}
    assert shop.ids("symbol shop.models.Order", "definition") == {ORDER}
    assert shop.ids("symbol shop.api.handlers.post_order", "definition") == {POST_ORDER}


# ====================================================================================== classes and methods
def test_class_footprint(shop):
    region = "symbol billing.invoice.Invoice"
    assert shop.kinds(region, "definition") == {INVOICE: "class"}
    assert shop.kinds(region, "contract") == {
        INVOICE: "class-header",  # @dataclass + class line
        **{f: "field" for f in INVOICE_FIELDS},
        INVOICE_TOTAL: "signature",
        INVOICE_IS_VOID: "signature",  # @property + def line
        INVOICE_DESCRIBE: "signature",
        # Invoice._state is private: not part of the contract
    }
    assert_roles(shop, region,
                 dependencies={ROUND},  # its own methods and fields are part of the region
                 # checkout: invoice = billing.create_invoice(...) -> Invoice, then invoice.total()
                 dependents={CREATE_INVOICE, VOID_INVOICE, REFUNDS_PY, REFUND, TEST_INVOICE_PY, CHECKOUT},
                 tests={T_DESCRIBE, T_ADDS_TAX},  # T_ADDS_TAX reads invoice.subtotal of create_invoice(order)
                 fixtures={F_ORDER, F_DB})  # T_ADDS_TAX's
    header = shop.roles(region)["contract"][INVOICE]
    assert shop.text(INVOICE_PY).splitlines()[header["start_line"] - 1] == "@dataclass"


def test_method_used_through_self(shop):
    """Invoice.describe calls ``self.total()`` and ``self._state()`` and reads ``self.number``."""
    region = "symbol billing.invoice.Invoice.total"
    assert shop.kinds(region, "definition") == {INVOICE_TOTAL: "method"}
    assert shop.kinds(region, "contract") == {INVOICE_TOTAL: "signature"}
    assert_role(shop, region, "dependencies", {ROUND, f"{INVOICE}.subtotal", f"{INVOICE}.tax"})
    dependents = shop.ids(region, "dependents")
    assert INVOICE_DESCRIBE in dependents
    # `invoice.total()` on an untyped local elsewhere may only be bound by type inference; nothing else may be
    assert dependents <= {INVOICE_DESCRIBE, CHECKOUT, POST_ORDER, EXPORT_CSV}, dependents
    assert shop.ids(region, "tests") <= {T_TOTAL}
    assert_role(shop, "symbol billing.invoice.Invoice.describe", "dependencies",
                {f"{INVOICE}.number", INVOICE_TOTAL, INVOICE_STATE})
    assert_role(shop, "symbol billing.invoice.Invoice._state", "dependencies", {INVOICE_IS_VOID})


def test_property_contract_starts_at_its_decorator(shop):
    entry = shop.roles("symbol billing.invoice.Invoice.is_void")["contract"][INVOICE_IS_VOID]
    start, end = shop.spans(INVOICE_PY)["Invoice.is_void"].header
    assert shop.text(INVOICE_PY).splitlines()[start - 1].strip() == "@property"
    assert (entry["kind"], entry["start_line"], entry["end_line"]) == ("signature", start, end)


# ====================================================================================== constants and files
def test_constant_footprint(shop):
    region = "export TAX_RATE"
    assert shop.kinds(region, "definition") == {TAX_RATE: "constant"}
    assert shop.kinds(region, "contract") == {TAX_RATE: "constant"}
    line = shop.text(TAX_PY).splitlines().index('TAX_RATE = Decimal("0.20")') + 1
    entry = shop.roles(region)["contract"][TAX_RATE]
    assert (entry["start_line"], entry["end_line"]) == (line, line)
    assert_roles(shop, region,
                 dependencies=set(),
                 dependents={COMPUTE_TAX, SHELF_PRICE, TEST_TAX_PY},
                 tests={T_RATE},
                 fixtures=set())


def test_file_region(shop):
    region = "file src/billing/tax.py"
    assert shop.kinds(region, "definition") == {TAX_PY: "file"}
    definition = shop.roles(region)["definition"][TAX_PY]
    assert (definition["start_line"], definition["end_line"]) == (1, shop.line_count(TAX_PY))
    # public top-level definitions only: _CENT is private
    assert shop.kinds(region, "contract") == {TAX_RATE: "constant", COMPUTE_TAX: "signature"}
    assert_roles(shop, region,
                 dependencies=set(),  # compute_tax's uses of TAX_RATE and _CENT stay inside the region
                 dependents={
                     INVOICE_PY, CREATE_INVOICE,  # from billing.tax import compute_tax
                     PRICING_PY, SHELF_PRICE,  # import billing.tax as tax_rules (module level)
                     TAX_REPORT,  # import inside the function only: the file is not a dependent
                     TEST_INVOICE_PY, TEST_TAX_PY,
                 },
                 tests={T_COMPUTE_TAX, T_RATE, T_TOTAL},
                 fixtures={F_INVOICE, F_ORDER, F_DB})


# ====================================================================================== fixtures
def test_fixture_bound_by_conftest_scope_api(shop):
    """tests/api/conftest.py redefines db: under tests/api every request for db binds to it, including the one
    made by the shared ``order`` fixture on behalf of an api test."""
    region = "fixture tests/api/conftest.py::db"
    assert shop.kinds(region, "definition") == {F_API_DB: "fixture"}
    assert shop.kinds(region, "contract") == {F_API_DB: "signature"}
    assert_roles(shop, region,
                 dependencies=set(),
                 dependents=set(),
                 tests={T_POST, T_SHARED_ORDER},  # exactly the tests under tests/api that request db
                 fixtures={F_PAYLOAD, F_CUSTOMER, F_ORDER})


def test_fixture_bound_by_conftest_scope_root(shop):
    region = "fixture tests/conftest.py::db"
    assert_roles(shop, region,
                 definition={F_DB},
                 tests={T_ADDS_TAX, T_NUMBER, T_SUBTOTAL, T_TOTAL, T_VOID, T_CHECKOUT},
                 fixtures={F_ORDER, F_INVOICE})
    assert not {t for t in shop.ids(region, "tests") if t.startswith("tests/api/")}


def test_api_test_requesting_the_shared_order_gets_the_api_db(shop):
    assert_roles(shop, "test tests/api/test_handlers.py::test_shared_order_fixture_works_here",
                 definition={T_SHARED_ORDER},
                 fixtures={F_ORDER, F_API_DB})


def test_fixture_with_name_argument(shop):
    """``@pytest.fixture(name="customer") def customer_fixture()``: requested as ``customer``."""
    region = "fixture customer"
    assert shop.kinds(region, "definition") == {F_CUSTOMER: "fixture"}
    assert shop.kinds(region, "contract") == {F_CUSTOMER: "signature"}
    entry = shop.roles(region)["contract"][F_CUSTOMER]
    start, end = shop.spans(CONFTEST)["customer_fixture"].header
    assert shop.text(CONFTEST).splitlines()[start - 1] == '@pytest.fixture(name="customer")'
    assert (entry["start_line"], entry["end_line"]) == (start, end)
    assert_roles(shop, region,
                 dependencies=set(),
                 dependents=set(),  # payload requests it, but fixtures are never dependents
                 tests={T_PLACE_ORDER, T_POST, T_DISPATCH},  # directly, and through api's payload
                 fixtures={F_ITEMS, F_PAYLOAD, F_API_DB})
    for role in ROLES:
        assert shop.ids("fixture tests/conftest.py::customer_fixture", role) == shop.ids(region, role)


def test_fixture_using_the_region(shop):
    assert_roles(shop, "fixture invoice",
                 definition={F_INVOICE},
                 dependencies={CREATE_INVOICE},
                 dependents=set(),
                 tests={T_TOTAL, T_VOID},
                 fixtures={F_ORDER, F_DB})


def test_test_file_fixture(shop):
    assert_roles(shop, "fixture items",
                 definition={F_ITEMS},
                 dependencies={LINE_ITEM},
                 tests={T_PLACE_ORDER, T_RENEW},
                 fixtures={F_CUSTOMER})


# ====================================================================================== tests and helpers
@pytest.mark.parametrize("region", [
    "test tests/test_invoice.py::TestInvoice::test_total",  # pytest node id
    "test tests/test_invoice.py::TestInvoice.test_total",  # our id
])
def test_test_region(shop, region):
    assert shop.kinds(region, "definition") == {T_TOTAL: "test"}
    assert shop.kinds(region, "contract") == {T_TOTAL: "signature"}
    assert_roles(shop, region,
                 dependencies={COMPUTE_TAX},  # fixtures are not dependencies
                 dependents=set(),
                 fixtures={F_INVOICE, F_ORDER, F_DB})
    assert shop.ids(region, "tests") <= {T_TOTAL}


def test_usefixtures_marker(shop):
    assert_roles(shop, "test tests/test_invoice.py::test_invoice_number_follows_order_id",
                 dependencies={CREATE_INVOICE, ORDER},
                 fixtures={F_DB})


def test_parametrize_arguments_are_not_fixtures(shop):
    for region in ("test tests/test_tax.py::test_compute_tax_rounds_to_the_cent",
                   "test tests/test_tax.py::test_compute_tax_rounds_to_the_cent[amount0-expected0]"):
        assert_roles(shop, region,
                     definition={T_COMPUTE_TAX},
                     dependencies={COMPUTE_TAX},
                     fixtures=set())


def test_test_reaching_the_region_through_a_helper(shop):
    """test_refunds never calls create_invoice; its helper tests/support.py::make_paid_invoice does."""
    assert T_REFUND in shop.ids("export create_invoice", "tests")
    assert_roles(shop, "test tests/test_refunds.py::test_refund_voids_the_invoice",
                 dependencies={REFUND, MAKE_PAID_INVOICE},
                 fixtures=set())
    assert_roles(shop, "symbol tests/support.py::make_paid_invoice",
                 definition={MAKE_PAID_INVOICE},
                 dependencies={ORDER, LINE_ITEM, CREATE_INVOICE},
                 dependents={TEST_REFUNDS_PY},
                 tests={T_REFUND},
                 fixtures=set())


def test_tests_through_production_code_are_not_tests_of_the_region(shop):
    tests = shop.ids("export create_invoice", "tests")
    assert not tests & {T_PLACE_ORDER, T_RENEW, T_CHECKOUT, T_POST, T_DISPATCH, T_BAD_PAYLOAD}
    assert T_SUBTOTAL not in tests, "uses the order fixture, which does not use create_invoice"
    assert not tests & {T_DISCOUNT, T_PURE, T_COMPUTE_TAX, T_RATE, T_DESCRIBE}
