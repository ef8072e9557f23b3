"""The ids of the bundled sample repository (``fixtures/shop``) and the footprints the e2e tests expect.

Every expectation follows the role semantics of the resolve contract:

* definition   - the region's own node(s).
* contract     - a function/method/test/fixture: its signature; a class: its header, its fields and its
                 public methods' signatures; a constant: its statement; a file: the contract of each public
                 top-level definition.
* dependencies - definitions the region uses, resolved to where they are defined (stdlib and pytest are
                 outside the repository and never listed); parts of the region itself are left out.
* dependents   - one hop: the innermost non-test, non-fixture definitions using the region, plus the file
                 ids of modules importing it at module level (an ``if TYPE_CHECKING:`` block *is* module
                 level) or re-exporting it. A module that imports the region's *module* (``import billing``,
                 ``import billing.tax as tax_rules``) or imports it only inside a function is not a file
                 dependent; the function using it is. Test code is not special here: a test helper is a
                 function and a test module importing the region is a module, so both are dependents; only
                 tests and fixtures themselves are left to the tests/fixtures roles.
* tests        - tests using the region directly, through a fixture chain, or through a test helper. Not
                 through production code: a test of ``place_order`` does not test ``create_invoice``.
* fixtures     - every fixture those tests use, transitively, bound the way pytest binds them *for the test*
                 (``order`` requested under ``tests/api`` gets ``tests/api/conftest.py::db``: check with
                 ``pytest --fixtures-per-test`` in a copy of the shop), minus the region itself.
"""

from __future__ import annotations

# ------------------------------------------------------------------------------------------------ files
BILLING_INIT = "src/billing/__init__.py"
INVOICE_PY = "src/billing/invoice.py"
TAX_PY = "src/billing/tax.py"
MODELS_PY = "src/shop/models.py"
PRICING_PY = "src/shop/pricing.py"
ORDERS_PY = "src/shop/orders.py"
SUBSCRIPTIONS_PY = "src/shop/subscriptions.py"
CHECKOUT_PY = "src/shop/checkout.py"
REFUNDS_PY = "src/shop/refunds.py"
REPORTS_PY = "src/shop/reports.py"
UTIL_INIT = "src/shop/util/__init__.py"
MONEY_PY = "src/shop/util/money.py"
HANDLERS_PY = "src/shop/api/handlers.py"
CSV_EXPORT_PY = "src/plugins/exporters/csv_export.py"

CONFTEST = "tests/conftest.py"
API_CONFTEST = "tests/api/conftest.py"
SUPPORT_PY = "tests/support.py"
TEST_INVOICE_PY = "tests/test_invoice.py"
TEST_TAX_PY = "tests/test_tax.py"
TEST_ORDERS_PY = "tests/test_orders.py"
TEST_REFUNDS_PY = "tests/test_refunds.py"
TEST_PRICING_PY = "tests/test_pricing.py"
TEST_HANDLERS_PY = "tests/api/test_handlers.py"

# Every Python file of the shop (file regions; the e2e tests check this list against the folder).
PY_FILES = {
    BILLING_INIT, INVOICE_PY, TAX_PY, "src/shop/__init__.py", MODELS_PY, PRICING_PY, ORDERS_PY,
    SUBSCRIPTIONS_PY, CHECKOUT_PY, REFUNDS_PY, REPORTS_PY, UTIL_INIT, MONEY_PY, "src/shop/api/__init__.py",
    HANDLERS_PY, CSV_EXPORT_PY, "tests/__init__.py", "tests/api/__init__.py", CONFTEST, API_CONFTEST,
    SUPPORT_PY, TEST_INVOICE_PY, TEST_TAX_PY, TEST_ORDERS_PY, TEST_REFUNDS_PY, TEST_PRICING_PY,
    TEST_HANDLERS_PY,
}

# ------------------------------------------------------------------------------------------------ billing
INVOICE = f"{INVOICE_PY}::Invoice"
INVOICE_FIELDS = {f"{INVOICE}.{f}" for f in ("number", "order_id", "subtotal", "tax", "voided")}
INVOICE_TOTAL = f"{INVOICE}.total"
INVOICE_IS_VOID = f"{INVOICE}.is_void"
INVOICE_DESCRIBE = f"{INVOICE}.describe"
INVOICE_STATE = f"{INVOICE}._state"
ROUND = f"{INVOICE_PY}::_round"
CREATE_INVOICE = f"{INVOICE_PY}::create_invoice"
VOID_INVOICE = f"{INVOICE_PY}::void_invoice"
VOID_LOG = f"{INVOICE_PY}::VOID_LOG"
TAX_RATE = f"{TAX_PY}::TAX_RATE"
CENT = f"{TAX_PY}::_CENT"
COMPUTE_TAX = f"{TAX_PY}::compute_tax"

# ------------------------------------------------------------------------------------------------ shop
LINE_ITEM = f"{MODELS_PY}::LineItem"
ORDER = f"{MODELS_PY}::Order"
APPLY_DISCOUNT = f"{PRICING_PY}::apply_discount"
SHELF_PRICE = f"{PRICING_PY}::shelf_price"
PLACE_ORDER = f"{ORDERS_PY}::place_order"
RENEW = f"{SUBSCRIPTIONS_PY}::renew"
CHECKOUT = f"{CHECKOUT_PY}::checkout"
REFUND = f"{REFUNDS_PY}::refund"
TAX_REPORT = f"{REPORTS_PY}::tax_report"
EXPORT_DAY = f"{REPORTS_PY}::export_day"
CURRENCY = f"{MONEY_PY}::CURRENCY"
FORMAT_MONEY = f"{MONEY_PY}::format_money"
PARSE_MONEY = f"{MONEY_PY}::parse_money"
JSON_ENDPOINT = f"{HANDLERS_PY}::json_endpoint"
POST_ORDER = f"{HANDLERS_PY}::post_order"
ROUTES = f"{HANDLERS_PY}::ROUTES"
DISPATCH = f"{HANDLERS_PY}::dispatch"
EXPORT_CSV = f"{CSV_EXPORT_PY}::export_csv"

# ------------------------------------------------------------------------------------------------ test code
MAKE_PAID_INVOICE = f"{SUPPORT_PY}::make_paid_invoice"

F_DB = f"{CONFTEST}::db"
F_CUSTOMER = f"{CONFTEST}::customer_fixture"  # @pytest.fixture(name="customer")
F_ORDER = f"{CONFTEST}::order"
F_INVOICE = f"{CONFTEST}::invoice"
F_API_DB = f"{API_CONFTEST}::db"
F_PAYLOAD = f"{API_CONFTEST}::payload"
F_ITEMS = f"{TEST_ORDERS_PY}::items"
ALL_FIXTURES = {F_DB, F_CUSTOMER, F_ORDER, F_INVOICE, F_API_DB, F_PAYLOAD, F_ITEMS}

T_ADDS_TAX = f"{TEST_INVOICE_PY}::test_create_invoice_adds_tax"  # calls create_invoice; uses order
T_WITHOUT_TAX = f"{TEST_INVOICE_PY}::test_create_invoice_without_tax"  # calls create_invoice; no fixture
T_NUMBER = f"{TEST_INVOICE_PY}::test_invoice_number_follows_order_id"  # calls it; usefixtures("db")
T_SUBTOTAL = f"{TEST_INVOICE_PY}::test_order_subtotal"  # uses order only: not a create_invoice test
T_TOTAL = f"{TEST_INVOICE_PY}::TestInvoice.test_total"  # through the invoice fixture; calls compute_tax
T_VOID = f"{TEST_INVOICE_PY}::TestInvoice.test_void"  # through the invoice fixture; calls void_invoice
T_DESCRIBE = f"{TEST_INVOICE_PY}::TestInvoice.test_describe"  # builds an Invoice itself
T_COMPUTE_TAX = f"{TEST_TAX_PY}::test_compute_tax_rounds_to_the_cent"  # parametrized (args aren't fixtures)
T_RATE = f"{TEST_TAX_PY}::test_standard_rate_is_twenty_percent"
T_PLACE_ORDER = f"{TEST_ORDERS_PY}::test_place_order_bills_the_order"
T_RENEW = f"{TEST_ORDERS_PY}::test_renew_places_a_fresh_order"
T_CHECKOUT = f"{TEST_ORDERS_PY}::test_checkout_marks_order_paid"
T_REFUND = f"{TEST_REFUNDS_PY}::test_refund_voids_the_invoice"  # through the helper make_paid_invoice
T_DISCOUNT = f"{TEST_PRICING_PY}::test_discount_code_lowers_the_price"  # nothing in billing
T_PURE = f"{TEST_PRICING_PY}::test_decimal_keeps_cents_exact"  # nothing in the repository at all
T_POST = f"{TEST_HANDLERS_PY}::test_post_order_returns_its_invoice"
T_DISPATCH = f"{TEST_HANDLERS_PY}::test_dispatch_routes_post_orders"
T_BAD_PAYLOAD = f"{TEST_HANDLERS_PY}::test_bad_payload_comes_back_as_an_error"
T_SHARED_ORDER = f"{TEST_HANDLERS_PY}::test_shared_order_fixture_works_here"  # order -> the *api* db
ALL_TESTS = {
    T_ADDS_TAX, T_WITHOUT_TAX, T_NUMBER, T_SUBTOTAL, T_TOTAL, T_VOID, T_DESCRIBE, T_COMPUTE_TAX, T_RATE,
    T_PLACE_ORDER, T_RENEW, T_CHECKOUT, T_REFUND, T_DISCOUNT, T_PURE, T_POST, T_DISPATCH, T_BAD_PAYLOAD,
    T_SHARED_ORDER,
}
TEST_CLASS = f"{TEST_INVOICE_PY}::TestInvoice"

# ------------------------------------------------------------------------------------------------ footprints
ROLES = ("definition", "contract", "dependencies", "dependents", "tests", "fixtures")

# `export create_invoice`, role -> {id: entry kind}.
CREATE_INVOICE_FOOTPRINT: dict[str, dict[str, str]] = {
    "definition": {CREATE_INVOICE: "function"},
    "contract": {CREATE_INVOICE: "signature"},
    "dependencies": {
        INVOICE: "class",  # return annotation and the constructor call
        ROUND: "function",  # a private helper in the same file
        COMPUTE_TAX: "function",  # from billing.tax import compute_tax
        ORDER: "class",  # annotation only, imported under `if TYPE_CHECKING:`
        f"{ORDER}.subtotal": "method",  # order.subtotal() with order: Order
        f"{ORDER}.order_id": "constant",  # order.order_id, a dataclass field
    },
    "dependents": {
        BILLING_INIT: "file",  # re-exports it (from .invoice import create_invoice; __all__)
        ORDERS_PY: "file",  # from billing import create_invoice (through the re-export)
        PLACE_ORDER: "function",
        CHECKOUT: "function",  # import billing; billing.create_invoice(...)
        # test code that is neither a test nor a fixture
        CONFTEST: "file",
        SUPPORT_PY: "file",
        MAKE_PAID_INVOICE: "function",
        TEST_INVOICE_PY: "file",
    },
    "tests": {
        T_ADDS_TAX: "test",
        T_WITHOUT_TAX: "test",
        T_NUMBER: "test",
        T_TOTAL: "test",  # fixture chain invoice -> create_invoice
        T_VOID: "test",  # fixture chain invoice -> create_invoice
        T_REFUND: "test",  # helper make_paid_invoice -> create_invoice
    },
    "fixtures": {F_DB: "fixture", F_ORDER: "fixture", F_INVOICE: "fixture"},
}

# Direct dependents of create_invoice that a radius walk goes on from, with the distance and the node one
# step nearer (a radius may also step through the containing file: see test_radius_shop.py).
CREATE_INVOICE_SRC_RADIUS = {
    PLACE_ORDER: (1, CREATE_INVOICE),
    CHECKOUT: (1, CREATE_INVOICE),
    RENEW: (2, PLACE_ORDER),
    POST_ORDER: (2, PLACE_ORDER),
    ROUTES: (3, POST_ORDER),  # ROUTES = {("POST", "/orders"): post_order}
    DISPATCH: (4, ROUTES),
}
