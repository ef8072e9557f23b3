import pytest

from semlease.domain.regions import parse_region
from semlease.errors import RegionSyntaxError


@pytest.mark.parametrize(
    ("text", "kind", "target", "path", "qualname"),
    [
        ("export create_invoice", "export", "create_invoice", None, "create_invoice"),
        ("  export   billing.invoice.create_invoice ", "export", "billing.invoice.create_invoice", None,
         "billing.invoice.create_invoice"),
        ("export src/billing/invoice.py::create_invoice", "export", "src/billing/invoice.py::create_invoice",
         "src/billing/invoice.py", "create_invoice"),
        ("symbol Invoice.total", "symbol", "Invoice.total", None, "Invoice.total"),
        ("SYMBOL ./src/billing/invoice.py::Invoice.total", "symbol", "src/billing/invoice.py::Invoice.total",
         "src/billing/invoice.py", "Invoice.total"),
        ("test tests/test_invoice.py::TestInvoice::test_total", "test",
         "tests/test_invoice.py::TestInvoice.test_total", "tests/test_invoice.py", "TestInvoice.test_total"),
        ("test tests/test_invoice.py::test_tax[10-1.1]", "test", "tests/test_invoice.py::test_tax",
         "tests/test_invoice.py", "test_tax"),
        ("test test_tax", "test", "test_tax", None, "test_tax"),
        ("fixture db", "fixture", "db", None, "db"),
        ("fixture tests/api/conftest.py::db", "fixture", "tests/api/conftest.py::db", "tests/api/conftest.py",
         "db"),
        ("file ./src/billing/tax.py", "file", "src/billing/tax.py", "src/billing/tax.py", "src/billing/tax.py"),
        ("file src/billing/", "file", "src/billing", "src/billing", "src/billing"),
    ],
)
def test_parse_region(text, kind, target, path, qualname):
    region = parse_region(text)
    assert (region.kind, region.target, region.path, region.qualname) == (kind, target, path, qualname)
    assert region.text == " ".join(text.split())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty region: expected e.g. 'export create_invoice' (kinds: export, symbol, test, fixture, file, "
             "behavior)"),
        ("route GET /x", "unknown region kind 'route' in 'route GET /x': expected one of export, symbol, test, "
                         "fixture, file, behavior"),
        ("export", "region 'export' names nothing: expected 'export NAME'"),
        ("export two words", "region 'export two words': a name cannot contain spaces"),
        ("export 1abc", "region 'export 1abc': '1abc' is not a Python name or dotted name"),
        ("export src/billing/invoice.py", "region 'export src/billing/invoice.py': a path needs '::NAME' after "
                                          "it (or use 'file PATH' for a whole file)"),
        ("symbol ::x", "region 'symbol ::x': expected PATH::QUALNAME, e.g. "
                       "'src/billing/invoice.py::Invoice.total'"),
    ],
)
def test_bad_region_text_is_one_clear_line(text, message):
    with pytest.raises(RegionSyntaxError) as info:
        parse_region(text)
    assert str(info.value) == message
    assert info.value.exit_code == 2
