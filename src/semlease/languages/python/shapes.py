"""Contract shapes of one Python file version, read with libcst: :func:`python_shapes` ``(bytes) -> FileShapes``.

Which definitions, under which qualnames and first lines, follows the tree-sitter extractor
(:mod:`semlease.languages.python.extract`) exactly, since the ids are joined with the index's graph:

* every ``def``, ``async def`` and ``class`` at any depth is a definition, named by the chain of its
  enclosing definitions (``Outer.method``, ``outer.inner``); its line is its first decorator's, else its
  ``def``/``class`` line;
* assignment statements (``x = 1``, ``x: int = 1``, ``x: int``, ``A = B = 1``, ``a, (b, *c) = ...``) are
  constants when the innermost enclosing definition is a class (``Cls.x``, also ``func.Cls.x``) or there
  is none, also inside the ``if``/``try``/``with``/``for``/``while``/``match`` blocks there. Each plain
  name of a target is one constant; attributes and subscripts give none, and ``+=`` and ``:=`` are not
  assignment statements.

Canonical text. An expression (annotation, default, decorator, base, value) is libcst's code for the
node, parsed and unparsed with :mod:`ast` (so spacing, comments, line breaks and quote style are
forgotten); when :mod:`ast` cannot read it (syntax newer than the running interpreter) it is the code
with whitespace runs collapsed. A parameter reads ``name``, ``name: Ann``, ``name = default`` or
``name: Ann = default`` (spaces around ``=`` in both forms), with ``*`` or ``**`` before the name of
``*args`` and ``**kwargs``; its aspect is ``parameter NAME`` -> ``KIND INDEX: TEXT`` (``positional 2:
order: Order``), INDEX counting every parameter from 1 (a bare ``*`` and ``/`` are not parameters).
Decorators read ``@a, @b(1)``, bases ``(A, B, metaclass=M)``, type parameters ``[T: int, *Ts, **P]``.
A constant of a chained or tuple assignment (``A = B = 1``, ``a, b = 1, 2``) gets the whole value.

Fingerprint of a function or class: the sha1 of ``ast.dump(ast.parse(code))`` where ``code`` is the
definition's code with its name replaced by ``_`` and the comment lines above it dropped, dedented (so
formatting and comments do not count, the body, parameters and decorators do); when :mod:`ast` cannot
read it, the sha1 of the code with whitespace collapsed. Constants have none.

Speed: one libcst parse, then one walk over the *statements* only (expressions never hold a ``def``, a
``class`` or an assignment statement, so the walk never descends into them). Line numbers and
fingerprints come from a twin :func:`ast.parse` of the whole text, walked in step with libcst's tree
(C-fast, where libcst's ``PositionProvider`` and a code generation per definition are not): a
definition's ast node, renamed, dumps to exactly the string its regenerated code would. When ast cannot
read the file (newer syntax) or the two trees ever disagree, the walk is redone the slow way, with
``PositionProvider`` (no scope analysis) and the code of each definition.

Errors never raise: undecodable bytes and syntax errors give ``FileShapes(error="line N: message")``.
libcst's own error positions are often off (tokenizer errors all say line 1), so the line and message
are :func:`ast.parse`'s when it rejects the text too, libcst's otherwise. Code nested deeper than
Python's own parser accepts is refused before libcst sees it (libcst's parser slows down, then
crashes, on it); that and any other failure without a position (libcst's code generation recursing
too deep on a 1000-term expression) say ``line 1``.
"""

from __future__ import annotations

import ast
import hashlib
import re
import textwrap
import warnings
from collections.abc import Mapping, Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from semlease.domain.shapes import CLASS, CONSTANT, FUNCTION, FileShapes, SymbolShape

__all__ = ["PLACEHOLDER", "python_shapes"]

PLACEHOLDER = "_"  # the name a definition is given before it is fingerprinted
_WS = re.compile(r"\s+")
_MESSAGE_LIMIT = 200  # characters kept of an error message

Contract = list[tuple[str, str]]
Twins = list[ast.stmt] | None  # the ast statements of a block, in step with libcst's (None: slow way)


def python_shapes(source: bytes) -> FileShapes:
    """Every definition of one version of a Python file, by qualname, in source order (see the module
    docstring). Never raises: bytes that are not UTF-8 and text libcst cannot parse give
    ``FileShapes(error="line N: ...")`` with no shapes; an empty file gives no shapes and no error."""
    if isinstance(source, str):
        text = source
    else:
        source = bytes(source)
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as error:
            line = source.count(b"\n", 0, error.start) + 1
            return FileShapes(error=f"line {line}: not valid UTF-8 (byte 0x{source[error.start]:02x})")
    if "\0" in text:  # ast and libcst both refuse it, neither says where
        line = text.count("\n", 0, text.index("\0")) + 1
        return FileShapes(error=f"line {line}: null byte")
    text = text.removeprefix("\ufeff")  # a byte order mark: libcst skips it, ast.parse rejects it
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")  # classic Mac line ends, read as the extractor reads them
    # ast.parse warns of invalid escape sequences and the like: not this module's business to report.
    # (catch_warnings swaps process-wide filters, so concurrent threads may see them swapped too.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _shapes(text)


def _shapes(text: str) -> FileShapes:
    # ast first: it is C-fast, and it refuses nesting deep enough to make libcst's parser crawl or crash
    # (a 4000-term `a + a + ...` takes libcst seconds; 8000 overflow its native stack).
    tree: ast.Module | None = None
    rejected: SyntaxError | None = None
    try:
        tree = ast.parse(text)
    except SyntaxError as error:  # a syntax error, or syntax newer than this interpreter's: libcst decides
        rejected = error
    except (RecursionError, MemoryError) as error:
        return FileShapes(error=f"line 1: nested too deeply to read ({type(error).__name__})")
    except Exception:  # noqa: BLE001 - anything else ast refuses, libcst may still read
        pass
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        if rejected is not None and rejected.lineno:
            return FileShapes(error=_one_line(f"line {rejected.lineno}: {rejected.msg}"))
        return FileShapes(error=_one_line(f"line {error.raw_line}: {error.message}"))
    except Exception as error:  # noqa: BLE001 - the contract is to never raise
        return FileShapes(error=f"line 1: libcst cannot read the file ({type(error).__name__})")
    try:
        return FileShapes(shapes=_read(module, tree))
    except Exception as error:  # noqa: BLE001 - same contract (libcst's code generation recurses, for one)
        # Only the type: the message of a KeyError holds a node whose repr may itself recurse too deep.
        return FileShapes(error=f"line 1: shapes not read ({type(error).__name__})")


def _read(module: cst.Module, tree: ast.Module | None) -> dict[str, tuple[SymbolShape, ...]]:
    """The shapes of a parsed module, read with its ast twin when given (and agreeing), else the slow way."""
    if tree is not None:
        reader = _Reader(module, None)
        try:
            reader.statements(module.body, tree.body, "", True)
            return reader.result()
        except _Mismatch:
            pass
    reader = _Reader(module, MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))
    reader.statements(module.body, None, "", True)
    return reader.result()


# ------------------------------------------------------------------------------------------------ errors


def _one_line(message: str) -> str:
    return _WS.sub(" ", message).strip()[:_MESSAGE_LIMIT]


# ----------------------------------------------------------------------------------------------- reading


class _Mismatch(Exception):
    """libcst's tree and ast's do not line up: read the file the slow way."""


class _Reader:
    """Walks the statements of one module, recording a shape per definition. With ``positions`` None the
    walk is given each block's ast statements (its twins) and reads lines and fingerprints from them."""

    def __init__(self, module: cst.Module, positions: Mapping[cst.CSTNode, CodeRange] | None) -> None:
        self.code = module.code_for_node
        self.positions = positions
        self.shapes: dict[str, list[SymbolShape]] = {}

    def result(self) -> dict[str, tuple[SymbolShape, ...]]:
        return {qualname: tuple(found) for qualname, found in self.shapes.items()}

    def add(self, shape: SymbolShape) -> None:
        found = self.shapes.get(shape.qualname)
        if found is None:
            self.shapes[shape.qualname] = [shape]
        else:
            found.append(shape)  # the walk is in source order, so a redefinition comes after

    # --------------------------------------------------------------------------------------- the walk

    def statements(self, body: Sequence[cst.BaseStatement], twins: Twins, prefix: str, constants: bool) -> None:
        """Read a block's statements; ``prefix`` is the enclosing qualname, ``constants`` whether its
        assignments are constants (module level or a class body, not a function)."""
        at = 0  # the next twin: ast has one statement per small statement, libcst a line of them
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                count = len(statement.body)
                if constants:
                    self.small(statement.body, twins[at : at + count] if twins is not None else None, prefix)
                at += count
                continue
            twin: ast.stmt | None = None
            if twins is not None:
                if at >= len(twins):
                    raise _Mismatch
                twin = twins[at]
            at += 1
            if isinstance(statement, cst.FunctionDef):
                if twin is not None and not (
                    isinstance(twin, (ast.FunctionDef, ast.AsyncFunctionDef)) and twin.name == statement.name.value
                ):
                    raise _Mismatch
                qualname = self.function(statement, twin, prefix)
                self.suite(statement.body, twin.body if twin is not None else None, qualname, False)
            elif isinstance(statement, cst.ClassDef):
                if twin is not None and not (isinstance(twin, ast.ClassDef) and twin.name == statement.name.value):
                    raise _Mismatch
                qualname = self.klass(statement, twin, prefix)
                self.suite(statement.body, twin.body if twin is not None else None, qualname, True)
            else:
                for suite, inner in _suites(statement, twin, twins is not None):
                    self.suite(suite, inner, prefix, constants)
        if twins is not None and at != len(twins):
            raise _Mismatch

    def suite(self, suite: cst.BaseSuite, twins: Twins, prefix: str, constants: bool) -> None:
        if isinstance(suite, cst.IndentedBlock):
            self.statements(suite.body, twins, prefix, constants)
        elif isinstance(suite, cst.SimpleStatementSuite):  # `if x: a = 1`, `class A: x = 1`
            if twins is not None and len(twins) != len(suite.body):
                raise _Mismatch
            if constants:
                self.small(suite.body, twins, prefix)

    def small(self, body: Sequence[cst.BaseSmallStatement], twins: Twins, prefix: str) -> None:
        if twins is not None and len(twins) != len(body):
            raise _Mismatch
        for index, statement in enumerate(body):
            if not isinstance(statement, (cst.Assign, cst.AnnAssign)):
                continue
            twin: ast.Assign | ast.AnnAssign | None = None
            if twins is None:
                line = self.position(statement)
            else:
                found = twins[index]
                if not isinstance(found, ast.Assign if isinstance(statement, cst.Assign) else ast.AnnAssign):
                    raise _Mismatch
                twin = found
                line = twin.lineno
            contract: Contract = []
            if isinstance(statement, cst.Assign):
                names = [name for target in statement.targets for name in _target_names(target.target)]
            else:
                names = _target_names(statement.target)
                contract.append(("annotation", self.canonical(statement.annotation.annotation, twin, "annotation")))
            if statement.value is not None:
                contract.append(("value", self.canonical(statement.value, twin, "value")))
            frozen = tuple(contract)
            for name in names:
                self.add(SymbolShape(f"{prefix}.{name}" if prefix else name, CONSTANT, line, frozen))

    def position(self, node: cst.CSTNode) -> int:
        assert self.positions is not None  # only asked on the slow way
        return self.positions[node].start.line

    # ------------------------------------------------------------------------------------ definitions

    def function(self, node: cst.FunctionDef, twin: ast.stmt | None, prefix: str) -> str:
        qualname = f"{prefix}.{node.name.value}" if prefix else node.name.value
        contract: Contract = [("def", "async def" if node.asynchronous is not None else "def")]
        self.decorators(node.decorators, contract)
        if node.type_parameters is not None:  # def f[T: int](x: T)
            parameters = ", ".join(self.type_parameter(p) for p in node.type_parameters.params)
            contract.append(("type parameters", f"[{parameters}]"))
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
        line, fingerprint = self.identify(node, twin)
        self.add(SymbolShape(qualname, FUNCTION, line, tuple(contract), fingerprint))
        return qualname

    def klass(self, node: cst.ClassDef, twin: ast.stmt | None, prefix: str) -> str:
        qualname = f"{prefix}.{node.name.value}" if prefix else node.name.value
        contract: Contract = []
        self.decorators(node.decorators, contract)
        if node.bases or node.keywords:
            arguments = ", ".join(self.argument(arg) for arg in (*node.bases, *node.keywords))
            contract.append(("bases", f"({arguments})"))
        if node.type_parameters is not None:
            parameters = ", ".join(self.type_parameter(p) for p in node.type_parameters.params)
            contract.append(("type parameters", f"[{parameters}]"))
        line, fingerprint = self.identify(node, twin)
        self.add(SymbolShape(qualname, CLASS, line, tuple(contract), fingerprint))
        return qualname

    def identify(self, node: cst.FunctionDef | cst.ClassDef, twin: ast.stmt | None) -> tuple[int, str]:
        """(first line, fingerprint) of a definition."""
        if twin is None:
            line = self.position(node.decorators[0] if node.decorators else node)
            bare = node.with_changes(name=cst.Name(PLACEHOLDER), leading_lines=())
            code = textwrap.dedent(self.code(bare))
            try:
                text = ast.dump(ast.parse(code))
            except Exception:  # noqa: BLE001 - SyntaxError for newer syntax, RecursionError for deep nesting
                text = _WS.sub(" ", code).strip()
            return line, _digest(text)
        assert isinstance(twin, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        line = twin.lineno  # the `def`/`class` line; the decorators' lines are counted back from it
        if node.decorators:
            line -= sum(self.code(d).count("\n") for d in node.decorators) + len(node.lines_after_decorators)
            line += len(node.decorators[0].leading_lines)  # the comment lines above the first decorator
        # The twin renamed, inside a module: the very dump of the definition's regenerated code.
        name = twin.name
        twin.name = PLACEHOLDER
        try:
            text = ast.dump(ast.Module(body=[twin], type_ignores=[]))
        finally:
            twin.name = name
        return line, _digest(text)

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

    def canonical(self, node: cst.CSTNode, twin: ast.AST | None = None, field: str = "") -> str:
        """The canonical text of an expression. ``twin.<field>`` is its ast node when known: libcst's code
        generation recurses once per operand, so a value of a thousand concatenated strings (a generated
        table) overflows it, where ast holds one constant."""
        try:
            code = self.code(node).strip()
        except RecursionError:
            if twin is None:
                raise
            return ast.unparse(getattr(twin, field))
        try:
            return ast.unparse(ast.parse(code, mode="eval"))
        except Exception:  # noqa: BLE001 - SyntaxError for newer syntax, RecursionError for deep nesting
            return _WS.sub(" ", code)


# -------------------------------------------------------------------------------------------- node helpers


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def _suites(statement: cst.BaseStatement, twin: ast.stmt | None, paired: bool) -> list[tuple[cst.BaseSuite, Twins]]:
    """The blocks of a compound statement other than a definition (they hold statements of its level),
    each with its ast statements when ``paired``. Raises _Mismatch when ``twin`` does not line up."""
    found: list[tuple[cst.BaseSuite, Twins]] = []

    def pair(suite: cst.BaseSuite, twins: list[ast.stmt] | None) -> None:
        found.append((suite, twins if paired else None))

    def expect(kinds: type[ast.stmt] | tuple[type[ast.stmt], ...]) -> None:
        if paired and not isinstance(twin, kinds):
            raise _Mismatch

    def orelse(suite: cst.Else | None, twins: list[ast.stmt]) -> None:
        if suite is not None:
            pair(suite.body, twins)
        elif paired and twins:
            raise _Mismatch

    if isinstance(statement, cst.If):
        expect(ast.If)
        current: cst.If | cst.Else | None = statement
        while isinstance(current, cst.If):  # an `elif` chain, read without recursion
            pair(current.body, twin.body if isinstance(twin, ast.If) else None)
            rest = twin.orelse if isinstance(twin, ast.If) else []
            if isinstance(current.orelse, cst.If):  # ast writes `elif` as an `else` holding one `if`
                if paired and not (len(rest) == 1 and isinstance(rest[0], ast.If)):
                    raise _Mismatch
                twin = rest[0] if paired else None
                current = current.orelse
            else:
                orelse(current.orelse, rest)
                break
    elif isinstance(statement, (cst.For, cst.While)):
        expect((ast.For, ast.AsyncFor) if isinstance(statement, cst.For) else ast.While)
        pair(statement.body, getattr(twin, "body", None))
        orelse(statement.orelse, getattr(twin, "orelse", []))
    elif isinstance(statement, (cst.Try, cst.TryStar)):
        expect(ast.Try if isinstance(statement, cst.Try) else ast.TryStar)
        pair(statement.body, getattr(twin, "body", None))
        handlers = getattr(twin, "handlers", [])
        if paired and len(handlers) != len(statement.handlers):
            raise _Mismatch
        for index, handler in enumerate(statement.handlers):
            pair(handler.body, handlers[index].body if paired else None)
        orelse(statement.orelse, getattr(twin, "orelse", []))
        if statement.finalbody is not None:
            pair(statement.finalbody.body, getattr(twin, "finalbody", None))
        elif paired and getattr(twin, "finalbody", None):
            raise _Mismatch
    elif isinstance(statement, cst.With):
        expect((ast.With, ast.AsyncWith))
        pair(statement.body, getattr(twin, "body", None))
    elif isinstance(statement, cst.Match):
        expect(ast.Match)
        cases = getattr(twin, "cases", [])
        if paired and len(cases) != len(statement.cases):
            raise _Mismatch
        for index, case in enumerate(statement.cases):
            pair(case.body, cases[index].body if paired else None)
    return found


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
