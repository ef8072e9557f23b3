"""Python contract shapes (libcst): exact aspects, canonical text, fingerprints, errors, and parity of every
(qualname, first line) with the tree-sitter extractor, whose ids the shapes are joined with."""

from __future__ import annotations

import ast
import os
import re
import sysconfig
import textwrap
from pathlib import Path

import libcst as cst

from semlease.domain.shapes import CLASS, CONSTANT, FUNCTION, FileShapes, SymbolShape
from semlease.languages.python.extract import extract_python
from semlease.languages.python.shapes import _read, python_shapes

REPO = Path(__file__).resolve().parents[4]
HEX40 = re.compile(r"[0-9a-f]{40}")


def read(code: str) -> FileShapes:
    """Shapes of ``code`` (dedented; its first line is line 1)."""
    return python_shapes(textwrap.dedent(code).lstrip("\n").encode("utf-8"))


def shapes(code: str) -> dict[str, tuple[SymbolShape, ...]]:
    result = read(code)
    assert result.error is None
    return result.shapes


def one(code: str, qualname: str) -> SymbolShape:
    (found,) = shapes(code)[qualname]
    return found


def outline(code: str) -> list[tuple[str, str, int]]:
    """(qualname, kind, line) of every shape, qualnames in order of first appearance."""
    return [(s.qualname, s.kind, s.line) for found in shapes(code).values() for s in found]


def contracts(code: str) -> dict[str, list[tuple[tuple[str, str], ...]]]:
    return {qualname: [s.contract for s in found] for qualname, found in shapes(code).items()}


# ------------------------------------------------------------------------------------------- functions


def test_function_with_every_parameter_kind_decorators_and_returns() -> None:
    shape = one(
        """
        @dec
        @other(1,  2)
        async def f(a, b: int, /, c, d: "X" = 1, *args: int, e, f: str = 'x', **kw: Any) -> Optional[ int ]:
            pass
        """,
        "f",
    )
    assert (shape.qualname, shape.kind, shape.line) == ("f", FUNCTION, 1)
    assert shape.contract == (
        ("def", "async def"),
        ("decorators", "@dec, @other(1, 2)"),
        ("parameter a", "positional-only 1: a"),
        ("parameter b", "positional-only 2: b: int"),
        ("parameter c", "positional 3: c"),
        ("parameter d", "positional 4: d: 'X' = 1"),
        ("parameter args", "*args 5: *args: int"),
        ("parameter e", "keyword-only 6: e"),
        ("parameter f", "keyword-only 7: f: str = 'x'"),
        ("parameter kw", "**kwargs 8: **kw: Any"),
        ("returns", "Optional[int]"),
    )
    assert HEX40.fullmatch(shape.fingerprint)


def test_bare_star_and_slash_are_not_parameters() -> None:
    assert one("def g(a, /, *, k=None, **rest): ...\n", "g").contract == (
        ("def", "def"),
        ("parameter a", "positional-only 1: a"),
        ("parameter k", "keyword-only 2: k = None"),
        ("parameter rest", "**kwargs 3: **rest"),
    )


def test_plain_function_has_only_its_def_aspect() -> None:
    assert one("def h():\n    return 1\n", "h").contract == (("def", "def"),)


def test_method_is_a_function_under_its_class() -> None:
    shape = one(
        """
        class A:
            @staticmethod
            def m(self, x=[1,2], *, y: 'int | None' = None) -> None: ...
        """,
        "A.m",
    )
    assert (shape.kind, shape.line) == (FUNCTION, 2)
    assert shape.contract == (
        ("def", "def"),
        ("decorators", "@staticmethod"),
        ("parameter self", "positional 1: self"),
        ("parameter x", "positional 2: x = [1, 2]"),
        ("parameter y", "keyword-only 3: y: 'int | None' = None"),
        ("returns", "None"),
    )


# --------------------------------------------------------------------------------------------- classes


def test_class_decorators_bases_and_keywords() -> None:
    found = contracts(
        """
        @dataclass(frozen=True)
        @register
        class A(Base, mixins.M, metaclass=Meta, **options):
            pass
        class B:
            pass
        class C():
            pass
        class D(*bases, Final):
            pass
        """
    )
    assert found == {
        "A": [
            (
                ("decorators", "@dataclass(frozen=True), @register"),
                ("bases", "(Base, mixins.M, metaclass=Meta, **options)"),
            )
        ],
        "B": [()],
        "C": [()],
        "D": [(("bases", "(*bases, Final)"),)],
    }


def test_class_type_parameters() -> None:
    # PEP 695 syntax: libcst reads it whatever the interpreter (ast may not: then the slow path is taken).
    shape = one("class F[T: (int, str), *Ts, **P](Generic[T]):\n    pass\n", "F")
    assert shape.contract == (("bases", "(Generic[T])"), ("type parameters", "[T: (int, str), *Ts, **P]"))
    assert (shape.kind, shape.line) == (CLASS, 1)
    assert HEX40.fullmatch(shape.fingerprint)


# ------------------------------------------------------------------------------------------- constants


def test_constants_with_and_without_annotation_chained_and_tuple_targets() -> None:
    code = """
        A = 1
        B: int = 2
        C: Final[int]
        D = E = [1,
                 2]
        f, (g, *h) = 1, (2, 3)
        [i, j] = k
        obj.attr = 1
        obj[0] = 1
        A += 1
        (m := 1)
        (n) = 3
        obj.x, p = 4, 5
        lam = lambda: 0
        """
    assert outline(code) == [
        ("A", CONSTANT, 1),
        ("B", CONSTANT, 2),
        ("C", CONSTANT, 3),
        ("D", CONSTANT, 4),
        ("E", CONSTANT, 4),
        ("f", CONSTANT, 6),
        ("g", CONSTANT, 6),
        ("h", CONSTANT, 6),
        ("i", CONSTANT, 7),
        ("j", CONSTANT, 7),
        ("n", CONSTANT, 12),
        ("p", CONSTANT, 13),
        ("lam", CONSTANT, 14),
    ]
    assert contracts(code) == {
        "A": [(("value", "1"),)],
        "B": [(("annotation", "int"), ("value", "2"))],
        "C": [(("annotation", "Final[int]"),)],
        "D": [(("value", "[1, 2]"),)],
        "E": [(("value", "[1, 2]"),)],
        "f": [(("value", "(1, (2, 3))"),)],
        "g": [(("value", "(1, (2, 3))"),)],
        "h": [(("value", "(1, (2, 3))"),)],
        "i": [(("value", "k"),)],
        "j": [(("value", "k"),)],
        "n": [(("value", "3"),)],
        "p": [(("value", "(4, 5)"),)],
        "lam": [(("value", "lambda: 0"),)],
    }
    assert {s.fingerprint for found in shapes(code).values() for s in found} == {""}


def test_class_fields_pydantic_and_dataclass() -> None:
    code = """
        class User(BaseModel):
            name: str = "x"
            age: int = Field(default=0, ge=0)
            tags: list[str] = []
            model_config = ConfigDict(frozen=True)

        @dataclass
        class Point:
            x: float
            y: float = 0.0
            z: ClassVar[int] = 3
            def norm(self) -> float:
                local = 1
                return local
        """
    assert outline(code) == [
        ("User", CLASS, 1),
        ("User.name", CONSTANT, 2),
        ("User.age", CONSTANT, 3),
        ("User.tags", CONSTANT, 4),
        ("User.model_config", CONSTANT, 5),
        ("Point", CLASS, 7),
        ("Point.x", CONSTANT, 9),
        ("Point.y", CONSTANT, 10),
        ("Point.z", CONSTANT, 11),
        ("Point.norm", FUNCTION, 12),
    ]
    found = contracts(code)
    assert found["User"] == [(("bases", "(BaseModel)"),)]
    assert found["User.name"] == [(("annotation", "str"), ("value", "'x'"))]
    assert found["User.age"] == [(("annotation", "int"), ("value", "Field(default=0, ge=0)"))]
    assert found["User.tags"] == [(("annotation", "list[str]"), ("value", "[]"))]
    assert found["User.model_config"] == [(("value", "ConfigDict(frozen=True)"),)]
    assert found["Point"] == [(("decorators", "@dataclass"),)]
    assert found["Point.x"] == [(("annotation", "float"),)]
    assert found["Point.y"] == [(("annotation", "float"), ("value", "0.0"))]
    assert found["Point.z"] == [(("annotation", "ClassVar[int]"), ("value", "3"))]


# ------------------------------------------------------------------------------------- canonical text


def test_canonical_text_ignores_spacing_comments_line_breaks_and_quotes() -> None:
    variants = [
        "def f(x: Optional[ int ] = None, *, key = 'k') -> Dict[str,int]:\n    pass\n",
        'def f(x: Optional[int]  # note\n      = None, *, key="k") -> Dict[str, int]:  # ret\n    pass\n',
        "def f(\n    x: Optional[\n        int\n    ] = None,\n    *,\n    key='k',\n"
        ") -> Dict[\n    str, int\n]:\n    pass\n",
    ]
    found = [python_shapes(v.encode()).shapes["f"] for v in variants]
    (first,) = found[0]
    assert first.contract == (
        ("def", "def"),
        ("parameter x", "positional 1: x: Optional[int] = None"),
        ("parameter key", "keyword-only 2: key = 'k'"),
        ("returns", "Dict[str, int]"),
    )
    assert all(shape == first for (shape,) in found)  # the fingerprints agree too

    value = [
        "X = {'a': 1,\n     'b': [1,2]}  # c\n",
        'X = {"a": 1, "b": [1, 2]}\n',
        "X = ( {'a' : 1, 'b' : [ 1, 2 ]} )\n",
    ]
    assert {python_shapes(v.encode()).shapes["X"][0].contract for v in value} == {(("value", "{'a': 1, 'b': [1, 2]}"),)}


def test_canonical_text_of_decorators_and_bases() -> None:
    found = contracts(
        """
        @ app.route( "/x",
                     methods = ["GET"] )  # a route
        class A( Base [ int ] , metaclass = Meta ):
            pass
        """
    )
    assert found["A"] == [
        (("decorators", "@app.route('/x', methods=['GET'])"), ("bases", "(Base[int], metaclass=Meta)"))
    ]


# ----------------------------------------------------------------------------------- several, nested


def test_property_getter_and_setter_are_two_shapes_in_order() -> None:
    found = shapes(
        """
        class A:
            @property
            def x(self) -> int:
                return self._x

            @x.setter
            def x(self, value: int) -> None:
                self._x = value
        """
    )["A.x"]
    assert [(s.kind, s.line) for s in found] == [(FUNCTION, 2), (FUNCTION, 6)]
    assert [s.contract for s in found] == [
        (("def", "def"), ("decorators", "@property"), ("parameter self", "positional 1: self"), ("returns", "int")),
        (
            ("def", "def"),
            ("decorators", "@x.setter"),
            ("parameter self", "positional 1: self"),
            ("parameter value", "positional 2: value: int"),
            ("returns", "None"),
        ),
    ]


def test_if_else_variants_are_two_shapes_in_order() -> None:
    found = shapes(
        """
        if sys.version_info >= (3, 12):
            def f() -> int:
                return 1
        else:
            def f() -> int:
                return 2
        """
    )["f"]
    assert [s.line for s in found] == [2, 5]
    assert found[0].contract == found[1].contract
    assert found[0].fingerprint != found[1].fingerprint


def test_nested_functions_classes_and_methods() -> None:
    assert outline(
        """
        def outer(a):
            x = 1
            def inner(b):
                def deepest(): pass
            class Local:
                field = 1
                if a:
                    other: int = 2
                def method(self):
                    y = 2
            return inner

        class Outer:
            class Inner:
                value: int = 0
                def m(self):
                    def helper(): pass
                    helper_value = 1
        """
    ) == [
        ("outer", FUNCTION, 1),
        ("outer.inner", FUNCTION, 3),
        ("outer.inner.deepest", FUNCTION, 4),
        ("outer.Local", CLASS, 5),
        ("outer.Local.field", CONSTANT, 6),
        ("outer.Local.other", CONSTANT, 8),
        ("outer.Local.method", FUNCTION, 9),
        ("Outer", CLASS, 13),
        ("Outer.Inner", CLASS, 14),
        ("Outer.Inner.value", CONSTANT, 15),
        ("Outer.Inner.m", FUNCTION, 16),
        ("Outer.Inner.m.helper", FUNCTION, 17),
    ]


def test_definitions_and_constants_inside_module_level_blocks() -> None:
    assert outline(
        """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from x import Y
            def typed() -> Y: ...
            ALIAS = int
        try:
            import fast
            SPEED = 1
        except ImportError:
            def fallback(): pass
            SPEED = 0
        finally:
            DONE = True
        for _i in range(3):
            LOOP = _i
        else:
            LOOPED = True
        while False:
            NEVER = 1
        with ctx() as handle:
            OPENED = handle
        match command:
            case "go":
                GO = 1
            case _:
                STAY = 1
        if a: ONE = 1; TWO = 2
        elif b:
            THREE = 3
        else:
            if c:
                FOUR = 4
        """
    ) == [
        ("typed", FUNCTION, 4),
        ("ALIAS", CONSTANT, 5),
        ("SPEED", CONSTANT, 8),
        ("SPEED", CONSTANT, 11),
        ("fallback", FUNCTION, 10),
        ("DONE", CONSTANT, 13),
        ("LOOP", CONSTANT, 15),
        ("LOOPED", CONSTANT, 17),
        ("NEVER", CONSTANT, 19),
        ("OPENED", CONSTANT, 21),
        ("GO", CONSTANT, 24),
        ("STAY", CONSTANT, 26),
        ("ONE", CONSTANT, 27),
        ("TWO", CONSTANT, 27),
        ("THREE", CONSTANT, 29),
        ("FOUR", CONSTANT, 32),
    ]


def test_class_body_blocks_hold_fields() -> None:
    assert outline(
        """
        class Config:
            if DEBUG:
                level = 10
            else:
                level = 20
            try:
                extra: int = 1
            except* Exception:
                pass
        """
    ) == [
        ("Config", CLASS, 1),
        ("Config.level", CONSTANT, 3),
        ("Config.level", CONSTANT, 5),
        ("Config.extra", CONSTANT, 7),
    ]


def test_first_line_is_the_first_decorator() -> None:
    assert outline(
        """
        # comment above

        @first
        @second(
            1,
        )

        def f(): pass
        @ (a)
        @(
          b)
        # between the decorators and the class
        class G: pass
        """
    ) == [("f", FUNCTION, 3), ("G", CLASS, 9)]


def test_first_line_counts_a_comment_between_decorators() -> None:
    # The extractor agrees (it once lost the decorators above such a comment; see test_extract.py).
    assert outline("@first\n# why\n@second\ndef f(): pass\n") == [("f", FUNCTION, 1)]


def test_line_ends_and_byte_order_mark() -> None:
    assert python_shapes(b"\xef\xbb\xbfx = 1\ndef f(): pass\n").shapes.keys() == {"x", "f"}
    crlf = python_shapes(b"x = 1\r\n\r\ndef f():\r\n    pass\r\n").shapes
    assert [(q, s.line) for q, found in crlf.items() for s in found] == [("x", 1), ("f", 3)]
    cr = python_shapes(b"x = 1\r\ry = 2\r").shapes
    assert [(q, s.line) for q, found in cr.items() for s in found] == [("x", 1), ("y", 3)]


# ---------------------------------------------------------------------------------------- fingerprints


def fingerprint(code: str, qualname: str = "f") -> str:
    return one(code, qualname).fingerprint


def test_fingerprint_same_body_under_another_name_is_equal() -> None:
    found = shapes("def a(x):\n    return x + 1\n\ndef b(x):\n    return x + 1\n")
    assert found["a"][0].fingerprint == found["b"][0].fingerprint
    assert HEX40.fullmatch(found["a"][0].fingerprint)
    classes = shapes("class A(B):\n    x = 1\n    def m(self): pass\nclass Z(B):\n    x = 1\n    def m(self): pass\n")
    assert classes["A"][0].fingerprint == classes["Z"][0].fingerprint


def test_fingerprint_ignores_comments_formatting_and_indentation() -> None:
    base = fingerprint("def f(x, y=1):\n    return x + y\n")
    assert fingerprint("# above\ndef f( x,y = 1 ):  # c\n\n    # inside\n    return (x +\n            y)\n") == base
    assert fingerprint("class A:\n    def f(self):\n        return 1\n", "A.f") == fingerprint(
        "def f(self):\n    return 1\n"
    )


def test_fingerprint_changes_with_body_parameters_decorators_and_docstring() -> None:
    base = fingerprint("def f(x):\n    return x + 1\n")
    changed = [
        "def f(x):\n    return x + 2\n",
        "def f(x):\n    return x - 1\n",
        "def f(y):\n    return x + 1\n",
        "def f(x: int):\n    return x + 1\n",
        "def f(x) -> int:\n    return x + 1\n",
        "@cache\ndef f(x):\n    return x + 1\n",
        "async def f(x):\n    return x + 1\n",
        'def f(x):\n    """Doc."""\n    return x + 1\n',
    ]
    found = [fingerprint(code) for code in changed]
    assert base not in found
    assert len(set(found)) == len(found)


def test_fingerprint_of_a_class_covers_its_methods() -> None:
    assert fingerprint("class A:\n    def m(self): return 1\n", "A") != fingerprint(
        "class A:\n    def m(self): return 2\n", "A"
    )


def test_fast_and_slow_paths_agree() -> None:
    """The ast twin gives the lines and fingerprints that PositionProvider and regenerated code give."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted((REPO / "src" / "semlease").rglob("*.py"))
    files += [stdlib / name for name in ("argparse.py", "dataclasses.py", "asyncio/base_events.py")]
    files.append(Path(__file__))
    for path in files:
        text = path.read_text("utf-8")
        module = cst.parse_module(text)
        assert _read(module, ast.parse(text)) == _read(module, None), path


# -------------------------------------------------------------------------------------------- errors


def test_syntax_error_says_its_line() -> None:
    for code, line in [
        ("x = 1\ny = 2\ndef f(:\n    pass\n", 3),
        ("x = 1\ny = 'abc\n", 2),
        ("if x:\n    pass\n  else:\n    pass\n", 3),
        ("x = 1\n\n\nclass\n", 4),
        ("x = (1,\n", 1),
    ]:
        result = python_shapes(code.encode())
        assert result.shapes == {}, code
        assert result.error is not None and result.error.startswith(f"line {line}: "), (code, result.error)
        assert "\n" not in result.error


def test_undecodable_bytes_and_null_bytes_give_an_error() -> None:
    assert python_shapes(b"x = 1\ny = '\xe9'\n") == FileShapes(error="line 2: not valid UTF-8 (byte 0xe9)")
    assert python_shapes(b"x = 1\ny = 2\x00\n") == FileShapes(error="line 2: null byte")


def test_empty_and_comment_only_files_have_no_shapes_and_no_error() -> None:
    assert python_shapes(b"") == FileShapes()
    assert python_shapes(b"   \n\n# only a comment\n") == FileShapes(shapes={}, error=None)


def test_hostile_nesting_never_raises() -> None:
    elif_chain = b"if a:\n    x = 1\n" + b"elif b:\n    x = 2\n" * 3000
    long_sum = b"x = " + b" + ".join([b"a"] * 20000) + b"\n"
    for source in (elif_chain, long_sum, b"x = " + b"(" * 150 + b"1" + b")" * 150 + b"\n"):
        result = python_shapes(source)
        assert result.error is None or result.error.startswith("line 1: ")
    # A generated table of concatenated strings: too deep for libcst's code generation (500 parts are),
    # read from ast's twin instead.
    strings = b"T = {'k': 'a'\n" + b"    'b'\n" * 2000 + b"}\n"
    assert python_shapes(strings).shapes["T"][0].contract == (("value", "{'k': 'a" + "b" * 2000 + "'}"),)


# -------------------------------------------------------------------------------- parity with extract


def _compare(paths: list[Path]) -> tuple[dict[str, str], list[str]]:
    """(mismatches, skipped): files whose (qualname, line) sets differ, and files one side cannot read
    precisely."""
    mismatches: dict[str, str] = {}
    skipped: list[str] = []
    for path in paths:
        source = path.read_bytes()
        facts = extract_python(os.fspath(path), source)
        result = python_shapes(source)
        if facts.syntax_errors or facts.notes or result.error is not None:
            skipped.append(f"{path}: {facts.syntax_errors[:3]} {facts.notes} {result.error}")
            continue
        expected = {(d.qualname, d.span.start_line) for d in facts.definitions}
        found = {(s.qualname, s.line) for group in result.shapes.values() for s in group}
        if expected != found:
            mismatches[str(path)] = (
                f"extractor only {sorted(expected - found)[:5]}, shapes only {sorted(found - expected)[:5]}"
            )
    return mismatches, skipped


def test_parity_with_the_extractor_on_the_project() -> None:
    paths = sorted((REPO / "src" / "semlease").rglob("*.py")) + sorted((REPO / "fixtures" / "shop").rglob("*.py"))
    assert len(paths) > 30
    mismatches, skipped = _compare(paths)
    assert mismatches == {}
    assert skipped == []


def test_parity_with_the_extractor_on_the_standard_library() -> None:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = [p for p in sorted(root.rglob("*.py")) if "site-packages" not in p.relative_to(root).parts]
    sample = files[:: max(1, len(files) // 330)]
    assert len(sample) >= 300
    mismatches, skipped = _compare(sample)
    assert mismatches == {}
    # Skipped: Python 2 test data, files in other encodings, deliberate syntax errors, libcst's few gaps.
    assert len(skipped) <= len(sample) // 30, skipped


def test_function_type_parameters() -> None:
    shape = one("def first[T: int](items: list[T]) -> T:\n    return items[0]\n", "first")
    assert shape.contract == (("def", "def"), ("type parameters", "[T: int]"),
                              ("parameter items", "positional 1: items: list[T]"), ("returns", "T"))
