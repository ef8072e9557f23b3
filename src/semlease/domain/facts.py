"""What one file says about itself: the output of a language extractor.

Extraction is a pure function ``bytes -> FileFacts`` with no cross-file knowledge, so its result can be
cached by content and computed in worker processes. These are frozen, slotted dataclasses rather than
pydantic models: a large tree yields millions of them and they are built on the indexing hot path.
Every line number is 1-based and every span is inclusive of its end line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Kinds of definition an extractor may report.
FUNCTION = "function"  # module-level or nested function (async included)
CLASS = "class"
METHOD = "method"  # a function whose parent is a class
CONSTANT = "constant"  # module-level or class-level assignment target (`X = 1`, `items: list[str] = []`)

# Kinds of reference.
CALL = "call"  # `f(...)`, `mod.f(...)`
NAME = "name"  # a plain use of a name or attribute chain in an expression
ANNOTATION = "annotation"  # used inside a type annotation (parameter, return, variable)
BASE = "base"  # a class base or keyword in the class argument list
DECORATOR = "decorator"  # used in a decorator expression
DEFAULT = "default"  # used in a parameter default value

# How a test or fixture asks for a fixture.
FIXTURE_PARAM = "param"  # `def test_x(db):`
FIXTURE_USEFIXTURES = "usefixtures"  # `@pytest.mark.usefixtures("db")` on a function or class
FIXTURE_AUTOUSE = "autouse"  # reserved: autouse fixtures apply to every test in scope


@dataclass(frozen=True, slots=True)
class Span:
    start_line: int
    end_line: int

    def __str__(self) -> str:
        return f"{self.start_line}-{self.end_line}"


@dataclass(frozen=True, slots=True)
class FixtureInfo:
    """A pytest fixture: the name tests ask for (``name=`` wins over the function name)."""

    name: str
    autouse: bool = False
    scope: str = "function"


@dataclass(frozen=True, slots=True)
class Definition:
    """A named definition.

    ``qualname`` is dotted from the module (``Invoice.total``, ``outer.inner``). ``span`` covers the
    whole definition including its decorators; ``contract`` covers what others rely on: for a function
    the decorators and the ``def`` header up to its colon, for a class the decorators and the ``class``
    header, for a constant its whole statement. ``signature`` is the header text with whitespace runs
    collapsed (``def create_invoice(order: Order, *, tax: bool = True) -> Invoice``).
    """

    qualname: str
    kind: str
    span: Span
    contract: Span
    signature: str = ""
    decorators: tuple[str, ...] = ()
    parent: str | None = None  # qualname of the enclosing definition, None at module level
    is_async: bool = False
    is_test: bool = False  # a pytest test function, test method, or test class
    fixture: FixtureInfo | None = None
    # Fixture names requested by this test or fixture, with how they were requested.
    fixture_requests: tuple[tuple[str, str], ...] = ()
    bases: tuple[str, ...] = ()  # class bases as written (`BaseModel`, `abc.ABC`)
    # A function's return annotation as a dotted chain when it names one class: `-> Invoice`,
    # `-> models.Invoice`, `-> Invoice | None`, `-> Optional[Invoice]`, `-> "Invoice"`; empty otherwise.
    returns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.qualname.rpartition(".")[2]


@dataclass(frozen=True, slots=True)
class Import:
    """One imported binding.

    ``import a.b``         -> module="a.b", name=None, alias=None, binds "a"
    ``import a.b as c``    -> module="a.b", name=None, alias="c", binds "c"
    ``from . import x``    -> module="", level=1, name="x", binds "x"
    ``from ..p.m import y as z`` -> module="p.m", level=2, name="y", alias="z", binds "z"
    ``from m import *``    -> module="m", name="*", binds whatever m exports
    ``scope`` is the qualname of the definition the import sits in ("" at module level).
    """

    module: str
    name: str | None
    alias: str | None
    line: int
    level: int = 0
    scope: str = ""
    type_checking: bool = False  # under `if TYPE_CHECKING:`

    @property
    def is_star(self) -> bool:
        return self.name == "*"

    @property
    def bound_name(self) -> str | None:
        """The local name this import introduces (None for a star import)."""
        if self.is_star:
            return None
        if self.alias:
            return self.alias
        if self.name is not None:
            return self.name
        return self.module.split(".")[0]


@dataclass(frozen=True, slots=True)
class Reference:
    """A use of a name that may be bound outside the current function.

    ``chain`` is the dotted access as written, head first: ``billing.create_invoice()`` gives
    ("billing", "create_invoice"); ``self.total()`` inside a method gives ("self", "total").
    Names bound locally (parameters, local assignments, loop targets, comprehension variables) are
    not reported, except a chain with at least one attribute (``x.method``) whose head has a
    ``Binding`` in the scope that binds it. ``scope`` is the qualname of the innermost enclosing
    definition ("" at module level).
    """

    scope: str
    chain: tuple[str, ...]
    kind: str
    line: int


# How a binding gives a name its type.
BINDING_ANNOTATION = "annotation"  # `def f(x: T)`, `x: T = ...`, `x: T`; a class-level field `x: T`
BINDING_CALL = "call"  # `x = T(...)`, `x = mod.make(...)`: a class, or a function with `returns`
BINDING_ATTRIBUTE = "attribute"  # `self.x = T(...)`, `self.x: T`, `self.x = param` (param: T) in a method


@dataclass(frozen=True, slots=True)
class Binding:
    """A name bound to a value whose type the source states, for following ``x.method()``.

    ``scope`` is the qualname of the definition the name is bound in ("" at module level); for
    ``attribute`` bindings and class-level fields it is the class's qualname and ``name`` the attribute.
    ``type_chain`` is the dotted chain of the annotation (``annotation``) or of the callee (``call``,
    ``attribute``), as written: the linker decides what it names. A name bound in one scope with types
    that disagree keeps every binding (the linker drops it); a name that is also bound there to
    something of unknown type (`x = f() + 1`, a loop target, an unannotated parameter) gets none.
    Bindings of a function's locals are reported only for names the file reads an attribute of
    (``x.attr``), the only use the linker makes of them.
    """

    scope: str
    name: str
    type_chain: tuple[str, ...]
    line: int
    how: str


@dataclass(frozen=True, slots=True)
class FileFacts:
    path: str  # repository-relative, forward slashes
    language: str
    line_count: int
    definitions: tuple[Definition, ...] = ()
    imports: tuple[Import, ...] = ()
    references: tuple[Reference, ...] = ()
    dunder_all: tuple[str, ...] | None = None  # names in `__all__` when it is a literal list/tuple
    syntax_errors: tuple[int, ...] = ()  # lines where the parser had to recover
    # Module-level `pytestmark = pytest.mark.usefixtures(...)` and similar, applying to every test.
    module_fixture_requests: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())  # e.g. "not valid UTF-8; decoded with replacement"
    bindings: tuple[Binding, ...] = ()  # names whose type the source states (see Binding)
    # Modules named by a module-level `pytest_plugins = [...]` (or a single string): their fixtures are
    # visible to every test under a conftest.py that names them, to the module's tests otherwise.
    pytest_plugins: tuple[str, ...] = ()
