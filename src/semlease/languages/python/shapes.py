"""Contract shapes of one Python file version, read with libcst: :func:`python_shapes` ``(bytes) -> FileShapes``.

A patch touches few files, so this reads them precisely rather than fast: one libcst parse, one
``PositionProvider`` pass for line numbers (a code generation, linear; no scope analysis), and one walk
over the *statements* only (expressions never hold a ``def``, a ``class`` or an assignment statement, so
the walk never descends into them).

Which definitions, under which qualnames and first lines, follows the tree-sitter extractor
(:mod:`semlease.languages.python.extract`) exactly, since the ids are joined with the index's graph:

* every ``def``, ``async def`` and ``class`` at any depth is a definition, named by the chain of its
  enclosing definitions (``Outer.method``, ``outer.inner``); its line is its first decorator's, else its
  ``def``/``class`` line;
* assignment statements (``x = 1``, ``x: int = 1``, ``x: int``, ``A = B = 1``, ``a, (b, *c) = ...``) are
  constants when the innermost enclosing definition is a class or there is none, also inside the
  ``if``/``try``/``with``/``for``/``while``/``match`` blocks there; each plain name of a target is one
  constant (attributes and subscripts give none; ``+=`` and ``:=`` are not assignment statements here).

Canonical text. An expression (annotation, default, decorator, base, value) is libcst's code for the
node, parsed and unparsed with :mod:`ast` (so spacing, comments, line breaks and quote style are
forgotten); when :mod:`ast` cannot read it (syntax newer than the running interpreter) the code with
whitespace runs collapsed is used. A parameter reads ``name``, ``name: Ann``, ``name = default`` or
``name: Ann = default`` (spaces around ``=`` in both forms), with ``*`` or ``**`` before the name of
``*args`` and ``**kwargs``; its aspect is ``parameter NAME`` -> ``KIND INDEX: TEXT`` (``positional 2:
order: Order``), INDEX counting every parameter from 1 (a bare ``*`` and ``/`` are not parameters).
Decorators read ``@a, @b(1)``, bases ``(A, B, metaclass=M)``, type parameters ``[T: int, *Ts, **P]``.

Fingerprint of a function or class: the sha1 of ``ast.dump`` of its code with the name replaced by
``_`` and the comment lines above it dropped (so formatting and comments do not count, the body,
parameters and decorators do); when :mod:`ast` cannot read the code, the sha1 of the code with
whitespace collapsed. Constants have none.

Errors never raise: undecodable bytes and syntax errors give ``FileShapes(error="line N: message")``.
libcst's own error positions are often off (tokenizer errors all say line 1), so the line and message
are taken from :func:`ast.parse` when it rejects the text too, and from libcst otherwise.
"""

from __future__ import annotations

import ast
import hashlib
import re
import textwrap
from collections.abc import Mapping, Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from semlease.domain.shapes import CLASS, CONSTANT, FUNCTION, FileShapes, SymbolShape

__all__ = ["PLACEHOLDER", "python_shapes"]

PLACEHOLDER = "_"  # the name a definition is given before it is fingerprinted
_WS = re.compile(r"\s+")
_MESSAGE_LIMIT = 200  # characters kept of an error message

Contract = list[tuple[str, str]]


def python_shapes(source: bytes) -> FileShapes:
    """Every definition of one version of a Python file, by qualname (see the module docstring).

    Never raises: bytes that are not UTF-8 and text libcst cannot parse give ``FileShapes(error=...)``
    with no shapes; an empty file gives no shapes and no error."""
    if isinstance(source, str):
        text = source
    else:
        source = bytes(source)
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as error:
            line = source.count(b"\n", 0, error.start) + 1
            return FileShapes(error=f"line {line}: not valid UTF-8 (byte 0x{source[error.start]:02x})")
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")  # classic Mac line ends, read as the extractor reads them
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        return FileShapes(error=_syntax_error(text, error))
    except Exception as error:  # noqa: BLE001 - the contract is to never raise (a RecursionError, say)
        return FileShapes(error=_one_line(f"line 1: libcst cannot read the file: {type(error).__name__}: {error}"))
    try:
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        reader = _Reader(module, positions)
        reader.statements(module.body, "", True)
    except Exception as error:  # noqa: BLE001 - same contract; the position of the failure is not known
        return FileShapes(error=_one_line(f"line 1: shapes not read: {type(error).__name__}: {error}"))
    return FileShapes(shapes={qualname: tuple(found) for qualname, found in reader.shapes.items()})


# ------------------------------------------------------------------------------------------------ errors


def _syntax_error(text: str, error: cst.ParserSyntaxError) -> str:
    try:
        ast.parse(text)
    except SyntaxError as precise:
        if precise.lineno:
            return _one_line(f"line {precise.lineno}: {precise.msg}")
    except Exception:  # noqa: BLE001 - ast has its own limits (deep nesting, null bytes): keep libcst's word
        pass
    return _one_line(f"line {error.raw_line}: {error.message}")


def _one_line(message: str) -> str:
    return _WS.sub(" ", message).strip()[:_MESSAGE_LIMIT]


# ----------------------------------------------------------------------------------------------- reading


class _Reader:
    """Walks the statements of one module, recording a shape per definition."""

    def __init__(self, module: cst.Module, positions: Mapping[cst.CSTNode, CodeRange]) -> None:
        self.code = module.code_for_node
        self.positions = positions
        self.shapes: dict[str, list[SymbolShape]] = {}

    def add(self, shape: SymbolShape) -> None:
        found = self.shapes.get(shape.qualname)
        if found is None:
            self.shapes[shape.qualname] = [shape]
        else:
            found.append(shape)  # the walk is in source order, so a redefinition comes after

    # --------------------------------------------------------------------------------------- the walk

    def statements(self, body: Sequence[cst.BaseStatement], prefix: str, constants: bool) -> None:
        """Read a block's statements; ``prefix`` is the enclosing qualname, ``constants`` whether its
        assignments are constants (module level or a class body, not a function)."""
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                if constants:
                    self.small(statement.body, prefix)
            elif isinstance(statement, cst.FunctionDef):
                qualname = self.function(statement, prefix)
                self.suite(statement.body, qualname, False)
            elif isinstance(statement, cst.ClassDef):
                qualname = self.klass(statement, prefix)
                self.suite(statement.body, qualname, True)
            else:
                for suite in _suites(statement):
                    self.suite(suite, prefix, constants)

    def suite(self, suite: cst.BaseSuite, prefix: str, constants: bool) -> None:
        if isinstance(suite, cst.IndentedBlock):
            self.statements(suite.body, prefix, constants)
        elif constants and isinstance(suite, cst.SimpleStatementSuite):  # `if x: a = 1`, `class A: x = 1`
            self.small(suite.body, prefix)

    def small(self, body: Sequence[cst.BaseSmallStatement], prefix: str) -> None:
        for statement in body:
            if isinstance(statement, cst.Assign):
                names = [name for target in statement.targets for name in _target_names(target.target)]
                contract: Contract = [("value", self.canonical(statement.value))]
            elif isinstance(statement, cst.AnnAssign):
                names = _target_names(statement.target)
                contract = [("annotation", self.canonical(statement.annotation.annotation))]
                if statement.value is not None:
                    contract.append(("value", self.canonical(statement.value)))
            else:
                continue
            if not names:
                continue
            line = self.positions[statement].start.line
            frozen = tuple(contract)
            for name in names:
                self.add(SymbolShape(f"{prefix}.{name}" if prefix else name, CONSTANT, line, frozen))

    # ------------------------------------------------------------------------------------ definitions

    def function(self, node: cst.FunctionDef, prefix: str) -> str:
        qualname = f"{prefix}.{node.name.value}" if prefix else node.name.value
        contract: Contract = [("def", "async def" if node.asynchronous is not None else "def")]
        self.decorators(node.decorators, contract)
        params = node.params
        ordered: list[tuple[str, cst.Param]] = [("positional-only", p) for p in params.posonly_params]
        ordered.extend(("positional", p) for p in params.params)
        if isinstance(params.star_arg, cst.Param):  # a bare `*` is a ParamStar, not a parameter
            ordered.append(("*args", params.star_arg))
        ordered.extend(("keyword-only", p) for p in params.kwonly_params)
        if params.star_kwarg is not None:
            ordered.append(("**kwargs", params.star_kwarg))
        for index, (kind, param) in enumerate(ordered, start=1):
            contract.append((f"parameter {param.name.value}", f"{kind} {index}: {self.parameter(kind, param)}"))
        if node.returns is not None:
            contract.append(("returns", self.canonical(node.returns.annotation)))
        self.add(SymbolShape(qualname, FUNCTION, self.first_line(node), tuple(contract), self.fingerprint(node)))
        return qualname

    def klass(self, node: cst.ClassDef, prefix: str) -> str:
        qualname = f"{prefix}.{node.name.value}" if prefix else node.name.value
        contract: Contract = []
        self.decorators(node.decorators, contract)
        if node.bases or node.keywords:
            arguments = ", ".join(self.argument(arg) for arg in (*node.bases, *node.keywords))
            contract.append(("bases", f"({arguments})"))
        if node.type_parameters is not None:
            parameters = ", ".join(self.type_parameter(p) for p in node.type_parameters.params)
            contract.append(("type parameters", f"[{parameters}]"))
        self.add(SymbolShape(qualname, CLASS, self.first_line(node), tuple(contract), self.fingerprint(node)))
        return qualname

    def first_line(self, node: cst.FunctionDef | cst.ClassDef) -> int:
        return self.positions[node.decorators[0] if node.decorators else node].start.line

    def decorators(self, decorators: Sequence[cst.Decorator], contract: Contract) -> None:
        if decorators:
            contract.append(("decorators", ", ".join("@" + self.canonical(d.decorator) for d in decorators)))

    def parameter(self, kind: str, param: cst.Param) -> str:
        text = param.name.value
        if kind == "*args":
            text = "*" + text
        elif kind == "**kwargs":
            text = "**" + text
        if param.annotation is not None:
            text += ": " + self.canonical(param.annotation.annotation)
        if param.default is not None:
            text += " = " + self.canonical(param.default)
        return text

    def argument(self, arg: cst.Arg) -> str:
        keyword = f"{arg.keyword.value}=" if arg.keyword is not None else ""
        return f"{arg.star}{keyword}{self.canonical(arg.value)}"

    def type_parameter(self, param: cst.TypeParam) -> str:
        inner = param.param
        if isinstance(inner, cst.TypeVar):
            text = inner.name.value
            if inner.bound is not None:
                text += ": " + self.canonical(inner.bound)
        elif isinstance(inner, cst.TypeVarTuple):
            text = "*" + inner.name.value
        else:  # ParamSpec
            text = "**" + inner.name.value
        if param.default is not None:
            text += f" = {param.star}{self.canonical(param.default)}"
        return text

    # ---------------------------------------------------------------------------------- canonical forms

    def canonical(self, node: cst.CSTNode) -> str:
        code = self.code(node).strip()
        try:
            return ast.unparse(ast.parse(code, mode="eval"))
        except Exception:  # noqa: BLE001 - SyntaxError for newer syntax, RecursionError for deep nesting
            return _WS.sub(" ", code)

    def fingerprint(self, node: cst.FunctionDef | cst.ClassDef) -> str:
        bare = node.with_changes(name=cst.Name(PLACEHOLDER), leading_lines=())
        code = textwrap.dedent(self.code(bare))
        try:
            text = ast.dump(ast.parse(code))
        except Exception:  # noqa: BLE001 - as in canonical(): fall back to the code, formatting collapsed
            text = _WS.sub(" ", code).strip()
        return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


# -------------------------------------------------------------------------------------------- node helpers


def _suites(statement: cst.BaseStatement) -> list[cst.BaseSuite]:
    """The blocks of a compound statement other than a definition: they hold statements of its level."""
    suites: list[cst.BaseSuite] = []
    if isinstance(statement, cst.If):
        current: cst.If | cst.Else | None = statement
        while isinstance(current, cst.If):  # an `elif` chain, read without recursion
            suites.append(current.body)
            current = current.orelse
        if current is not None:
            suites.append(current.body)
    elif isinstance(statement, (cst.For, cst.While)):
        suites.append(statement.body)
        if statement.orelse is not None:
            suites.append(statement.orelse.body)
    elif isinstance(statement, (cst.Try, cst.TryStar)):
        suites.append(statement.body)
        suites.extend(handler.body for handler in statement.handlers)
        if statement.orelse is not None:
            suites.append(statement.orelse.body)
        if statement.finalbody is not None:
            suites.append(statement.finalbody.body)
    elif isinstance(statement, cst.With):
        suites.append(statement.body)
    elif isinstance(statement, cst.Match):
        suites.extend(case.body for case in statement.cases)
    return suites


def _target_names(target: cst.BaseExpression) -> list[str]:
    """Names bound by an assignment target (`a`, `a, b`, `[a, *b]`, `(a)`), in order; attributes and
    subscripts bind no name."""
    names: list[str] = []
    stack: list[cst.BaseExpression] = [target]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            names.append(current.value)
        elif isinstance(current, (cst.Tuple, cst.List)):
            stack.extend(element.value for element in reversed(current.elements))
        elif isinstance(current, cst.StarredElement):
            stack.append(current.value)
    return names
