"""The Python linker on small annotated trees: every import form, re-exports, fixtures by conftest scope.

Each tree is one string split into files by `# --- path: P ---` lines, extracted with the real extractor
and linked in memory; the assertions name exact edges.
"""

from __future__ import annotations

import re

from semlease.domain import graph as G
from semlease.languages.python.extract import extract_python
from semlease.languages.python.link import link_python

MARK = re.compile(r"^# --- path: (.+?) ---\s*$", re.M)


def build(tree: str) -> G.SymbolGraph:
    parts = MARK.split(tree)
    files = {parts[i].strip(): parts[i + 1].lstrip("\n") for i in range(1, len(parts), 2)}
    facts = {p: extract_python(p, body.encode()) for p, body in files.items()}
    graph = G.SymbolGraph()
    link_python(facts, graph)
    return graph


def edges(graph: G.SymbolGraph, kind: str) -> set[tuple[str, str]]:
    return {(e.src, e.dst) for e in graph.all_edges() if e.kind == kind}


def uses(graph: G.SymbolGraph) -> set[tuple[str, str]]:
    return edges(graph, G.CALLS) | edges(graph, G.REFERENCES)


IMPORT_FORMS = """
# --- path: src/billing/__init__.py ---
from .invoice import create_invoice, Invoice
__all__ = ["create_invoice", "Invoice"]
# --- path: src/billing/invoice.py ---
from .tax import compute_tax as tax_of

class Invoice:
    total: int = 0

def create_invoice(order):
    return Invoice(tax_of(order))
# --- path: src/billing/tax.py ---
TAX_RATE = 0.2

def compute_tax(amount):
    return amount * TAX_RATE
# --- path: src/shop/__init__.py ---
# --- path: src/shop/checkout.py ---
import billing
import billing.tax as t
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from billing.invoice import Invoice

def checkout(order) -> "Invoice":
    t.compute_tax(1)
    return billing.create_invoice(order)

def late():
    from billing.tax import TAX_RATE
    return TAX_RATE
# --- path: src/shop/api/__init__.py ---
# --- path: src/shop/api/handlers.py ---
from ..checkout import checkout
from .. import checkout as checkout_module

def handle(order):
    checkout_module.late()
    return checkout(order)
# --- path: src/plugins/exporters/csv_export.py ---
def export_csv(rows):
    return rows
# --- path: src/shop/export.py ---
from plugins.exporters.csv_export import export_csv
import json

def run():
    return export_csv([json.dumps(1)])
"""


def test_every_import_form_binds_to_the_definition():
    g = build(IMPORT_FORMS)
    u = uses(g)
    assert ("src/billing/invoice.py::create_invoice", "src/billing/tax.py::compute_tax") in u  # alias
    assert ("src/billing/invoice.py::create_invoice", "src/billing/invoice.py::Invoice") in u
    assert ("src/billing/tax.py::compute_tax", "src/billing/tax.py::TAX_RATE") in u
    # `import billing` then billing.create_invoice(): through the package's re-export
    assert ("src/shop/checkout.py::checkout", "src/billing/invoice.py::create_invoice") in u
    # `import billing.tax as t`
    assert ("src/shop/checkout.py::checkout", "src/billing/tax.py::compute_tax") in u
    # a string annotation naming a TYPE_CHECKING import
    assert ("src/shop/checkout.py::checkout", "src/billing/invoice.py::Invoice") in u
    # an import inside a function
    assert ("src/shop/checkout.py::late", "src/billing/tax.py::TAX_RATE") in u
    assert ("src/shop/checkout.py::late", "src/billing/tax.py::TAX_RATE") in edges(g, G.IMPORTS)
    # two-level relative import, and a relative import of a module
    assert ("src/shop/api/handlers.py::handle", "src/shop/checkout.py::checkout") in u
    assert ("src/shop/api/handlers.py::handle", "src/shop/checkout.py::late") in u
    # namespace package (no __init__.py) in a src layout
    assert ("src/shop/export.py::run", "src/plugins/exporters/csv_export.py::export_csv") in u


def test_reexports_and_the_names_they_make_importable():
    g = build(IMPORT_FORMS)
    assert edges(g, G.REEXPORTS) == {
        ("src/billing/__init__.py", "src/billing/invoice.py::create_invoice"),
        ("src/billing/__init__.py", "src/billing/invoice.py::Invoice"),
    }
    assert g.lookup_dotted("billing.create_invoice") == ["src/billing/invoice.py::create_invoice"]
    assert g.lookup_dotted("billing.invoice.create_invoice") == ["src/billing/invoice.py::create_invoice"]
    assert g.lookup_dotted("billing.invoice.Invoice.total") == ["src/billing/invoice.py::Invoice.total"]


def test_what_cannot_be_bound_is_listed_not_guessed():
    g = build(IMPORT_FORMS)
    unresolved = {(u.path, u.text, u.reason) for u in g.unresolved}
    assert ("src/shop/export.py", "import json", "module not in repository") in unresolved
    assert ("src/shop/checkout.py", "from typing import TYPE_CHECKING", "module not in repository") in unresolved
    # a use of an external module is not a dangling edge
    assert not any(dst.startswith("json") for _, dst in uses(g))


def test_star_import_honours_all():
    g = build("""
# --- path: pkg/__init__.py ---
from .money import *
# --- path: pkg/money.py ---
__all__ = ["format_money"]

def format_money(x):
    return str(x)

def parse_money(s):
    return float(s)
# --- path: app.py ---
import pkg

def show():
    return pkg.format_money(1), pkg.parse_money("1")
""")
    u = uses(g)
    assert ("app.py::show", "pkg/money.py::format_money") in u
    assert not any(dst == "pkg/money.py::parse_money" for _, dst in u)
    assert g.lookup_dotted("pkg.format_money") == ["pkg/money.py::format_money"]
    assert g.lookup_dotted("pkg.parse_money") == []


def test_self_and_base_class_methods():
    g = build("""
# --- path: shapes.py ---
class Base:
    def area(self):
        return 0

class Square(Base):
    def side(self):
        return 2

    def describe(self):
        return self.side(), self.area()
""")
    u = uses(g)
    assert ("shapes.py::Square.describe", "shapes.py::Square.side") in u
    assert ("shapes.py::Square.describe", "shapes.py::Base.area") in u
    assert ("shapes.py::Square", "shapes.py::Base") in u


FIXTURES = """
# --- path: tests/conftest.py ---
import pytest

@pytest.fixture
def db():
    return {}

@pytest.fixture
def user(db):
    return db

@pytest.fixture(name="customer")
def customer_fixture():
    return "ada"

@pytest.fixture(autouse=True)
def clean():
    yield
# --- path: tests/api/conftest.py ---
import pytest

@pytest.fixture
def db(db):
    return dict(db, api=True)
# --- path: tests/test_users.py ---
import pytest

def test_user(user, customer):
    assert user == {}

@pytest.mark.usefixtures("db")
def test_marked():
    pass
# --- path: tests/api/test_api.py ---
def test_api(db, tmp_path):
    assert db["api"]
"""


def test_fixtures_bind_to_the_nearest_conftest():
    g = build(FIXTURES)
    uf = edges(g, G.USES_FIXTURE)
    assert ("tests/test_users.py::test_user", "tests/conftest.py::user") in uf
    assert ("tests/test_users.py::test_user", "tests/conftest.py::customer_fixture") in uf  # name=
    assert ("tests/test_users.py::test_marked", "tests/conftest.py::db") in uf  # usefixtures
    assert ("tests/conftest.py::user", "tests/conftest.py::db") in uf  # fixture requesting a fixture
    assert ("tests/api/test_api.py::test_api", "tests/api/conftest.py::db") in uf  # nearest conftest
    assert ("tests/api/conftest.py::db", "tests/conftest.py::db") in uf  # an override asks its parent
    assert ("tests/api/test_api.py::test_api", "tests/conftest.py::clean") in uf  # autouse
    # the override's own request reaches the root db, and the test's closure says so
    hows = {(e.src, e.dst): e.how for e in g.all_edges() if e.kind == G.USES_FIXTURE}
    assert hows[("tests/api/test_api.py::test_api", "tests/api/conftest.py::db")] == "param db"
    assert hows[("tests/api/test_api.py::test_api", "tests/conftest.py::db")] == "db through db"
    assert hows[("tests/test_users.py::test_user", "tests/conftest.py::db")] == "db through user"
    assert ("tests/api/test_api.py", "tmp_path",
            "fixture not defined in repository (pytest builtin or plugin)") in {
        (u.path, u.text, u.reason) for u in g.unresolved}
    kinds = {n.id: n.kind for n in g.iter_nodes()}
    assert kinds["tests/conftest.py::customer_fixture"] == G.FIXTURE
    assert kinds["tests/test_users.py::test_user"] == G.TEST


def test_the_graph_as_networkx_keeps_ids_kinds_and_how():
    g = build(IMPORT_FORMS)
    nxg = g.to_networkx()
    assert nxg.number_of_nodes() == g.node_count
    assert nxg.number_of_edges() == g.edge_count
    data = nxg.get_edge_data("src/shop/checkout.py::checkout", "src/billing/invoice.py::create_invoice")
    assert data == {"calls": {"how": "call billing.create_invoice", "line": 9}}
    assert nxg.nodes["src/billing/invoice.py::Invoice.total"]["data"].kind == G.CONSTANT


# ------------------------------------------------------------------------- instances whose type is stated

MODELS = """
# --- path: app/models.py ---
class Base:
    def route(self, rule):
        return rule

class Flask(Base):
    def run(self):
        return 1

    def test_client(self) -> "Client":
        return Client()

class Client:
    def get(self, url):
        return url

class Blueprint(Base):
    pass

def create_app() -> Flask:
    return Flask()
"""


def typed(graph: G.SymbolGraph, src: str | None = None) -> set[tuple[str, str, str, str]]:
    """(src, dst, kind, how) of the edges found through a stated type (their `how` says `via ...`)."""
    return {(e.src, e.dst, e.kind, e.how) for e in graph.all_edges()
            if " via " in e.how and (src is None or e.src == src)}


def test_parameter_annotation_links_the_method():
    g = build(MODELS + """
# --- path: app/views.py ---
from app.models import Flask
from app import models

def setup(app: Flask, other: models.Flask):
    app.run()
    other.run
""")
    assert typed(g) == {
        ("app/views.py::setup", "app/models.py::Flask.run", G.CALLS, "call app.run via app: Flask"),
        ("app/views.py::setup", "app/models.py::Flask.run", G.REFERENCES, "name other.run via other: models.Flask"),
    }


def test_optional_annotation_links_the_method():
    g = build(MODELS + """
# --- path: app/views.py ---
from typing import Optional
from app.models import Flask

def setup(app: Optional[Flask] = None, other: Flask | None = None):
    app.run()
    other.route("/")
""")
    assert typed(g) == {
        ("app/views.py::setup", "app/models.py::Flask.run", G.CALLS, "call app.run via app: Flask"),
        ("app/views.py::setup", "app/models.py::Base.route", G.CALLS, "call other.route via other: Flask"),
    }


def test_string_annotation_links_the_method():
    g = build(MODELS + """
# --- path: app/views.py ---
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from app.models import Flask

def setup(app: "Flask"):
    app.run()
""")
    assert typed(g) == {
        ("app/views.py::setup", "app/models.py::Flask.run", G.CALLS, "call app.run via app: Flask"),
    }


def test_local_assigned_a_constructor_call_links_the_method():
    g = build(MODELS + """
# --- path: app/views.py ---
import app.models

def setup():
    application = app.models.Flask()
    application.run()
""")
    assert typed(g) == {
        ("app/views.py::setup", "app/models.py::Flask.run", G.CALLS,
         "call application.run via application = app.models.Flask()"),
    }


def test_module_level_instance_used_in_a_decorator_of_another_function():
    g = build(MODELS + """
# --- path: app/views.py ---
from app.models import Blueprint

bp = Blueprint("views", __name__)

@bp.route("/")
def index():
    return "home"
# --- path: app/more.py ---
from app.views import bp

def extra():
    bp.route("/x")
""")
    assert typed(g) == {
        ("app/views.py::index", "app/models.py::Base.route", G.REFERENCES, "decorator bp.route via bp = Blueprint()"),
        ("app/more.py::extra", "app/models.py::Base.route", G.CALLS, "call bp.route via bp = Blueprint()"),
    }
    # the constant itself is still what the decorator names
    assert ("app/views.py::index", "app/views.py::bp") in uses(g)


def test_factory_function_with_a_return_annotation():
    g = build(MODELS + """
# --- path: app/views.py ---
from app.models import create_app

def setup():
    application = create_app()
    application.run()
    client = application.test_client()
    client.get("/")
""")
    assert typed(g) == {
        ("app/views.py::setup", "app/models.py::Flask.run", G.CALLS,
         "call application.run via application = create_app()"),
        ("app/views.py::setup", "app/models.py::Flask.test_client", G.CALLS,
         "call application.test_client via application = create_app()"),
        ("app/views.py::setup", "app/models.py::Client.get", G.CALLS,
         "call client.get via client = application.test_client()"),
    }


def test_async_factory_gives_no_type():
    g = build(MODELS + """
# --- path: app/views.py ---
from app.models import Flask

async def make() -> Flask:
    return Flask()

async def setup():
    application = make()
    application.run()
""")
    assert typed(g) == set()


def test_attribute_set_in_a_method_links_through_self():
    g = build(MODELS + """
# --- path: app/service.py ---
from app.models import Flask, Client, create_app

class Service:
    def __init__(self, client: Client):
        self.app = Flask()
        self.made = create_app()
        self.client = client
        self.cache = None

    def start(self):
        self.app.run()
        self.made.route("/")
        self.client.get("/")

class Child(Service):
    def again(self):
        self.app.run()
""")
    assert typed(g) == {
        ("app/service.py::Service.start", "app/models.py::Flask.run", G.CALLS, "call self.app.run via self.app: Flask"),
        ("app/service.py::Service.start", "app/models.py::Base.route", G.CALLS,
         "call self.made.route via self.made = create_app()"),
        ("app/service.py::Service.start", "app/models.py::Client.get", G.CALLS,
         "call self.client.get via self.client: Client"),
        ("app/service.py::Child.again", "app/models.py::Flask.run", G.CALLS, "call self.app.run via self.app: Flask"),
    }


def test_annotated_class_field_and_property():
    g = build(MODELS + """
# --- path: app/service.py ---
from dataclasses import dataclass
from app.models import Flask, Client

@dataclass
class Holder:
    app: Flask

    @property
    def client(self) -> Client:
        return Client()

def use(holder: Holder):
    holder.app.run()
    holder.client.get("/")
""")
    assert typed(g) == {
        ("app/service.py::use", "app/models.py::Flask.run", G.CALLS, "call holder.app.run via holder: Holder"),
        ("app/service.py::use", "app/models.py::Client.get", G.CALLS, "call holder.client.get via holder: Holder"),
    }
    # like any chain, the use is of the deepest member reached
    assert ("app/service.py::use", "app/service.py::Holder.app") not in uses(g)


def test_inherited_method_through_an_instance():
    g = build(MODELS + """
# --- path: app/views.py ---
from app.models import Flask, Blueprint

def setup(app: Flask):
    bp = Blueprint()
    app.route("/")
    bp.route("/")
""")
    assert typed(g) == {
        ("app/views.py::setup", "app/models.py::Base.route", G.CALLS, "call app.route via app: Flask"),
    }  # one edge per (src, dst, kind): the first use explains it
    assert ("app/views.py::setup", "app/models.py::Base.route") in uses(g)


def test_conflicting_bindings_give_no_edge():
    g = build(MODELS + """
# --- path: app/views.py ---
from app.models import Flask, Client

def conflict(flag):
    x = Flask()
    if flag:
        x = Client()
    x.run()

def unknown_rebinding(x: Flask):
    x = x.run()
    x.run()

def loop(items):
    y = Flask()
    for y in items:
        pass
    y.run()
""")
    assert typed(g) == set()
    assert not any(dst.endswith("Flask.run") for _, dst in uses(g))


def test_unknown_attribute_gives_no_edge_to_the_class():
    g = build(MODELS + """
# --- path: app/views.py ---
from app.models import Flask

def setup(app: Flask):
    app.missing()
    app.missing.deeper()

class Service:
    def __init__(self):
        self.app = Flask()

    def start(self):
        self.app.nothing()
""")
    assert typed(g) == set()
    assert {dst for src, dst in uses(g) if src == "app/views.py::setup"} == {"app/models.py::Flask"}  # the annotation


def test_an_annotation_and_an_assignment_agree_or_give_nothing():
    g = build(MODELS + """
# --- path: app/views.py ---
from app.models import Base, Flask, create_app

def setup(app: Flask | None = None):
    if app is None:
        app = create_app()
    app.run()

def declared():
    x: Base = Flask()  # one binding: the annotation states the type
    x.route("/")

def disagree(y: Base):
    y = Flask()
    y.route("/")
""")
    assert typed(g) == {  # `disagree`: Base and Flask are two types, so y links nowhere
        ("app/views.py::setup", "app/models.py::Flask.run", G.CALLS, "call app.run via app: Flask"),
        ("app/views.py::declared", "app/models.py::Base.route", G.CALLS, "call x.route via x: Base"),
    }


def test_super_calls_bind_to_the_base_class_method():
    g = build("""
# --- path: models.py ---
from external import Mixin


class Base:
    def save(self):
        return ["base"]


class Child(Base):
    def save(self):
        return super().save() + super().missing()


class Foreign(Mixin):
    def save(self):
        return super().save()
""")
    u = uses(g)
    assert ("models.py::Child.save", "models.py::Base.save") in u
    assert not any(src == "models.py::Child.save" and dst == "models.py::Base" for src, dst in u)
    assert not any(src == "models.py::Foreign.save" for src, _ in u)


def test_import_roots_put_the_src_layout_first_and_the_top_last() -> None:
    from semlease.languages.python.link import import_roots

    files = ["src/pkg/__init__.py", "src/pkg/a.py", "examples/complex/demo/__init__.py",
             "examples/complex/demo/x.py", "tests/test_a.py", "setup.py"]
    assert import_roots(files) == ["src", "examples/complex", ""]


def test_an_answer_found_inside_an_import_cycle_is_not_kept_for_other_askers() -> None:
    # a_user.py is linked first: looking up `coro` in pkg/base.py asks pkg/__init__.py, whose star import
    # of base is still being looked up, so the package's answer there is "not found". Kept, it would hide
    # the package's own `coro` (its star import of base binds it) from the package's `__all__`.
    g = build("""
# --- path: a_user.py ---
from pkg.base import coro

def go():
    return coro.thing()
# --- path: pkg/__init__.py ---
from .base import *
__all__ = coro.__all__
# --- path: pkg/base.py ---
from . import coro

class Base:
    pass
# --- path: pkg/coro.py ---
__all__ = ("thing",)

def thing():
    return 1
""")
    assert edges(g, G.REFERENCES) == {("pkg/__init__.py::__all__", "pkg/coro.py::__all__")}
    assert ("a_user.py::go", "pkg/coro.py::thing") in edges(g, G.CALLS)


def test_a_submodule_imported_in_a_package_is_a_name_of_the_package() -> None:
    g = build("""
# --- path: pkg/__init__.py ---
from .events import *
from .tasks import run
from . import streams
__all__ = events.__all__ + tasks.__all__ + streams.__all__ + missing.__all__
# --- path: pkg/events.py ---
__all__ = ("Loop",)

class Loop:
    pass
# --- path: pkg/tasks.py ---
__all__ = ("run",)

def run():
    return 1
# --- path: pkg/streams.py ---
__all__ = ()
# --- path: pkg/missing.py ---
__all__ = ()
""")
    assert edges(g, G.REFERENCES) == {("pkg/__init__.py::__all__", f"pkg/{m}.py::__all__")
                                      for m in ("events", "tasks", "streams")}
