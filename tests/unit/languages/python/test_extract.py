"""The Python extractor: exact facts for small sources, and robustness on hostile input."""

from __future__ import annotations

import os
import random
import sysconfig
import textwrap
import time
from pathlib import Path

import pytest

from semlease.domain.facts import (
    ANNOTATION,
    BASE,
    CALL,
    CLASS,
    CONSTANT,
    DECORATOR,
    DEFAULT,
    FIXTURE_PARAM,
    FIXTURE_USEFIXTURES,
    FUNCTION,
    METHOD,
    NAME,
    Definition,
    FileFacts,
    FixtureInfo,
    Import,
    Reference,
    Span,
)
from semlease.languages.python.extract import NOT_UTF8_NOTE, extract_python


def extract(code: str, path: str = "pkg/mod.py") -> FileFacts:
    """Facts of ``code`` (dedented; its first line is line 1)."""
    return extract_python(path, textwrap.dedent(code).lstrip("\n").encode("utf-8"))


def outline(facts: FileFacts) -> list[tuple[str, str, str | None, str, str]]:
    """(qualname, kind, parent, span, contract) of every definition, in order."""
    return [(d.qualname, d.kind, d.parent, str(d.span), str(d.contract)) for d in facts.definitions]


def definition(facts: FileFacts, qualname: str) -> Definition:
    (found,) = [d for d in facts.definitions if d.qualname == qualname]
    return found


def refs(facts: FileFacts) -> list[tuple[str, tuple[str, ...], str, int]]:
    return [(r.scope, r.chain, r.kind, r.line) for r in facts.references]


def refs_in(facts: FileFacts, scope: str) -> list[tuple[tuple[str, ...], str, int]]:
    return [(r.chain, r.kind, r.line) for r in facts.references if r.scope == scope]


# ---------------------------------------------------------------------------------------- definitions


def test_functions_classes_methods_and_nesting() -> None:
    facts = extract(
        """
        def top(a):
            return a

        async def fetch():
            pass

        class Cart:
            def add(self, item):
                def check(x):
                    return x
                return check(item)

            async def save(self):
                pass

            class Line:
                def price(self):
                    pass

        def factory():
            class Local:
                def run(self):
                    pass
            return Local
        """
    )
    assert outline(facts) == [
        ("top", FUNCTION, None, "1-2", "1-1"),
        ("fetch", FUNCTION, None, "4-5", "4-4"),
        ("Cart", CLASS, None, "7-18", "7-7"),
        ("Cart.add", METHOD, "Cart", "8-11", "8-8"),
        ("Cart.add.check", FUNCTION, "Cart.add", "9-10", "9-9"),
        ("Cart.save", METHOD, "Cart", "13-14", "13-13"),
        ("Cart.Line", CLASS, "Cart", "16-18", "16-16"),
        ("Cart.Line.price", METHOD, "Cart.Line", "17-18", "17-17"),
        ("factory", FUNCTION, None, "20-24", "20-20"),
        ("factory.Local", CLASS, "factory", "21-23", "21-21"),
        ("factory.Local.run", METHOD, "factory.Local", "22-23", "22-22"),
    ]
    assert [d.qualname for d in facts.definitions if d.is_async] == ["fetch", "Cart.save"]
    assert definition(facts, "fetch").signature == "async def fetch()"
    assert definition(facts, "Cart.add").name == "add"


def test_span_starts_at_first_decorator_and_contract_ends_at_the_header_colon() -> None:
    facts = extract(
        """
        import functools

        @functools.lru_cache(maxsize=None)
        @traced
        def create_invoice(
            order: Order,  # the order to bill
            *,
            tax: bool = True,
        ) -> Invoice:
            '''Docstring.'''
            return Invoice(order)

        @dataclass(frozen=True)
        class Invoice(
            BaseModel,
            abc.ABC,
            metaclass=ABCMeta,
        ):
            total: int = 0
        """
    )
    create = definition(facts, "create_invoice")
    assert create.span == Span(3, 11)
    assert create.contract == Span(3, 9)
    assert create.signature == "def create_invoice( order: Order, *, tax: bool = True, ) -> Invoice"
    assert create.decorators == ("functools.lru_cache(maxsize=None)", "traced")
    invoice = definition(facts, "Invoice")
    assert invoice.span == Span(13, 19)
    assert invoice.contract == Span(13, 18)
    assert invoice.signature == "class Invoice( BaseModel, abc.ABC, metaclass=ABCMeta, )"
    assert invoice.decorators == ("dataclass(frozen=True)",)
    assert invoice.bases == ("BaseModel", "abc.ABC", "metaclass=ABCMeta")
    assert definition(facts, "Invoice.total").parent == "Invoice"


def test_signature_collapses_whitespace() -> None:
    facts = extract(
        """
        def create_invoice(order: Order,   *,
                           tax: bool = True) -> Invoice: return Invoice()
        class Plain: pass
        """
    )
    assert definition(facts, "create_invoice").signature == (
        "def create_invoice(order: Order, *, tax: bool = True) -> Invoice"
    )
    assert definition(facts, "create_invoice").span == Span(1, 2)
    assert definition(facts, "create_invoice").contract == Span(1, 2)
    assert definition(facts, "Plain").signature == "class Plain"
    assert definition(facts, "Plain").bases == ()


def test_module_and_class_constants() -> None:
    facts = extract(
        """
        X = 1
        Y: int = 2
        A = B = compute()
        a, (b, *rest) = values()
        [first, second] = pair
        obj.attr = 3
        table[0] = 4
        counter += 1
        HINT: str
        __all__ = ["X"]
        LONG = {
            "k": 1,
        }

        class Cart:
            items: list[str] = []
            name: str
            x = y = 1

            def method(self):
                local = 1
                self.value = local

        def function():
            inner = 1
        """
    )
    assert outline(facts) == [
        ("X", CONSTANT, None, "1-1", "1-1"),
        ("Y", CONSTANT, None, "2-2", "2-2"),
        ("A", CONSTANT, None, "3-3", "3-3"),
        ("B", CONSTANT, None, "3-3", "3-3"),
        ("a", CONSTANT, None, "4-4", "4-4"),
        ("b", CONSTANT, None, "4-4", "4-4"),
        ("rest", CONSTANT, None, "4-4", "4-4"),
        ("first", CONSTANT, None, "5-5", "5-5"),
        ("second", CONSTANT, None, "5-5", "5-5"),
        ("HINT", CONSTANT, None, "9-9", "9-9"),
        ("__all__", CONSTANT, None, "10-10", "10-10"),
        ("LONG", CONSTANT, None, "11-13", "11-13"),
        ("Cart", CLASS, None, "15-22", "15-15"),
        ("Cart.items", CONSTANT, "Cart", "16-16", "16-16"),
        ("Cart.name", CONSTANT, "Cart", "17-17", "17-17"),
        ("Cart.x", CONSTANT, "Cart", "18-18", "18-18"),
        ("Cart.y", CONSTANT, "Cart", "18-18", "18-18"),
        ("Cart.method", METHOD, "Cart", "20-22", "20-20"),
        ("function", FUNCTION, None, "24-25", "24-24"),
    ]
    assert definition(facts, "Y").signature == "Y: int = 2"
    assert definition(facts, "A").signature == "A = B = compute()"
    assert definition(facts, "LONG").signature == 'LONG = { "k": 1, }'
    assert definition(facts, "Cart.items").signature == "items: list[str] = []"
    assert definition(facts, "Cart.name").signature == "name: str"


def test_constant_signature_is_truncated_to_200_characters() -> None:
    value = ", ".join(f'"item{i}"' for i in range(200))
    facts = extract(f"NAMES = [{value}]\n")
    names = definition(facts, "NAMES")
    assert names.signature == f"NAMES = [{value}]"[:200]
    assert len(names.signature) == 200


def test_definitions_in_if_try_with_blocks_are_module_or_class_level() -> None:
    facts = extract(
        """
        import sys
        if sys.platform == "win32":
            def f():
                pass
            SEP = "\\\\"
        elif sys.platform == "darwin":
            if deeper:
                DEEP = 1
        else:
            def f():
                pass
        try:
            import json
        except ImportError:
            json = None
            def loads(text):
                return text
        finally:
            DONE = True
        with lock:
            GUARDED = 1
        for item in items:
            LAST = item
        while running:
            STEP = 1

        class Settings:
            if DEBUG:
                level = 10
                def debug(self):
                    pass
            else:
                level = 20
        """
    )
    assert outline(facts) == [
        ("f", FUNCTION, None, "3-4", "3-3"),
        ("SEP", CONSTANT, None, "5-5", "5-5"),
        ("DEEP", CONSTANT, None, "8-8", "8-8"),
        ("f", FUNCTION, None, "10-11", "10-10"),
        ("json", CONSTANT, None, "15-15", "15-15"),
        ("loads", FUNCTION, None, "16-17", "16-16"),
        ("DONE", CONSTANT, None, "19-19", "19-19"),
        ("GUARDED", CONSTANT, None, "21-21", "21-21"),
        ("LAST", CONSTANT, None, "23-23", "23-23"),
        ("STEP", CONSTANT, None, "25-25", "25-25"),
        ("Settings", CLASS, None, "27-33", "27-27"),
        ("Settings.level", CONSTANT, "Settings", "29-29", "29-29"),
        ("Settings.debug", METHOD, "Settings", "30-31", "30-30"),
        ("Settings.level", CONSTANT, "Settings", "33-33", "33-33"),
    ]


def test_property_setter_gives_two_definitions_with_one_qualname() -> None:
    facts = extract(
        """
        class Cart:
            @property
            def total(self):
                return self._total

            @total.setter
            def total(self, value):
                self._total = value
        """
    )
    assert outline(facts)[1:] == [
        ("Cart.total", METHOD, "Cart", "2-4", "2-3"),
        ("Cart.total", METHOD, "Cart", "6-8", "6-7"),
    ]
    assert [d.decorators for d in facts.definitions[1:]] == [("property",), ("total.setter",)]


# ------------------------------------------------------------------------------------------ imports


def test_import_forms() -> None:
    facts = extract(
        """
        from __future__ import annotations
        import os
        import a.b.c as d, e
        from . import sibling
        from .. import (up1,
                        up2 as u2)
        from ..pkg.mod import thing as other
        from ...deep import name
        from m import *
        """
    )
    assert facts.imports == (
        Import(module="os", name=None, alias=None, line=2),
        Import(module="a.b.c", name=None, alias="d", line=3),
        Import(module="e", name=None, alias=None, line=3),
        Import(module="", name="sibling", alias=None, line=4, level=1),
        Import(module="", name="up1", alias=None, line=5, level=2),
        Import(module="", name="up2", alias="u2", line=6, level=2),
        Import(module="pkg.mod", name="thing", alias="other", line=7, level=2),
        Import(module="deep", name="name", alias=None, line=8, level=3),
        Import(module="m", name="*", alias=None, line=9),
    )
    assert [i.bound_name for i in facts.imports] == ["os", "d", "e", "sibling", "up1", "u2", "other", "name", None]


def test_import_scopes_and_type_checking() -> None:
    facts = extract(
        """
        import typing
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from billing.models import Invoice
        if typing.TYPE_CHECKING:
            import billing.orders
        elif TYPE_CHECKING:
            import other_checked
        else:
            import runtime_only
        if not TYPE_CHECKING:
            import not_checked
        if MY_TYPE_CHECKING:
            import not_checked_either

        class Cart:
            import in_class

            def total(self):
                from decimal import Decimal
                if TYPE_CHECKING:
                    import checked_in_function
                def helper():
                    import json
        """
    )
    assert [(i.module, i.name, i.scope, i.type_checking) for i in facts.imports] == [
        ("typing", None, "", False),
        ("typing", "TYPE_CHECKING", "", False),
        ("billing.models", "Invoice", "", True),
        ("billing.orders", None, "", True),
        ("other_checked", None, "", True),
        ("runtime_only", None, "", False),
        ("not_checked", None, "", False),
        ("not_checked_either", None, "", False),
        ("in_class", None, "Cart", False),
        ("decimal", "Decimal", "Cart.total", False),
        ("checked_in_function", None, "Cart.total", True),
        ("json", None, "Cart.total.helper", False),
    ]


# ------------------------------------------------------------------------------------------ __all__


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('__all__ = ["a", "b"]\n', ("a", "b")),
        ('__all__ = ("a",)\n', ("a",)),
        ('__all__: list[str] = ["t"]\n', ("t",)),
        ('__all__ = ["a"] + ["b"]\n', ("a", "b")),
        ('__all__ = [  # names\n    "a",  # first\n    "b",\n]\n', ("a", "b")),
        (
            '__all__ = ["a", "b"]\n__all__ += ("c",)\n__all__.extend(["d"])\n__all__.append("e")\n',
            ("a", "b", "c", "d", "e"),
        ),
        ('__all__ = ["a", "b"]\n__all__.remove("a")\n', ("b",)),
        ('__all__ = []\nif HAVE_C:\n    __all__.append("fast")\n', ("fast",)),
        ('__all__ = ["a"]\ndef f():\n    __all__.append("ignored")\n', ("a",)),
        ('__all__ = ["a"]\n__all__ = ["b"]\n', ("b",)),
        ('__all__ = base.__all__ + ["x"]\n', None),
        ('__all__ = ["a"]\n__all__ += other\n', None),
        ("__all__ = [name for name in dir()]\n", None),
        ('__all__ = ["a", 1]\n', None),
        ("x = 1\n", None),
        ('__all__.append("x")\n', None),
    ],
)
def test_dunder_all(code: str, expected: tuple[str, ...] | None) -> None:
    assert extract_python("m.py", code.encode()).dunder_all == expected


# --------------------------------------------------------------------------------------- references


def test_calls_chains_and_names() -> None:
    facts = extract(
        """
        import billing

        def run(order):
            f()
            billing.create_invoice(order)
            a.b.c()
            a.b().c
            x[0].y
            billing.create_invoice
            mod . spaced . call ()
            value = (chain
                .one
                .two())
            print(len(order))
            return value
        """
    )
    assert refs_in(facts, "run") == [
        (("f",), CALL, 4),
        (("billing", "create_invoice"), CALL, 5),
        (("a", "b", "c"), CALL, 6),
        (("a", "b"), CALL, 7),
        (("x",), NAME, 8),
        (("billing", "create_invoice"), NAME, 9),
        (("mod", "spaced", "call"), CALL, 10),
        (("chain", "one", "two"), CALL, 11),
    ]


def test_local_names_are_not_references() -> None:
    facts = extract(
        """
        def outer(a, b=1, *args, c, d: int = 2, **kw):
            total = a + b + c + d + len(args) + len(kw)
            first, (second, *more) = pairs
            for i, (j, k) in enumerate(items):
                use(i, j, k)
            with open(path) as handle, ctx() as (left, right):
                use(handle, left, right)
            try:
                risky()
            except (ValueError, errors.Bad) as exc:
                use(exc)
            squares = [n * n for n in numbers if n]
            pairs_of = {key: val for key, val in mapping.items()}
            adder = lambda y, z=zdefault: y + z + free
            if (found := search()):
                use(found)
            counter += 1
            del total
            def inner(p):
                nonlocal first
                first = p
                return a + p + outer_free + inner
            class Helper:
                pass
            return inner, Helper, total, first, second, more, squares, pairs_of, adder, counter
        """
    )
    assert refs_in(facts, "outer") == [
        (("pairs",), NAME, 3),
        (("items",), NAME, 4),
        (("use",), CALL, 5),
        (("path",), NAME, 6),
        (("ctx",), CALL, 6),
        (("risky",), CALL, 9),
        (("errors", "Bad"), NAME, 10),
        (("numbers",), NAME, 12),
        (("mapping", "items"), CALL, 13),
        (("zdefault",), DEFAULT, 14),
        (("free",), NAME, 14),
        (("search",), CALL, 15),
    ]
    assert refs_in(facts, "outer.inner") == [(("outer_free",), NAME, 22)]


def test_match_capture_patterns_are_local_names() -> None:
    facts = extract(
        """
        def handle(event):
            match event:
                case Click(x=px, y=0) as click:
                    use(px, click)
                case [first, *rest]:
                    use(first, rest)
                case {"key": value, **extra}:
                    use(value, extra)
                case Color.RED:
                    pass
        """
    )
    assert refs(facts) == [("handle", ("use",), CALL, 4)]


def test_global_names_and_function_imports_are_references() -> None:
    facts = extract(
        """
        import json

        def save(data):
            global CACHE
            CACHE = data
            CACHE.flush()
            import pickle
            from os import path as p
            pickle.dumps(data)
            p.join("a")
            return json.dumps(data)
        """
    )
    assert refs_in(facts, "save") == [
        (("CACHE", "flush"), CALL, 6),
        (("pickle", "dumps"), CALL, 9),
        (("p", "join"), CALL, 10),
        (("json", "dumps"), CALL, 11),
    ]
    assert [(i.module, i.name, i.alias, i.scope) for i in facts.imports] == [
        ("json", None, None, ""),
        ("pickle", None, None, "save"),
        ("os", "path", "p", "save"),
    ]


def test_self_and_cls_chains_are_kept_but_not_bare_self() -> None:
    facts = extract(
        """
        class Invoice:
            def total(self):
                self.lines.sum()
                self.tax
                helper(self)
                return self

            @classmethod
            def build(cls):
                return cls.create()
        """
    )
    assert refs(facts) == [
        ("Invoice.total", ("self", "lines", "sum"), CALL, 3),
        ("Invoice.total", ("self", "tax"), NAME, 4),
        ("Invoice.total", ("helper",), CALL, 5),
        ("Invoice.build", ("cls", "create"), CALL, 10),
    ]


def test_builtins_are_dropped_unless_the_module_rebinds_them() -> None:
    facts = extract(
        """
        def run(items):
            print(len(items), str(items), isinstance(items, list), Exception)
            return open(items)

        def open(path):
            return path
        """
    )
    assert refs(facts) == [("run", ("open",), CALL, 3)]


def test_module_level_references() -> None:
    facts = extract(
        """
        import logging
        from app import create_app

        logger = logging.getLogger(__name__)
        app = create_app()
        names = [n.upper() for n in NAMES]
        if __name__ == "__main__":
            app.run()
        """
    )
    assert refs(facts) == [
        ("", ("logging", "getLogger"), CALL, 4),
        ("", ("create_app",), CALL, 5),
        ("", ("NAMES",), NAME, 6),
        ("", ("app", "run"), CALL, 8),
    ]


def test_reference_kinds_belong_to_the_definition_they_describe() -> None:
    facts = extract(
        """
        import pytest

        @pytest.fixture(name="db_conn")
        @register(Registry.DEFAULT)
        def make(order: Order, when: "datetime.date" = TODAY, *, rate: "list[Rate]" = default_rate()) -> Invoice:
            amount: Decimal = order.total()
            return Invoice(amount)

        class Cart(BaseModel, mixins.Logged, metaclass=ABCMeta):
            items: list[Item] = Field(default_factory=list)
            count = compute_count()

            def add(self, item: "Item") -> "Optional[Cart]":
                pass
        """
    )
    assert refs(facts) == [
        ("make", ("pytest", "fixture"), DECORATOR, 3),
        ("make", ("register",), DECORATOR, 4),
        ("make", ("Registry", "DEFAULT"), DECORATOR, 4),
        ("make", ("Order",), ANNOTATION, 5),
        ("make", ("TODAY",), DEFAULT, 5),
        ("make", ("default_rate",), DEFAULT, 5),
        ("make", ("Invoice",), ANNOTATION, 5),
        ("make", ("datetime", "date"), ANNOTATION, 5),
        ("make", ("Rate",), ANNOTATION, 5),
        ("make", ("Decimal",), ANNOTATION, 6),
        ("make", ("order", "total"), CALL, 6),  # order: Order, a binding with a stated type
        ("make", ("Invoice",), CALL, 7),
        ("Cart", ("BaseModel",), BASE, 9),
        ("Cart", ("mixins", "Logged"), BASE, 9),
        ("Cart", ("ABCMeta",), BASE, 9),
        ("Cart", ("Item",), ANNOTATION, 10),
        ("Cart", ("Field",), CALL, 10),
        ("Cart", ("compute_count",), CALL, 11),
        ("Cart.add", ("Item",), ANNOTATION, 13),
        ("Cart.add", ("Optional",), ANNOTATION, 13),
        ("Cart.add", ("Cart",), ANNOTATION, 13),
    ]


def test_string_annotations_are_parsed_but_not_literals_or_prose() -> None:
    facts = extract(
        """
        def f(a: "pkg.Model", b: List["Other"], c: Literal["not_a_name"], d: "not valid ]",
              e: Annotated[int, "some prose here"], g: f"{dynamic}", h: "Dict[str, 'Nested']") -> None:
            pass
        """
    )
    # Ordered by line; within a line, names read from strings come after the others.
    assert refs_in(facts, "f") == [
        (("List",), ANNOTATION, 1),
        (("Literal",), ANNOTATION, 1),
        (("pkg", "Model"), ANNOTATION, 1),
        (("Other",), ANNOTATION, 1),
        (("Annotated",), ANNOTATION, 2),
        (("dynamic",), ANNOTATION, 2),  # an f-string's fields are expressions
        (("Dict",), ANNOTATION, 2),
        (("Nested",), ANNOTATION, 2),
    ]


def test_class_body_names_do_not_leak_into_references() -> None:
    facts = extract(
        """
        class Config:
            DEFAULT = 3
            LIMIT = DEFAULT * 2
            def get(self):
                return self.DEFAULT
            alias = get
        """
    )
    assert refs(facts) == [("Config.get", ("self", "DEFAULT"), NAME, 5)]


def test_references_are_deduplicated_keeping_the_first_line() -> None:
    facts = extract(
        """
        def f():
            helper()
            helper()
            helper
            helper
            if True:
                helper()

        def g():
            helper()
        """
    )
    assert refs(facts) == [
        ("f", ("helper",), CALL, 2),
        ("f", ("helper",), NAME, 4),
        ("g", ("helper",), CALL, 10),
    ]


# --------------------------------------------------------------------------------------- typed bindings


def bindings(facts: FileFacts) -> list[tuple[str, str, tuple[str, ...], int, str]]:
    return [(b.scope, b.name, b.type_chain, b.line, b.how) for b in facts.bindings]


def test_return_annotations_give_the_class_chain() -> None:
    facts = extract(
        """
        def plain() -> Invoice: ...
        def dotted() -> models.Invoice: ...
        def union() -> Invoice | None: ...
        def optional() -> typing.Optional["Invoice"]: ...
        def string() -> "models.Invoice": ...
        def generic() -> list[Invoice]: ...
        def two() -> Invoice | Order: ...
        def nothing() -> None: ...
        def bare(): ...
        class Cart:
            def total(self) -> "Decimal | None": ...
        """
    )
    assert [(d.qualname, d.returns) for d in facts.definitions] == [
        ("plain", ("Invoice",)),
        ("dotted", ("models", "Invoice")),
        ("union", ("Invoice",)),
        ("optional", ("Invoice",)),
        ("string", ("models", "Invoice")),
        ("generic", ()),
        ("two", ()),
        ("nothing", ()),
        ("bare", ()),
        ("Cart", ()),
        ("Cart.total", ("Decimal",)),
    ]


def test_annotated_parameters_bind_names_read_with_an_attribute() -> None:
    facts = extract(
        """
        def handle(self, a: Order, b: models.Order, c: Order | None, d: Optional[Order], e: "Order",
                   f: list[Order], g: int, *h: Order, i: Order = None, unused: Order = None, **k: Order):
            a.total(); b.total(); c.total(); d.total(); e.total()
            f.append(1); g.bit_length(); h.count(1); i.lines.sum(); k.items()
            self.total()
            print(a)
        """
    )
    assert bindings(facts) == [
        ("handle", "a", ("Order",), 1, "annotation"),
        ("handle", "b", ("models", "Order"), 1, "annotation"),
        ("handle", "c", ("Order",), 1, "annotation"),
        ("handle", "d", ("Order",), 1, "annotation"),
        ("handle", "e", ("Order",), 1, "annotation"),
        ("handle", "i", ("Order",), 2, "annotation"),
    ]
    kept = {(r.chain, r.kind) for r in facts.references if r.chain[0] in "abcdefghik"}
    assert kept == {
        (("a", "total"), CALL), (("b", "total"), CALL), (("c", "total"), CALL), (("d", "total"), CALL),
        (("e", "total"), CALL), (("i", "lines", "sum"), CALL),
    }


def test_assignments_in_functions_and_at_module_level() -> None:
    facts = extract(
        """
        app = Flask(__name__)
        bp = flask.Blueprint("x", __name__)
        config: Config = load()
        first, second = Pair()
        NAMES = [n for n in names]

        def build():
            local = Flask(__name__)
            client = local.test_client()
            made: "Order" = make()
            later = None
            later = Invoice()
            plain = 3
            local.run(); client.get(); made.total(); later.total(); plain.real
            return local
        """
    )
    assert bindings(facts) == [
        ("", "app", ("Flask",), 1, "call"),
        ("", "bp", ("flask", "Blueprint"), 2, "call"),
        ("", "config", ("Config",), 3, "annotation"),
        ("build", "local", ("Flask",), 8, "call"),
        ("build", "client", ("local", "test_client"), 9, "call"),
        ("build", "made", ("Order",), 10, "annotation"),
        ("build", "later", ("Invoice",), 12, "call"),
    ]
    assert refs_in(facts, "build") == [
        (("Flask",), CALL, 8),
        (("local", "test_client"), CALL, 9),
        (("make",), CALL, 10),
        (("Order",), ANNOTATION, 10),  # string annotations are read after the other references
        (("Invoice",), CALL, 12),
        (("local", "run"), CALL, 14),
        (("client", "get"), CALL, 14),
        (("made", "total"), CALL, 14),
        (("later", "total"), CALL, 14),
    ]


def test_attributes_set_through_self_bind_in_the_class() -> None:
    facts = extract(
        """
        class Service:
            client: Client
            count: int = 0

            def __init__(self, graph: SymbolGraph, store):
                self.graph = graph
                self.app = Flask()
                self.typed: Cache = build()
                self.lazy = None
                self.store = store
                self.other = Other()
                self.other = 3

            def later(self):
                self.lazy = make_lazy()
                self.app.run()
        """
    )
    assert bindings(facts) == [
        ("Service", "client", ("Client",), 2, "annotation"),
        ("Service.__init__", "graph", ("SymbolGraph",), 5, "annotation"),
        ("Service", "graph", ("SymbolGraph",), 6, "attribute"),
        ("Service", "app", ("Flask",), 7, "attribute"),
        ("Service", "typed", ("Cache",), 8, "attribute"),
        ("Service", "lazy", ("make_lazy",), 15, "attribute"),
    ]


def test_a_name_bound_to_two_stated_types_keeps_both_and_one_of_unknown_type_none() -> None:
    facts = extract(
        """
        def two(flag):
            x = Invoice()
            if flag:
                x = Order()
            x.total()

        def unknown(x: Invoice, items, line):
            x = x + 1
            x.total()
            for y in items:
                pass
            y = Invoice()
            y.total()
            with open() as z:
                pass
            z = Invoice()
            z.total()
            w = line.split()
            w.total()
        """
    )
    assert bindings(facts) == [
        ("two", "x", ("Invoice",), 2, "call"),
        ("two", "x", ("Order",), 4, "call"),
    ]
    assert [r.chain for r in facts.references if r.scope == "unknown" and len(r.chain) > 1] == []


def test_kept_references_follow_the_scope_that_binds_the_name() -> None:
    facts = extract(
        """
        def outer(app: Flask, items):
            def inner():
                app.run()
            def shadow(app):
                app.run()
            [app.run() for app in items]
            lambda app: app.run()
            return [app.route(i) for i in items]
        """
    )
    assert bindings(facts) == [("outer", "app", ("Flask",), 1, "annotation")]
    assert [(r.scope, r.chain, r.line) for r in facts.references if len(r.chain) > 1] == [
        ("outer.inner", ("app", "run"), 3),
        ("outer", ("app", "route"), 8),
    ]


# ------------------------------------------------------------------------------------------- pytest


PYTEST_SOURCE = """
import pytest
import pytest_asyncio
import pytest as pt
from pytest import fixture, mark

pytestmark = [pytest.mark.usefixtures("db", "cache"), pytest.mark.slow]

@pytest.fixture
def db(tmp_path, request, *args, flag=False, **kwargs):
    yield tmp_path

@pytest.fixture(name="conn", scope="session", autouse=True)
def make_conn(db):
    return db

@fixture(scope="module")
def plain(): ...

@pytest_asyncio.fixture
async def aio(event_loop): ...

@pt.fixture()
def aliased(): ...

def test_top(db, conn, /, other, *, kw_only, with_default=1):
    pass

@pytest.mark.parametrize("a, b", [(1, 2)])
@pytest.mark.parametrize(("c", "d"), [(1, 2)])
@pytest.mark.usefixtures("env")
def test_param(a, b, c, d, db):
    pass

@mark.usefixtures("marked")
class TestGroup:
    pytestmark = pytest.mark.usefixtures("class_mark")

    @pytest.fixture
    def local_fix(self, db):
        return db

    def test_method(self, local_fix):
        pass

    def helper(self):
        pass

    class TestNested:
        def test_inner(self):
            pass

@pytest.mark.parametrize("x", [1])
class TestParam:
    def test_x(self, x, db):
        pass

class TestWithInit:
    def __init__(self):
        pass

    def test_not_collected(self):
        pass

class Helper:
    def test_not_in_a_test_class(self):
        pass

def outer():
    def test_nested():
        pass
"""


def test_pytest_tests() -> None:
    facts = extract(PYTEST_SOURCE)
    assert [d.qualname for d in facts.definitions if d.is_test] == [
        "test_top",
        "test_param",
        "TestGroup",
        "TestGroup.test_method",
        "TestGroup.TestNested",
        "TestGroup.TestNested.test_inner",
        "TestParam",
        "TestParam.test_x",
    ]


def test_pytest_fixtures() -> None:
    facts = extract(PYTEST_SOURCE)
    assert [(d.qualname, d.fixture) for d in facts.definitions if d.fixture is not None] == [
        ("db", FixtureInfo(name="db")),
        ("make_conn", FixtureInfo(name="conn", autouse=True, scope="session")),
        ("plain", FixtureInfo(name="plain", scope="module")),
        ("aio", FixtureInfo(name="aio")),
        ("aliased", FixtureInfo(name="aliased")),
        ("TestGroup.local_fix", FixtureInfo(name="local_fix")),
    ]


def test_pytest_fixture_requests() -> None:
    facts = extract(PYTEST_SOURCE)
    requests = {d.qualname: d.fixture_requests for d in facts.definitions if d.fixture_requests}
    assert requests == {
        "db": (("tmp_path", FIXTURE_PARAM), ("request", FIXTURE_PARAM)),
        "make_conn": (("db", FIXTURE_PARAM),),
        "aio": (("event_loop", FIXTURE_PARAM),),
        "test_top": (
            ("db", FIXTURE_PARAM),
            ("conn", FIXTURE_PARAM),
            ("other", FIXTURE_PARAM),
            ("kw_only", FIXTURE_PARAM),
        ),
        "test_param": (("db", FIXTURE_PARAM), ("env", FIXTURE_USEFIXTURES)),
        "TestGroup": (("marked", FIXTURE_USEFIXTURES), ("class_mark", FIXTURE_USEFIXTURES)),
        "TestGroup.local_fix": (("db", FIXTURE_PARAM),),
        "TestGroup.test_method": (
            ("local_fix", FIXTURE_PARAM),
            ("marked", FIXTURE_USEFIXTURES),
            ("class_mark", FIXTURE_USEFIXTURES),
        ),
        "TestParam.test_x": (("db", FIXTURE_PARAM),),
    }
    assert facts.module_fixture_requests == ("db", "cache")


def test_single_pytestmark_and_bare_fixture_without_pytest_import() -> None:
    facts = extract(
        """
        import pytest
        from somewhere import fixture

        pytestmark = pytest.mark.usefixtures("only")

        @fixture
        def not_a_pytest_fixture():
            pass

        def test_uses(not_a_pytest_fixture):
            pass
        """
    )
    assert facts.module_fixture_requests == ("only",)
    assert definition(facts, "not_a_pytest_fixture").fixture is None
    assert definition(facts, "test_uses").fixture_requests == (("not_a_pytest_fixture", FIXTURE_PARAM),)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('pytest_plugins = ["plugins.db", "plugins.http"]\n', ("plugins.db", "plugins.http")),
        ('pytest_plugins = ("plugins.db",)\n', ("plugins.db",)),
        ('pytest_plugins = "plugins.db"\n', ("plugins.db",)),
        ("pytest_plugins = make_list()\n", ()),
        ('class C:\n    pytest_plugins = ["not.module.level"]\n', ()),
    ],
)
def test_pytest_plugins(code: str, expected: tuple[str, ...]) -> None:
    assert extract(code, "conftest.py").pytest_plugins == expected


def test_no_pytest_facts_without_pytest() -> None:
    facts = extract("def helper(a):\n    pass\n")
    assert facts.module_fixture_requests == ()
    assert definition(facts, "helper") == Definition(
        qualname="helper", kind=FUNCTION, span=Span(1, 2), contract=Span(1, 1), signature="def helper(a)"
    )


# --------------------------------------------------------------------------------------- robustness


def test_file_level_facts() -> None:
    facts = extract_python("pkg\\sub\\mod.py", b"import os\n\nx = 1")
    assert facts == FileFacts(
        path="pkg/sub/mod.py",
        language="python",
        line_count=3,
        definitions=(Definition(qualname="x", kind=CONSTANT, span=Span(3, 3), contract=Span(3, 3), signature="x = 1"),),
        imports=(Import(module="os", name=None, alias=None, line=1),),
    )


def test_syntax_errors_are_reported_and_extraction_goes_on() -> None:
    facts = extract(
        """
        def broken(:
            pass

        def fine(a):
            return helper(a)

        x = (1,
        """
    )
    assert facts.syntax_errors == (1, 7)
    assert ("fine", FUNCTION, None, "4-5", "4-4") in outline(facts)
    assert ("fine", ("helper",), CALL, 5) in refs(facts)
    assert facts.notes == ()


def test_carriage_return_line_ends() -> None:
    facts = extract_python("mac.py", b"import os\rdef f():\r    return os.sep\r")
    assert facts.line_count == 3
    assert outline(facts) == [("f", FUNCTION, None, "2-3", "2-2")]
    assert refs(facts) == [("f", ("os", "sep"), NAME, 3)]


def test_invalid_utf8_is_decoded_with_replacement() -> None:
    facts = extract_python("latin.py", "NAME = 'café'\ndef café():\n    return NAME\n".encode("latin-1"))
    assert facts.notes == (NOT_UTF8_NOTE,)
    assert definition(facts, "NAME").signature == "NAME = 'caf\ufffd'"
    assert facts.line_count == 3


@pytest.mark.parametrize(
    "source",
    [
        b"",
        b"\n\n   \n",
        b"\x00" * 100,
        b"\xef\xbb\xbfimport os\n",
        b"def f(:\n  x = [1, 2\nclass\n",
        b"\xff\xfe\x00garbage\x00" * 50,
        b"@\n@@\ndef\nclass (\nimport\nfrom . import\nlambda:\n",
        bytes(random.Random(7).randrange(256) for _ in range(50_000)),
        b"x = " + b"(" * 5_000 + b"1" + b")" * 5_000 + b"\n",
        b"__all__ = " + b"[" * 5_000 + b"]" * 5_000 + b"\n",
        b"f = " + b"".join(b"lambda a%d: " % i for i in range(2_000)) + b"0\n",
        b"".join(b"    " * i + b"def f%d(x%d):\n" % (i, i) for i in range(300)) + b"    " * 300 + b"pass\n",
        b"def f(x: '" + b"List[" * 300 + b"int" + b"]" * 300 + b"'): pass\n",
    ],
    ids=[
        "empty",
        "blank",
        "nul",
        "bom",
        "unclosed",
        "binary",
        "keywords",
        "random",
        "parens",
        "lists",
        "lambdas",
        "nested-defs",
        "nested-annotation",
    ],
)
def test_never_raises(source: bytes) -> None:
    facts = extract_python("hostile.py", source)
    assert facts.path == "hostile.py"
    assert not any(note.startswith("extraction failed") for note in facts.notes)


def test_empty_file() -> None:
    assert extract_python("empty.py", b"") == FileFacts(path="empty.py", language="python", line_count=0)


def test_pathologically_deep_expressions_stay_fast() -> None:
    # Tree-sitter's query cursor crawls on trees deeper than 65 535; the extractor caps the query depth.
    for source in (b"x = a" + b".b" * 100_000 + b"\n", b"x = " + b" + ".join([b"a"] * 100_000) + b"\n"):
        started = time.perf_counter()
        facts = extract_python("deep.py", source)
        assert time.perf_counter() - started < 10
        assert [d.qualname for d in facts.definitions] == ["x"]


def test_large_file_is_extracted_in_full() -> None:
    unit = "def f{0}(a, b=DEFAULT):\n    return g(a).h + b\n\nclass K{0}(Base):\n    x: int = 1\n\n"
    source = "".join(unit.format(i) for i in range(5_000)).encode()
    facts = extract_python("big.py", source)
    assert len(facts.definitions) == 15_000
    assert facts.definitions[-1] == Definition(
        qualname="K4999.x",
        kind=CONSTANT,
        span=Span(29_999, 29_999),
        contract=Span(29_999, 29_999),
        signature="x: int = 1",
        parent="K4999",
    )
    assert len(facts.references) == 5_000 * 3  # `int` is a builtin
    assert facts.references[-3:] == (
        Reference("f4999", ("DEFAULT",), DEFAULT, 29_995),
        Reference("f4999", ("g",), CALL, 29_996),
        Reference("K4999", ("Base",), BASE, 29_998),
    )


def _stdlib_sample() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)
    return files[:: max(1, len(files) // 120)]


def test_standard_library_sample_never_fails() -> None:
    sample = _stdlib_sample()
    assert len(sample) >= 100
    for path in sample:
        facts = extract_python(os.fspath(path), path.read_bytes())
        assert not any(note.startswith("extraction failed") for note in facts.notes), path


def test_a_comment_between_decorators_keeps_every_decorator() -> None:
    facts = extract_python("a.py", b"@first\n# why the second one\n@second(1)\ndef f():\n    pass\n")
    (f,) = facts.definitions
    assert (f.qualname, f.span, f.contract, f.decorators) == ("f", Span(1, 5), Span(1, 4), ("first", "second(1)"))
