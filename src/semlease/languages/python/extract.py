"""Python facts from one file: definitions, imports, references, ``__all__``, pytest tests and fixtures.

:func:`extract_python` is a pure function ``(path, bytes) -> FileFacts``. It parses with tree-sitter and
runs ONE compiled query (``grammars/python/tags.scm`` + ``locals.scm``) with ``QueryCursor.matches()``;
everything else is bookkeeping on the matched nodes, never a Python walk over the whole tree:

* Definitions come from their matches: name, parameters, body and decorators are captures of the
  same match. Parents are found with one sweep over the definitions sorted by start byte.
* Scoping is by byte ranges. Definitions (from their first decorator), lambdas, comprehensions and the
  regions that give a reference its kind (annotation, default value, decorator, base) are nested
  ranges, flattened once into sorted segments; a binding or a reference finds its segment with one
  ``bisect`` (or none, while it stays in the segment of the one before).
* A reference is a ``primary_expression`` identifier (captured by the query). Its chain (``a.b.c``) and
  whether it is called are read from the source bytes that follow it, and references are deduplicated
  before anything costly (local-name filtering, decoding) is done.
* Typed bindings (``Binding``: `x: T`, `x = T(...)`, `self.x = T(...)`) are read for module- and
  class-level assignments, and for a function's locals only when the file reads an attribute of a local
  of that name (`x.attr`, set aside by the reference loop). Their binding sites are sorted out by the
  bytes after the name; the tree is read only for sites that may state a type. A name also bound to
  something of unknown type in the same scope gets no binding, and its `x.attr` stays unreported.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import gc
import re
from bisect import bisect_right
from functools import cache
from operator import attrgetter, itemgetter
from typing import Any

from tree_sitter import Node, Parser, Query, QueryCursor

from semlease.domain.facts import (
    ANNOTATION,
    BASE,
    BINDING_ANNOTATION,
    BINDING_ATTRIBUTE,
    BINDING_CALL,
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
    Binding,
    Definition,
    FileFacts,
    FixtureInfo,
    Import,
    Reference,
    Span,
)
from semlease.languages.queries import compiled_query, load_query

__all__ = ["LANGUAGE", "NOT_UTF8_NOTE", "extract_python"]

LANGUAGE = "python"
QUERY_FILES = ("tags.scm", "locals.scm")
NOT_UTF8_NOTE = "not valid UTF-8; decoded with replacement"
SIGNATURE_LIMIT = 200  # characters kept of a constant's collapsed statement

Captures = dict[str, list[Node]]

# How a pattern's matches are read: the first of these capture names that the pattern holds decides.
_PATTERN_KINDS = (
    "reference.name",
    "local.definition.target",
    "local.definition",
    "local.global",
    "local.scope",
    "reference.annotation",
    "reference.default",
    "definition.decorated_definition",
    "definition.function",
    "definition.class",
    "definition.constant",
    "reference.import",
    "dunder_all.extend",
)
(
    _K_REF,
    _K_TARGET,
    _K_BIND,
    _K_GLOBAL,
    _K_SCOPE,
    _K_ANNOTATION,
    _K_DEFAULT,
    _K_DECORATED,
    _K_FUNCTION,
    _K_CLASS,
    _K_CONSTANT,
    _K_IMPORT,
    _K_ALL_EXTEND,
) = range(len(_PATTERN_KINDS))
_K_IGNORED = len(_PATTERN_KINDS)

# The `.name` parts following a chain head (whitespace may surround the dot inside brackets).
_CHAIN = re.compile(rb"(?:[ \t\r\n\f]*\.[ \t\r\n\f]*[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)+")
_CHAIN_FOLLOWERS = frozenset(b". \t\r\n\f")
_WS = re.compile(rb"[ \t\r\n\f\v]+")
_WS_BYTES = b" \t\r\n\f\v"
_ALL_METHOD = re.compile(rb"__all__[ \t]*\.[ \t]*(?:extend|append|remove)[ \t]*\(")
_CAPTURE = re.compile(r"@([A-Za-z_][A-Za-z0-9_.]*)")
_QUERY_COMMENT = re.compile(r";[^\n]*")
_OPEN_PAREN = 40  # b"("
_MAX_QUERY_DEPTH = 60_000

# Names every module can read without binding them; dropped from references unless the file binds them.
_IMPLICIT = frozenset(name.encode() for name in [*dir(builtins), "__file__", "__cached__", "__path__", "__builtins__"])
_SELF_NAMES = frozenset((b"self", b"cls"))
# Typed bindings: a dotted name (an annotation, a callee), and what may follow `self.attr` in an assignment.
_IDENTIFIER = rb"[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*"
_DOTTED = re.compile(_IDENTIFIER + rb"(?:\." + _IDENTIFIER + rb")*")
_TYPE_WRAPPER = re.compile(rb"(?:[A-Za-z_][A-Za-z0-9_]*\.)?(Optional|Union)\[(.*)\]")
_ASSIGN_BYTES = frozenset(b"=:+-*/%&|^@<>")
_RHS_CALL = re.compile(rb"[ \t]*(" + _IDENTIFIER + rb")(?:[ \t]*\.[ \t]*" + _IDENTIFIER + rb")*[ \t]*\(")
_RHS_NAME = re.compile(rb"[ \t]*(" + _IDENTIFIER + rb")[ \t]*(?:#[^\n]*)?(?:\r?\n|;|$)")
_RHS_NONE = re.compile(rb"[ \t]*None[ \t]*(?:#[^\n]*)?(?:\r?\n|;|$)")
_PARAMETER_TYPES = frozenset(("typed_parameter", "typed_default_parameter"))
_FIXTURE_MODULES = ("pytest", "pytest_asyncio")


# ------------------------------------------------------------------------------------------------- setup


def _fast_constructor(cls: type) -> Any:
    """A constructor for a frozen, slotted facts dataclass that takes the same arguments as the class but
    stores the fields through their slot descriptors instead of the generated ``__init__`` (which calls
    ``object.__setattr__`` once per field): about twice as fast, for objects built by the hundred
    thousand. It is generated from ``dataclasses.fields``, so a field added to the contract is set too;
    anything it does not handle (a default factory, ``__post_init__``, no slots) falls back to the class.
    """
    if hasattr(cls, "__post_init__") or "__slots__" not in vars(cls):
        return cls
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    positional: list[str] = []
    keyword_only: list[str] = []
    body: list[str] = []
    for index, item in enumerate(dataclasses.fields(cls)):
        descriptor = vars(cls).get(item.name)
        if item.default_factory is not dataclasses.MISSING or not item.init or not hasattr(descriptor, "__set__"):
            return cls
        namespace[f"_set{index}"] = descriptor.__set__
        parameter = item.name
        if item.default is not dataclasses.MISSING:
            namespace[f"_default{index}"] = item.default
            parameter = f"{item.name}=_default{index}"
        (keyword_only if item.kw_only is True else positional).append(parameter)
        body.append(f"    _set{index}(o, {item.name})")
    parameters = ", ".join([*positional, *(["*", *keyword_only] if keyword_only else [])])
    code = f"def make({parameters}):\n    o = _new(_cls)\n" + "\n".join(body) + "\n    return o\n"
    try:
        exec(code, namespace)  # noqa: S102 - generated from the dataclass's own field names
    except SyntaxError:  # e.g. a field without a default after one with a default
        return cls
    return namespace["make"]


_new_definition = _fast_constructor(Definition)
_new_span = _fast_constructor(Span)
_new_reference = _fast_constructor(Reference)
_new_import = _fast_constructor(Import)
_new_binding = _fast_constructor(Binding)


@cache
def _query() -> tuple[Query, tuple[int, ...]]:
    """The compiled query and, for each of its patterns, its kind (an index into ``_PATTERN_KINDS``)."""
    query = compiled_query(LANGUAGE, *QUERY_FILES)
    text = "\n".join(load_query(LANGUAGE, name) for name in QUERY_FILES).encode("utf-8")
    kinds = []
    for index in range(query.pattern_count):
        pattern = text[query.start_byte_for_pattern(index) : query.end_byte_for_pattern(index)]
        names = set(_CAPTURE.findall(_QUERY_COMMENT.sub("", pattern.decode("utf-8"))))
        kinds.append(next((k for k, name in enumerate(_PATTERN_KINDS) if name in names), _K_IGNORED))
    return query, tuple(kinds)


@cache
def _parser() -> Parser:
    from tree_sitter_language_pack import get_parser

    return get_parser(LANGUAGE)


# ------------------------------------------------------------------------------------------ entry point


def extract_python(path: str, source: bytes) -> FileFacts:
    """Facts of one Python file (``path`` is repository-relative). Never raises: undecodable bytes give a
    note, syntax errors give ``syntax_errors`` and extraction goes on with what tree-sitter recovered."""
    if isinstance(source, str):
        source = source.encode("utf-8", "surrogatepass")
    elif not isinstance(source, bytes):
        source = bytes(source)
    path = str(path).replace("\\", "/")
    notes: list[str] = []
    valid = True
    if not source.isascii():
        try:
            source.decode("utf-8")
        except UnicodeDecodeError:
            valid = False
            notes.append(NOT_UTF8_NOTE)
    if b"\r" in source and b"\n" not in source:
        source = source.replace(b"\r", b"\n")  # classic Mac line ends; same length, so same offsets
    line_count = source.count(b"\n") + (1 if source and not source.endswith(b"\n") else 0)
    # Extraction allocates many short-lived objects and creates no reference cycles: pausing the cycle
    # collector saves about a fifth of the time. It is restored before returning.
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        return _Extraction(path, source, line_count, notes, valid).run()
    except Exception as error:  # noqa: BLE001 - the contract is to never raise; say what happened
        notes.append(f"extraction failed: {type(error).__name__}: {error}"[:300])
        return FileFacts(path=path, language=LANGUAGE, line_count=line_count, notes=tuple(notes))
    finally:
        if collecting:
            gc.enable()


# -------------------------------------------------------------------------------------- working records


class _Scope:
    """Names bound in one function, class, lambda or comprehension (as bytes)."""

    __slots__ = ("names", "globals", "parent", "is_class", "visible")

    def __init__(self, parent: _Scope | None, is_class: bool) -> None:
        self.names: set[bytes] = set()
        self.globals: set[bytes] = set()
        # The enclosing scope whose names are visible from here: class bodies are skipped (Python's rule).
        if parent is not None and parent.is_class:
            parent = parent.parent
        self.parent = parent
        self.is_class = is_class
        self.visible: frozenset[bytes] | set[bytes] | None = None


def _visible(scope: _Scope | None) -> frozenset[bytes] | set[bytes] | None:
    """Names bound in ``scope`` or in an enclosing function (None at module level)."""
    if scope is None:
        return None
    if scope.visible is not None:
        return scope.visible
    chain = []
    current: _Scope | None = scope
    while current is not None and current.visible is None:
        chain.append(current)
        current = current.parent
    inherited: frozenset[bytes] | set[bytes] = current.visible if current is not None else frozenset()
    for link in reversed(chain):
        own: set[bytes] | frozenset[bytes] = link.names
        if link.globals:
            own = own - link.globals
            inherited = inherited - link.globals
        link.visible = (inherited.union(own) if inherited else own) if own else inherited
        inherited = link.visible
    return scope.visible


class _Def:
    """A function or class being built; it becomes a frozen ``Definition`` at the end. (No ``__slots__``:
    class-level defaults keep construction down to the attributes every definition has.)"""

    decorators: list[Node] = []  # noqa: RUF012 - never mutated, replaced when decorated
    parameters: Node | None = None
    superclasses: Node | None = None
    parent: _Def | None = None
    scope: _Scope | None = None
    enclosing: _Scope | None = None  # the scope the definition's name is bound in
    is_test = False
    fixture: FixtureInfo | None = None
    marks: _Marks | None = None
    method_names: frozenset[str] | set[str] = frozenset()
    returns: tuple[str, ...] = ()

    def __init__(self, node: Node, is_class: bool, name: str, body: Node) -> None:
        self.node = node
        self.body = body
        self.is_class = is_class
        self.name = name
        self.qualname = name
        self.start = node.start_byte  # moved to the first decorator when decorated
        self.end = node.end_byte
        self.body_start = body_start = body.start_byte
        self.header_end = body_start


class _Marks:
    """pytest marks read from decorators or from ``pytestmark``."""

    __slots__ = ("usefixtures", "parametrized")

    def __init__(self) -> None:
        self.usefixtures: list[str] = []
        self.parametrized: set[str] = set()


class _Constant:
    __slots__ = ("start", "definition", "value", "owner", "typed")

    def __init__(self, start: int, definition: Definition, value: Node | None, owner: _Def | None) -> None:
        self.start = start
        self.definition = definition
        self.value = value
        self.owner = owner
        # What the assignment says of the target's type: (how, chain), _NEUTRAL (`= None`) or None (unknown).
        self.typed: tuple[str, tuple[str, ...]] | str | None = None


_NEUTRAL = "neutral"  # `x = None`: compatible with any stated type of x


# -------------------------------------------------------------------------------------------- extraction


class _Extraction:
    def __init__(self, path: str, source: bytes, line_count: int, notes: list[str], valid: bool) -> None:
        self.path = path
        self.src = source
        self.errors = "strict" if valid else "replace"
        self.line_count = line_count
        self.notes = notes
        self.root: Node | None = None
        # Segments: sorted start bytes and, for each, what holds from there on.
        self.seg_starts: list[int] = []
        self.seg_report: list[str] = []  # qualname references are reported under
        self.seg_bind: list[_Scope | None] = []  # where a name bound here goes (None: module level)
        self.seg_group: list[int] = []  # index into self.groups
        self.groups: list[tuple[str, _Scope | None, str | None]] = []  # (report, lookup scope, kind region)
        self.bound_names: list[bytes] = []  # each local.definition capture's name (set by _bindings)
        self.bound_ends: list[int] = []  # and its end byte
        self.padded = source + b"\0\0"  # the source with bytes past every node end, never part of a chain

    # ----------------------------------------------------------------------------------------- driver

    def run(self) -> FileFacts:
        src = self.src
        tree = _parser().parse(src)
        root = self.root = tree.root_node
        query, kinds = _query()
        buckets: list[list[Captures]] = [[] for _ in range(_K_IGNORED + 1)]
        add_to = [buckets[kind].append for kind in kinds]  # pattern index -> its bucket's append
        cursor = QueryCursor(query)
        # Tree-sitter's query cursor slows to a crawl below a depth of 65535 (a 100 000-term `a + a + ...`
        # or `a.b.b.b...`); real code never nests anywhere near this deep.
        cursor.set_max_start_depth(_MAX_QUERY_DEPTH)
        for pattern, captures in cursor.matches(root):
            add_to[pattern](captures)

        defs = self._definitions(buckets[_K_FUNCTION], buckets[_K_CLASS], buckets[_K_DECORATED])
        self._segments(defs, buckets)
        targets = self._bindings(defs, buckets)
        imports = self._imports(buckets[_K_IMPORT])
        constants = self._constants(buckets[_K_CONSTANT], defs)

        module_others = {d.name.encode("utf-8") for d in defs if d.parent is None}
        module_others.update(i.bound_name.encode("utf-8") for i in imports if i.bound_name and not i.scope)
        module_names = module_others | {c.definition.name.encode("utf-8") for c in constants if c.owner is None}
        module_names.update(i.bound_name.encode("utf-8") for i in imports if i.bound_name)
        references, bindings = self._references(buckets, targets, module_names, module_others, defs, constants)

        dunder_all = self._dunder_all(constants, buckets[_K_ALL_EXTEND])
        plugins = self._pytest_plugins(constants)
        module_requests = self._pytest(defs, constants, imports)
        definitions = self._build(defs, constants)
        return FileFacts(
            path=self.path,
            language=LANGUAGE,
            line_count=self.line_count,
            definitions=definitions,
            imports=tuple(imports),
            references=references,
            dunder_all=dunder_all,
            syntax_errors=_syntax_errors(root) if root.has_error else (),
            module_fixture_requests=module_requests,
            notes=tuple(self.notes),
            bindings=bindings,
            pytest_plugins=plugins,
        )

    def _segment(self, position: int) -> int:
        return bisect_right(self.seg_starts, position) - 1

    def _collapsed(
        self, start: int, end: int, node: Node | None = None, limit: int = 0, errors: str | None = None
    ) -> str:
        """Source text with whitespace runs collapsed to one space, comments under ``node`` cut out first.
        With ``limit``, about that many characters are wanted, so a long range is read from its start."""
        if limit and end - start > 8 * limit:
            # The cut may split a UTF-8 sequence: that prefix is decoded with replacement.
            short = self._collapsed(start, start + 8 * limit, node, errors="replace")
            if len(short) > limit:
                return short[:limit]
        raw = self.src[start:end]
        if node is not None and b"#" in raw:
            cuts = _comment_ranges(node, start, end)
            if cuts:
                pieces, at = [], start
                for cut_start, cut_end in cuts:
                    pieces.append(self.src[at:cut_start])
                    at = cut_end
                pieces.append(self.src[at:end])
                raw = b" ".join(pieces)
        return b" ".join(raw.split()).decode("utf-8", errors or self.errors)

    # ------------------------------------------------------------------------------------ definitions

    def _definitions(self, functions: list[Captures], classes: list[Captures], decorated: list[Captures]) -> list[_Def]:
        src = self.src
        errors = self.errors
        by_start: dict[int, _Def] = {}
        defs: list[_Def] = []
        for captures in functions:
            node = captures["definition.function"][0]
            name = captures["name"][0]
            parameters = captures["definition.parameters"][0]
            d = _Def(
                node,
                False,
                src[name.start_byte : name.end_byte].decode("utf-8", errors),
                captures["definition.body"][0],
            )
            d.parameters = parameters
            header_end = parameters.end_byte
            if src.find(b"->", header_end, d.body_start) >= 0:
                returns = node.child_by_field_name("return_type")
                if returns is not None:
                    header_end = returns.end_byte
                    d.returns = _type_chain(src[returns.start_byte : header_end], errors)
            colon = src.find(b":", header_end, d.body_start)
            d.header_end = colon if colon >= 0 else header_end
            defs.append(d)
            by_start[d.start] = d
        for captures in classes:
            node = captures["definition.class"][0]
            name = captures["name"][0]
            d = _Def(
                node, True, src[name.start_byte : name.end_byte].decode("utf-8", errors), captures["definition.body"][0]
            )
            header_end = name.end_byte
            if src[header_end : header_end + 64].lstrip()[:1] in (b"(", b"[", b"\\"):  # bases or type parameters
                extra = node.child_by_field_name("type_parameters")
                if extra is not None:
                    header_end = extra.end_byte
                supers = node.child_by_field_name("superclasses")
                if supers is not None:
                    d.superclasses = supers
                    header_end = supers.end_byte
            colon = src.find(b":", header_end, d.body_start)
            d.header_end = colon if colon >= 0 else header_end
            defs.append(d)
            by_start[d.start] = d
        for captures in decorated:
            d = by_start.get(captures["definition.decorated"][0].start_byte)
            if d is not None:
                outer = captures["definition.decorated_definition"][0]
                d.start = outer.start_byte
                # Read from the node, not the quantified capture: a comment between two decorators splits
                # `(decorator)+` into runs, and a match would hold only one of them.
                d.decorators = [c for c in outer.children if c.type == "decorator"]
        defs.sort(key=_start_of)  # two definitions never start at the same byte

        stack: list[_Def] = []
        for d in defs:
            while stack and stack[-1].end <= d.start:
                stack.pop()
            if stack:
                parent = d.parent = stack[-1]
                d.qualname = f"{parent.qualname}.{d.name}"
                if parent.is_class and not d.is_class:
                    if not parent.method_names:
                        parent.method_names = set()
                    parent.method_names.add(d.name)  # type: ignore[union-attr]
            stack.append(d)
        return defs

    # --------------------------------------------------------------------------------------- segments

    def _segments(self, defs: list[_Def], buckets: list[list[Captures]]) -> None:
        """Flatten the nested ranges that decide scope and kind into sorted segments.

        A definition's range runs from its first decorator to its end: its decorators, bases, defaults and
        annotations are reported under it and its parameters bind in it. A state is (report qualname,
        lookup scope, binding scope, kind region, group): the lookup scope filters references, the
        binding scope receives bound names and the group is what references are deduplicated by.
        """
        # (start, -end, rank, index): at equal ranges a definition comes before a region, a region before
        # a lambda or a comprehension.
        ranges: list[tuple[int, int, int, int]] = []
        payloads: list[Any] = []
        add = ranges.append
        keep = payloads.append
        for d in defs:
            add((d.start, -d.end, 0, len(payloads)))
            keep(d)
            for decorator in d.decorators:
                add((decorator.start_byte, -decorator.end_byte, 1, len(payloads)))
                keep(DECORATOR)
            if d.superclasses is not None:
                add((d.superclasses.start_byte, -d.superclasses.end_byte, 1, len(payloads)))
                keep(BASE)
        for kind, capture, region in (
            (_K_ANNOTATION, "reference.annotation", ANNOTATION),
            (_K_DEFAULT, "reference.default", DEFAULT),
            (_K_SCOPE, "local.scope", None),
        ):
            rank = 1 if region is not None else 2
            index = len(payloads)
            payloads.append(region)
            for captures in buckets[kind]:
                node = captures[capture][0]
                add((node.start_byte, -node.end_byte, rank, index))
        ranges.sort()

        group_ids: dict[tuple[str, Any, Any], int] = {("", None, None): 0}
        root: tuple[Any, ...] = ("", None, None, None, 0)
        starts = [0]
        states = [root]
        stack: list[tuple[int, tuple[Any, ...]]] = [(1 << 62, root)]
        top_end = 1 << 62
        for start, negative_end, rank, index in ranges:
            end = -negative_end
            if end <= start:
                continue
            while top_end <= start:
                stack.pop()
                state = stack[-1][1]
                if starts[-1] == top_end:
                    states[-1] = state
                else:
                    starts.append(top_end)
                    states.append(state)
                top_end = stack[-1][0]
            parent = stack[-1][1]
            if rank == 0:  # a definition: a scope of its own
                d = payloads[index]
                d.enclosing = parent[2]
                scope = d.scope = _Scope(parent[1], d.is_class)
                report = d.qualname
                region = None
            elif rank == 1:  # a region giving references a kind
                report, scope = parent[0], parent[1]
                region = payloads[index]
            else:  # a lambda or a comprehension
                report = parent[0]
                scope = _Scope(parent[1], False)
                region = parent[3]
            key = (report, scope, region)
            group = group_ids.get(key)
            if group is None:
                group = group_ids[key] = len(group_ids)
            state = (report, scope, scope if rank != 1 else parent[2], region, group)
            stack.append((end, state))
            top_end = end
            if starts[-1] == start:
                states[-1] = state
            else:
                starts.append(start)
                states.append(state)
        while len(stack) > 1:
            closed = stack.pop()[0]
            state = stack[-1][1]
            if starts[-1] == closed:
                states[-1] = state
            else:
                starts.append(closed)
                states.append(state)

        self.groups = list(group_ids)
        self.seg_starts = starts
        self.seg_report = [s[0] for s in states]
        self.seg_bind = [s[2] for s in states]
        self.seg_group = [s[4] for s in states]

    # --------------------------------------------------------------------------------------- bindings

    def _bindings(self, defs: list[_Def], buckets: list[list[Captures]]) -> set[int]:
        """Record bound names in their scopes; return the start bytes of `as` targets (which the query
        also captured as references)."""
        src = self.src
        starts = self.seg_starts
        bounds = [*starts[1:], 1 << 62]
        binds = self.seg_bind
        for d in defs:  # a nested def or class binds its name in the enclosing scope
            if d.enclosing is not None:
                d.enclosing.names.add(d.name.encode("utf-8"))
        low = high = 0
        scope: _Scope | None = None
        bound_names: list[bytes] = []  # the name of each local.definition capture, in their order
        keep_name = bound_names.append
        bound_ends: list[int] = []  # and where it ends
        keep_end = bound_ends.append
        for captures in buckets[_K_BIND]:
            node = captures["local.definition"][0]
            start = node.start_byte
            if not low <= start < high:
                index = bisect_right(starts, start) - 1
                low = starts[index]
                high = bounds[index]
                scope = binds[index]
            end = node.end_byte
            name = src[start:end]
            keep_name(name)
            keep_end(end)
            if scope is not None:
                scope.names.add(name)
        self.bound_names = bound_names
        self.bound_ends = bound_ends
        targets: set[int] = set()
        for captures in buckets[_K_TARGET]:
            node = captures["local.definition.target"][0]
            start = node.start_byte
            targets.add(start)
            target_scope = binds[bisect_right(starts, start) - 1]
            if target_scope is not None:
                target_scope.names.add(src[start : node.end_byte])
        for captures in buckets[_K_GLOBAL]:
            node = captures["local.global"][0]
            start = node.start_byte
            global_scope = binds[bisect_right(starts, start) - 1]
            if global_scope is not None:
                global_scope.globals.add(src[start : node.end_byte])
        return targets

    # ------------------------------------------------------------------------------------- references

    def _references(
        self,
        buckets: list[list[Captures]],
        targets: set[int],
        module_names: set[bytes],
        module_others: set[bytes],
        defs: list[_Def],
        constants: list[_Constant],
    ) -> tuple[tuple[Reference, ...], tuple[Binding, ...]]:
        # The hot loop: one pass over every expression identifier, in document order. Local and builtin
        # names are dropped first (before reading the chain), then references are keyed by (segment group,
        # chain bytes, called?); only the distinct keys are decoded afterwards. A local followed by a dot
        # (`x.attr`) is set aside: it is kept afterwards if `x` has a typed binding (see _typed_bindings).
        # `self.attr` followed by what may be an assignment is set aside for the attribute bindings.
        padded = self.padded
        starts = self.seg_starts
        bounds = [*starts[1:], 1 << 62]
        group_of = self.seg_group
        groups = self.groups
        visible = [_visible(scope) for _report, scope, _region in groups]
        # In the module body and class bodies each statement may be a constant or field of its own, which
        # owns its uses (`A = make(1)`, `B = make(2)`): there, uses are kept once per line, not per scope.
        per_line = [scope is None or scope.is_class for _report, scope, _region in groups]
        dropped = _IMPLICIT - module_names
        chain_match = _CHAIN.match
        followers = _CHAIN_FOLLOWERS
        # (group, chain bytes, called?) -> the first node.
        seen: dict[tuple[int, bytes, bool, int], Node] = {}
        deferred: list[Node] = []  # locals followed by a dot
        defer = deferred.append
        deferred_names: list[bytes] = []  # their names
        defer_name = deferred_names.append
        self_sites: list[tuple[Node, int, int]] = []  # (`self` node, chain end, first byte after spaces)
        assign_bytes = _ASSIGN_BYTES
        low = high = 0
        group = 0
        local = visible[0]
        for captures in buckets[_K_REF]:
            node = captures["reference.name"][0]
            start = node.start_byte
            if not low <= start < high:
                index = bisect_right(starts, start) - 1
                low = starts[index]
                high = bounds[index]
                group = group_of[index]
                local = visible[group]
            name_end = end = node.end_byte
            name = padded[start:name_end]
            if name in dropped:
                if name == b"super" and padded[name_end:name_end + 2] == b"()":
                    # `super().save()`: reported as the chain ("super", "save") for the linker
                    found = chain_match(padded, name_end + 2)
                    if found is not None:
                        end = found.end()
                        key = (group, b"super" + padded[name_end + 2:end], padded[end] == _OPEN_PAREN,
                               node.start_point[0] if per_line[group] else -1)
                        if key not in seen:
                            seen[key] = node
                continue  # a builtin the file does not rebind
            bound = local is not None and name in local
            if bound and name not in _SELF_NAMES:
                if padded[name_end] == 46:  # `x.`: kept if x turns out to have a typed binding
                    defer(node)
                    defer_name(name)
                continue  # a local name: parameter, assignment target, loop variable...
            follower = padded[end]
            if follower in followers:
                found = chain_match(padded, end)
                if found is not None:
                    end = found.end()
                    follower = padded[end]
            if bound and end == name_end:
                continue  # `self` alone
            if follower == _OPEN_PAREN:
                called = True
            elif follower == 32 or follower == 9:
                after = end + 1
                while padded[after] in (32, 9):
                    after += 1
                called = padded[after] == _OPEN_PAREN
                if bound and not called and padded[after] in assign_bytes and name == b"self":
                    self_sites.append((node, end, after))
            else:
                called = False
                if bound and follower in assign_bytes and name == b"self":
                    self_sites.append((node, end, end))
            key = (group, name if end == name_end else padded[start:end], called,
                   node.start_point[0] if per_line[group] else -1)
            if key not in seen and start not in targets:
                seen[key] = node

        bindings, keep = self._typed_bindings(
            defs, constants, buckets, set(deferred_names), self_sites, module_others, dropped)
        if keep and deferred:
            self._kept_references(deferred, deferred_names, keep, seen, targets)

        errors = self.errors
        lines: dict[tuple[str, tuple[str, ...], str, int], int] = {}
        for (group, raw, called, row), node in seen.items():
            report, _scope, region = groups[group]
            if b"." in raw:
                chain = tuple(raw.translate(None, _WS_BYTES).decode("utf-8", errors).split("."))
            else:
                chain = (raw.decode("utf-8", errors),)
            identity = (report, chain, region or (CALL if called else NAME), row)
            line = node.start_point[0] + 1
            known = lines.get(identity)
            if known is None or line < known:
                lines[identity] = line

        outer_end = -1
        for captures in buckets[_K_ANNOTATION]:  # names inside string annotations: `"Invoice"`, `list["Invoice"]`
            node = captures["reference.annotation"][0]
            if node.start_byte < outer_end:
                continue  # a `type` inside an annotation already read (`Literal["x"]` holds one)
            outer_end = node.end_byte
            text = self.src[node.start_byte : outer_end]
            if b'"' in text or b"'" in text:
                self._string_annotation(node, lines, visible, dropped)

        references = [_new_reference(scope, chain, kind, line)
                      for (scope, chain, kind, _row), line in lines.items()]
        references.sort(key=_line_of)
        return tuple(references), bindings

    # --------------------------------------------------------------------------------- typed bindings

    def _typed_bindings(
        self,
        defs: list[_Def],
        constants: list[_Constant],
        buckets: list[list[Captures]],
        dotted: set[bytes],
        self_sites: list[tuple[Node, int, int]],
        module_others: set[bytes],
        dropped: frozenset[bytes],
    ) -> tuple[tuple[Binding, ...], dict[_Scope, set[bytes]]]:
        """Names whose type the source states, and for each function scope the names it binds so.

        Candidates are gathered cheaply: module- and class-level assignments from the constants, function
        locals only for names read as `x.attr` (``dotted``), attributes from `self.attr` followed by an
        assignment operator. Then every binding site of a candidate's name in the same scope is read: a
        site of unknown type (`x = f() + 1`, a loop target, an unannotated parameter...) drops the name
        from that scope; `x = None` is compatible with any stated type.
        """
        src = self.src
        errors = self.errors
        # (scope, name) -> [(scope qualname, line, how, chain)]; scope: a function's or class's _Scope, or
        # None for the module. Attributes set through `self` go to their class's scope.
        typed: dict[tuple[_Scope | None, bytes], list[tuple[str, int, str, tuple[str, ...]]]] = {}
        spoiled: set[tuple[_Scope | None, bytes]] = set()

        def add(key: tuple[_Scope | None, bytes], report: str, line: int, how: str, chain: tuple[str, ...]) -> None:
            if how != BINDING_CALL and chain[0].encode("utf-8") in dropped:
                spoiled.add(key)  # a builtin (`x: int`): nothing in the repository
                return
            found = typed.get(key)
            if found is None:
                typed[key] = [(report, line, how, chain)]
            else:
                found.append((report, line, how, chain))

        # Module- and class-level assignments (every one of them is a constant).
        stated = [c for c in constants if c.typed is not None and c.typed is not _NEUTRAL]
        if stated:
            for c in stated:
                how, chain = c.typed  # type: ignore[misc]
                owner = c.owner
                key = (owner.scope if owner is not None else None, c.definition.name.encode("utf-8"))
                if how == BINDING_CALL and chain[0].encode("utf-8") in dropped:
                    spoiled.add(key)  # `X = dict(...)`
                    continue
                add(key, owner.qualname if owner is not None else "", c.definition.span.start_line, how, chain)
            names = {key[1] for key in typed}
            for c in constants:
                if c.typed is None:
                    name = c.definition.name.encode("utf-8")
                    if name in names:
                        owner = c.owner
                        spoiled.add((owner.scope if owner is not None else None, name))
            for name in names & module_others:  # also a module-level def, class or import
                spoiled.add((None, name))

        # `self.attr = ...` and `self.attr: T` in methods, sorted out by the bytes that follow.
        padded = self.padded
        attribute_sites: list[tuple[Node, int, str]] = []  # (`self`, chain end, how)
        unknown_sites: list[tuple[Node, int]] = []  # assignments to self.attr of unknown type
        copied: set[bytes] = set()  # `self.attr = name`: the names
        for node, end, at in self_sites:
            first = padded[at]
            second = padded[at + 1]
            if first == 61:  # `=`
                if second == 61:
                    continue  # a comparison
                if _RHS_CALL.match(src, at + 1) is not None:
                    kind = BINDING_CALL
                elif _RHS_NONE.match(src, at + 1) is not None:
                    continue  # `self.x = None`: compatible with any stated type
                else:
                    copy = _RHS_NAME.match(src, at + 1)
                    if copy is None:
                        unknown_sites.append((node, end))
                        continue
                    copied.add(copy.group(1))
                    kind = "copy"
            elif first == 58:  # `:`
                if second == 61:
                    continue  # `:=`
                kind = BINDING_ANNOTATION
            elif (second == 61 and first in b"+-*/%&|^@") or (
                    second == first and first in b"/*<>" and padded[at + 2] == 61):
                unknown_sites.append((node, end))  # augmented assignment
                continue
            else:
                continue  # an operator: `self.x < y`, `self.x - 1`
            attribute_sites.append((node, end, kind))

        # Every binding site of a wanted name: parameters, assignments, loop targets, `as` targets...
        wanted = dotted | copied | {key[1] for key in typed}
        if wanted:
            self._local_bindings(wanted, buckets[_K_BIND], typed, spoiled, add, dropped, defs)
            if typed:
                starts = self.seg_starts
                binds = self.seg_bind
                for target in buckets[_K_TARGET]:
                    node = target["local.definition.target"][0]
                    name = src[node.start_byte : node.end_byte]
                    if name in wanted:
                        spoiled.add((binds[bisect_right(starts, node.start_byte) - 1], name))
                for d in defs:  # a nested def or class binds its name in the enclosing function
                    parent = d.parent
                    if parent is not None and not parent.is_class:
                        key = (d.enclosing, d.name.encode("utf-8"))
                        if key in typed:
                            spoiled.add(key)

        if attribute_sites:
            self._attribute_bindings(defs, attribute_sites, unknown_sites, typed, spoiled, add, dropped)

        bindings: list[Binding] = []
        keep: dict[_Scope, set[bytes]] = {}
        for key, entries in typed.items():
            if key in spoiled:
                continue
            scope, name = key
            text = name.decode("utf-8", errors)
            if len(entries) == 1:
                report, line, how, chain = entries[0]
                bindings.append(_new_binding(report, text, chain, line, how))
            else:
                kinds: set[tuple[str, tuple[str, ...]]] = set()
                for report, line, how, chain in entries:
                    if (how, chain) not in kinds:
                        kinds.add((how, chain))
                        bindings.append(_new_binding(report, text, chain, line, how))
            if scope is not None and not scope.is_class:
                names = keep.get(scope)
                if names is None:
                    keep[scope] = {name}
                else:
                    names.add(name)
        bindings.sort(key=_binding_order)
        return tuple(bindings), keep

    def _local_bindings(
        self,
        wanted: set[bytes],
        captures: list[Captures],
        typed: dict[tuple[_Scope | None, bytes], list[tuple[str, int, str, tuple[str, ...]]]],
        spoiled: set[tuple[_Scope | None, bytes]],
        add: Any,
        dropped: frozenset[bytes],
        defs: list[_Def],
    ) -> None:
        """Read the binding sites (local.definition captures) of the wanted names.

        The bytes after a name settle most sites without the tree: followed by `:` it may be annotated, by
        `= Callee(` or `= None` it may be assigned a stated type; anything else (`,` `)` ` in` `= []`...)
        binds it to something of unknown type: an unannotated parameter, a loop or tuple target... Only
        the possible sites of names no such site spoils are read from the tree.
        """
        src = self.src
        padded = self.padded
        bound_names = self.bound_names
        starts = self.seg_starts
        binds = self.seg_bind
        rhs_call = _RHS_CALL.match
        # (capture, the callee's head or b"" for `= None` or None for `:`, callee start, its `(`)
        possible: list[tuple[int, bytes | None, int, int]] = []
        unknown: list[int] = []
        bound_ends = self.bound_ends
        for i in [i for i, name in enumerate(bound_names) if name in wanted]:
            end = bound_ends[i]
            after = padded[end]
            if after == 32:  # `x = ...`, `x : T`
                end += 1
                after = padded[end]
            if after == 58:  # `:`
                possible.append((i, None, 0, 0))
            elif after == 61 and padded[end + 1] != 61:  # `=`
                call = rhs_call(src, end + 1)
                if call is not None:
                    head = call.group(1)
                    if head in dropped:
                        unknown.append(i)  # a builtin: `x = dict(...)`
                    else:
                        possible.append((i, head, call.start(1), call.end() - 1))
                elif _RHS_NONE.match(src, end + 1) is not None:
                    possible.append((i, b"", 0, 0))
                else:
                    unknown.append(i)  # and module- or class-level assignments: read from the constants
            else:
                unknown.append(i)
        if not possible and not typed:
            return
        interesting = {bound_names[entry[0]] for entry in possible} | {key[1] for key in typed}
        for i in unknown:
            name = bound_names[i]
            if name in interesting:
                node = captures[i]["local.definition"][0]
                scope = binds[bisect_right(starts, node.start_byte) - 1]
                if scope is None or scope.is_class:
                    if padded[node.end_byte] in (32, 61, 58) and node.parent.type == "assignment":  # type: ignore[union-attr]
                        continue  # read from the constants
                    spoiled.add((scope, name))
                elif name in scope.globals:
                    spoiled.add((None, name))
                else:
                    spoiled.add((scope, name))
        reports = self.seg_report
        errors = self.errors
        bounds = [*starts[1:], 1 << 62]
        nested: set[bytes] | None = None
        low = high = index = 0
        scope: _Scope | None = None
        for i, head, callee_start, paren in possible:  # in document order
            node = captures[i]["local.definition"][0]
            name = bound_names[i]
            start = node.start_byte
            if not low <= start < high:
                index = bisect_right(starts, start) - 1
                low = starts[index]
                high = bounds[index]
                scope = binds[index]
            if scope is None or scope.is_class:
                continue  # read from the constants
            if name in scope.globals:
                spoiled.add((None, name))
                continue
            key = (scope, name)
            if key in spoiled:
                continue
            parent = node.parent
            kind = parent.type if parent is not None else ""
            if head is not None:  # `x = Callee(...)` or `x = None`: an assignment statement, not a default
                if kind != "assignment":
                    spoiled.add(key)
                    continue
                if not head:
                    continue  # `x = None`
                if head not in interesting and head not in _SELF_NAMES:
                    visible = scope.visible if scope.visible is not None else _visible(scope)
                    if visible is not None and head in visible:
                        if nested is None:
                            nested = {d.name.encode("utf-8") for d in defs if d.parent is not None}
                        if head not in nested:
                            spoiled.add(key)  # `x = line.split()`: called on a local of unknown type
                            continue
                # The call must be the whole value, and call what the bytes read: `x = T(a) + 1`,
                # `x = make(a)(b)` and `x = T(a).attr` are not.
                right = parent.child_by_field_name("right")  # type: ignore[union-attr]
                arguments = right.child_by_field_name("arguments") if right is not None else None
                if arguments is None or arguments.start_byte != paren or right.type != "call":  # type: ignore[union-attr]
                    spoiled.add(key)
                    continue
                chain = tuple(src[callee_start:paren].translate(None, _WS_BYTES).decode("utf-8", errors).split("."))
                add(key, reports[index], node.start_point[0] + 1, BINDING_CALL, chain)
            elif kind in _PARAMETER_TYPES:
                if name in _SELF_NAMES:
                    continue
                annotation = parent.child_by_field_name("type")  # type: ignore[union-attr]
                chain = _type_chain(src[annotation.start_byte : annotation.end_byte], errors) if annotation else ()
                if chain:
                    add(key, reports[index], node.start_point[0] + 1, BINDING_ANNOTATION, chain)
                else:
                    spoiled.add(key)
            elif kind == "assignment":  # the capture is its target: values are not patterns
                stated = self._assignment_type(parent, node, parent.child_by_field_name("right"))  # type: ignore[union-attr]
                if stated is None:
                    spoiled.add(key)
                elif stated is not _NEUTRAL:
                    add(key, reports[index], node.start_point[0] + 1, *stated)  # type: ignore[misc]
            else:
                spoiled.add(key)  # a parameter's default value, a lambda parameter...

    def _attribute_bindings(
        self,
        defs: list[_Def],
        sites: list[tuple[Node, int, str]],
        unknown_sites: list[tuple[Node, int]],
        typed: dict[tuple[_Scope | None, bytes], list[tuple[str, int, str, tuple[str, ...]]]],
        spoiled: set[tuple[_Scope | None, bytes]],
        add: Any,
        dropped: frozenset[bytes],
    ) -> None:
        """`self.attr = T(...)`, `self.attr: T`, `self.attr = param` (param: T) in a method bind attr in the
        method's class; any other assignment to `self.attr` there drops it."""
        src = self.src
        by_qualname = {d.qualname: d for d in defs}
        reports = self.seg_report
        errors = self.errors

        methods: dict[str, _Def | None] = {}

        def method_of(node: Node) -> _Def | None:
            report = reports[self._segment(node.start_byte)]
            if report in methods:
                return methods[report]
            d = by_qualname.get(report)
            while d is not None and not (d.parent is not None and d.parent.is_class and not d.is_class):
                d = d.parent
            methods[report] = d
            return d

        def attribute_of(node: Node, end: int) -> bytes | None:
            chain = src[node.end_byte : end]
            return chain.translate(None, _WS_BYTES)[1:] if chain.count(b".") == 1 else None

        for node, end, kind in sites:
            attr = attribute_of(node, end)
            method = method_of(node) if attr else None
            if method is None:
                continue
            owner = method.parent
            key = (owner.scope, attr)  # type: ignore[union-attr]
            attribute = node.parent
            assignment = attribute.parent if attribute is not None else None
            if (
                assignment is None
                or assignment.type != "assignment"
                or assignment.child_by_field_name("left") != attribute
            ):
                if kind != BINDING_ANNOTATION:
                    spoiled.add(key)  # `self.a = self.b = T()`, `a, self.b = ...`
                continue
            chain: tuple[str, ...] = ()
            if kind == BINDING_ANNOTATION:
                annotation = assignment.child_by_field_name("type")
                if annotation is not None:
                    chain = _type_chain(src[annotation.start_byte : annotation.end_byte], errors)
            elif kind == BINDING_CALL:
                right = assignment.child_by_field_name("right")
                if right is not None and right.type == "call":
                    chain = self._callee(right)
                    if chain and chain[0].encode("utf-8") in dropped:
                        chain = ()
            else:  # a copy of a name: a parameter or local of the method whose type is stated
                right = assignment.child_by_field_name("right")
                if right is not None and right.type == "identifier":
                    local = (method.scope, src[right.start_byte : right.end_byte])
                    entries = typed.get(local) if local not in spoiled else None
                    chains = {entry[3] for entry in entries} if entries else set()
                    if len(chains) == 1:
                        chain = next(iter(chains))
                        if method.scope is not None and chain[0].encode("utf-8") in method.scope.names:
                            chain = ()  # `x = other.make(); self.x = x`: other means nothing in the class
            if chain:
                add(key, owner.qualname, node.start_point[0] + 1, BINDING_ATTRIBUTE, chain)  # type: ignore[union-attr]
            else:
                spoiled.add(key)
        if unknown_sites:
            attributes = {key[1] for key in typed}
            for node, end in unknown_sites:
                attr = attribute_of(node, end)
                if attr in attributes:
                    method = method_of(node)
                    if method is not None:
                        spoiled.add((method.parent.scope, attr))  # type: ignore[union-attr]

    def _kept_references(
        self,
        deferred: list[Node],
        deferred_names: list[bytes],
        keep: dict[_Scope, set[bytes]],
        seen: dict[tuple[int, bytes, bool], Node],
        targets: set[int],
    ) -> None:
        """Report `x.attr` chains whose head `x` is bound with a stated type by the scope that binds it (the
        innermost scope binding x, seen from the reference)."""
        padded = self.padded
        starts = self.seg_starts
        group_of = self.seg_group
        groups = self.groups
        names: set[bytes] = set().union(*keep.values())
        kept_in: dict[int, set[bytes]] = {}
        bounds = [*starts[1:], 1 << 62]
        low = high = group = 0
        kept: set[bytes] = set()
        for i in [i for i, name in enumerate(deferred_names) if name in names]:  # in document order
            node = deferred[i]
            start = node.start_byte
            if not low <= start < high:
                index = bisect_right(starts, start) - 1
                low = starts[index]
                high = bounds[index]
                group = group_of[index]
                scope = groups[group][1]
                found_kept = kept_in.get(id(scope))
                if found_kept is None:
                    found_kept = kept_in[id(scope)] = _kept_names(scope, keep)
                kept = found_kept
            if deferred_names[i] not in kept:
                continue
            name_end = node.end_byte
            found = _CHAIN.match(padded, name_end)
            if found is None:
                continue
            end = found.end()
            after = end
            while padded[after] in (32, 9):
                after += 1
            row = node.start_point[0] if scope is None or scope.is_class else -1  # as in _references
            key = (group, padded[start:end], padded[after] == _OPEN_PAREN, row)
            if key not in seen and start not in targets:
                seen[key] = node

    def _string_annotation(
        self,
        annotation: Node,
        lines: dict[tuple[str, tuple[str, ...], str, int], int],
        visible: list[frozenset[bytes] | None],
        dropped: frozenset[bytes],
    ) -> None:
        group = self.seg_group[self._segment(annotation.start_byte)]
        report = self.groups[group][0]
        local = visible[group]
        for string_node in _strings_in_annotation(annotation):
            content = _string_content(string_node, self.src)
            if content is None:
                continue
            first_line = string_node.start_point[0] + 1
            for raw, row in _expression_chains(content, depth=0):
                head = raw.split(b".", 1)[0]
                if head in dropped or (local is not None and head in local):
                    continue
                chain = tuple(raw.decode("utf-8", self.errors).split("."))
                identity = (report, chain, ANNOTATION, -1)
                line = first_line + row
                known = lines.get(identity)
                if known is None or line < known:
                    lines[identity] = line

    # ---------------------------------------------------------------------------------------- imports

    def _imports(self, matches: list[Captures]) -> list[Import]:
        src = self.src
        guarded = self._type_checking_blocks()
        found: list[tuple[int, Import]] = []
        for captures in matches:
            start = captures["reference.import"][0].start_byte
            scope = self.seg_report[self._segment(start)]
            checking = any(s <= start < e for s, e in guarded) if guarded else False
            alias_nodes = captures.get("import.alias")
            alias = self._dotted(alias_nodes[0]) if alias_nodes else None
            module_nodes = captures.get("import.module")
            if module_nodes:
                node = module_nodes[0]
                item = _new_import(
                    module=self._dotted(node),
                    name=None,
                    alias=alias,
                    line=node.start_point[0] + 1,
                    scope=scope,
                    type_checking=checking,
                )
                found.append((node.start_byte, item))
                continue
            origin = captures["import.from"][0]
            level = 0
            module = ""
            if origin.type == "relative_import":
                for child in origin.named_children:
                    if child.type == "import_prefix":
                        level = src.count(b".", child.start_byte, child.end_byte)
                    elif child.type == "dotted_name":
                        module = self._dotted(child)
            else:
                module = self._dotted(origin)
            star = captures.get("import.star")
            if star:
                node, name = star[0], "*"
            else:
                node = captures["import.name"][0]
                name = self._dotted(node)
            item = _new_import(
                module=module,
                name=name,
                alias=alias,
                line=node.start_point[0] + 1,
                level=level,
                scope=scope,
                type_checking=checking,
            )
            found.append((node.start_byte, item))
        found.sort(key=itemgetter(0))
        return [item for _, item in found]

    def _dotted(self, node: Node) -> str:
        return self.src[node.start_byte : node.end_byte].translate(None, _WS_BYTES).decode("utf-8", self.errors)

    def _type_checking_blocks(self) -> list[tuple[int, int]]:
        """Byte ranges of the bodies of `if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:` (and `elif`)."""
        src = self.src
        blocks: list[tuple[int, int]] = []
        at = src.find(b"TYPE_CHECKING")
        while at >= 0:
            node = self.root.descendant_for_byte_range(at, at + 13) if self.root is not None else None
            if node is not None and node.type == "identifier" and node.byte_range == (at, at + 13):
                condition = node
                parent = node.parent
                if (
                    parent is not None
                    and parent.type == "attribute"
                    and parent.child_by_field_name("attribute") == node
                ):
                    condition = parent
                    parent = parent.parent
                if parent is not None and parent.type in ("if_statement", "elif_clause"):
                    if parent.child_by_field_name("condition") == condition:
                        body = parent.child_by_field_name("consequence")
                        if body is not None:
                            blocks.append((body.start_byte, body.end_byte))
            at = src.find(b"TYPE_CHECKING", at + 13)
        return blocks

    # -------------------------------------------------------------------------------------- constants

    def _constants(self, matches: list[Captures], defs: list[_Def]) -> list[_Constant]:
        """Module- and class-level assignment targets (`X = 1`, `A = B = 1`, `a, b = ...`, `x: int`), also
        inside `if`, `try`, `with`, `for`, `while` and `match` blocks of the module or a class body."""
        found: list[tuple[Node, Node | None, _Def | None]] = [
            (captures["definition.constant"][0], captures["name"][0], None) for captures in matches
        ]
        if self.root is not None:
            for child in self.root.children:
                if child.type in _NESTED_STATEMENTS:
                    found.extend((a, None, None) for a in _assignments_in(child))
        for d in defs:
            if d.is_class and d.body is not None:
                found.extend((a, None, d) for a in _assignments_in(d.body))

        src = self.src
        constants: list[_Constant] = []
        for assignment, first_target, owner in found:
            start = assignment.start_byte
            parent = owner.qualname if owner is not None else None
            span = _new_span(assignment.start_point[0] + 1, _end_line(assignment))
            signature = self._collapsed(start, assignment.end_byte, assignment, SIGNATURE_LIMIT)[:SIGNATURE_LIMIT]
            left = first_target or assignment.child_by_field_name("left")
            targets = _target_identifiers(left) if left is not None else []
            value = assignment.child_by_field_name("right")
            while value is not None and value.type == "assignment":
                left = value.child_by_field_name("left")
                if left is not None:
                    targets.extend(_target_identifiers(left))
                value = value.child_by_field_name("right")
            typed = None
            if len(targets) == 1 and left is targets[0]:  # one plain name
                annotated = src.find(b":", left.end_byte, left.end_byte + 2) >= 0
                if annotated or value is None or value.type in ("call", "none"):
                    typed = self._assignment_type(assignment, left, value)
            for target in targets:
                name = src[target.start_byte : target.end_byte].decode("utf-8", self.errors)
                definition = _new_definition(
                    qualname=f"{parent}.{name}" if parent else name,
                    kind=CONSTANT,
                    span=span,
                    contract=span,
                    signature=signature,
                    parent=parent,
                )
                constant = _Constant(start, definition, value, owner)
                constant.typed = typed
                constants.append(constant)
        return constants

    def _assignment_type(
        self, assignment: Node, left: Node | None, value: Node | None
    ) -> tuple[str, tuple[str, ...]] | str | None:
        """What an assignment to one plain name says of its type: (how, chain), _NEUTRAL or None."""
        if left is None or left.type != "identifier":
            return None
        src = self.src
        at = left.end_byte
        while src[at : at + 1] in (b" ", b"\t"):
            at += 1
        if src[at : at + 1] == b":":
            annotation = assignment.child_by_field_name("type")
            if annotation is None:
                return None
            chain = _type_chain(src[annotation.start_byte : annotation.end_byte], self.errors)
            return (BINDING_ANNOTATION, chain) if chain else None
        if value is None:
            return None
        kind = value.type
        if kind == "call":
            chain = self._callee(value)
            return (BINDING_CALL, chain) if chain else None
        return _NEUTRAL if kind == "none" else None

    def _callee(self, call: Node) -> tuple[str, ...]:
        """The dotted chain a call calls (`T`, `mod.T`), or () when it calls anything else."""
        function = call.child_by_field_name("function")
        if function is None or function.type not in ("identifier", "attribute"):
            return ()
        text = self.src[function.start_byte : function.end_byte].translate(None, _WS_BYTES)
        if b"#" in text or _DOTTED.fullmatch(text) is None:
            return ()
        return tuple(text.decode("utf-8", self.errors).split("."))

    def _pytest_plugins(self, constants: list[_Constant]) -> tuple[str, ...]:
        """`pytest_plugins = ["a.b", "c"]` (or a tuple, or one string) at module level."""
        for c in constants:
            if c.owner is None and c.definition.qualname == "pytest_plugins" and c.value is not None:
                if c.value.type == "string":
                    value = _literal(c.value, self.src)
                    return (value,) if isinstance(value, str) else ()
                names = _string_list(c.value, self.src)
                return tuple(names) if names else ()
        return ()

    def _dunder_all(self, constants: list[_Constant], extends: list[Captures]) -> tuple[str, ...] | None:
        """`__all__` as a literal list or tuple of strings, following `+=`, `.extend`, `.append` and `.remove`
        at module level in source order; None when there is none or it cannot be read."""
        events: list[tuple[int, str, Node | None]] = [
            (c.start, "=", c.value) for c in constants if c.owner is None and c.definition.qualname == "__all__"
        ]
        if not events:
            return None
        for captures in extends:
            value = captures["dunder_all.extend"][0]
            events.append((value.start_byte, "+=", value))
        src = self.src
        for found in _ALL_METHOD.finditer(src):
            node = self.root.descendant_for_byte_range(found.start(), found.start() + 7) if self.root else None
            attribute = node.parent if node is not None and node.type == "identifier" else None
            call = attribute.parent if attribute is not None and attribute.type == "attribute" else None
            if call is None or call.type != "call" or call.parent is None:
                continue
            if call.parent.type not in ("module", "block"):
                continue  # not a statement of its own
            method = attribute.child_by_field_name("attribute")
            name = src[method.start_byte : method.end_byte].decode("ascii", "replace") if method else ""
            events.append((call.start_byte, name, call.child_by_field_name("arguments")))
        events.sort(key=itemgetter(0))
        names: list[str] | None = None
        assigned = False
        for start, op, value in events:
            if op != "=" and (not assigned or self.seg_bind[self._segment(start)] is not None):
                continue  # before any assignment, or not at module level
            if op == "=":
                names = _string_list(value, src)
                assigned = True
            elif names is None:
                continue
            elif op in ("+=", "extend"):
                argument = value if op == "+=" else _single_argument(value)
                extra = _string_list(argument, src)
                names = None if extra is None else names + extra
            else:
                argument = _single_argument(value)
                item = _literal(argument, src) if argument is not None and argument.type == "string" else None
                if not isinstance(item, str):
                    names = None
                elif op == "append":
                    names = [*names, item]
                else:
                    names = [n for n in names if n != item]
        return tuple(names) if names is not None else None

    # ----------------------------------------------------------------------------------------- pytest

    def _pytest(self, defs: list[_Def], constants: list[_Constant], imports: list[Import]) -> tuple[str, ...]:
        """Mark tests and fixtures on the definitions; return the module's `pytestmark` usefixtures."""
        src = self.src
        fixture_callees = {f"{module}.fixture" for module in _FIXTURE_MODULES}
        mark_prefixes = ["pytest.mark."]
        for item in imports:
            bound = item.bound_name
            if bound is None or item.level:
                continue
            if item.name is None and item.module in _FIXTURE_MODULES:
                fixture_callees.add(f"{bound}.fixture")
                if item.module == "pytest":
                    mark_prefixes.append(f"{bound}.mark.")
            elif item.module in _FIXTURE_MODULES and item.name == "fixture":
                fixture_callees.add(bound)
            elif item.module == "pytest" and item.name == "mark":
                mark_prefixes.append(f"{bound}.")

        def read_marks(expressions: list[Node]) -> _Marks:
            marks = _Marks()
            for expression in expressions:
                callee, arguments = _call_parts(expression, src)
                prefix = next((p for p in mark_prefixes if callee.startswith(p)), None)
                if prefix is None:
                    continue
                mark = callee[len(prefix) :]
                positional, keywords = _arguments(arguments)
                if mark == "usefixtures":
                    for argument in positional:
                        value = _literal(argument, src) if argument.type == "string" else None
                        if isinstance(value, str) and value not in marks.usefixtures:
                            marks.usefixtures.append(value)
                elif mark == "parametrize":
                    value = _literal(positional[0] if positional else keywords.get("argnames"), src)
                    if isinstance(value, str):
                        marks.parametrized.update(n.strip() for n in value.split(",") if n.strip())
                    elif isinstance(value, (list, tuple)):
                        marks.parametrized.update(n for n in value if isinstance(n, str))
            return marks

        module_marks: list[Node] = []
        class_marks: dict[int, list[Node]] = {}
        for constant in constants:
            if constant.definition.name != "pytestmark" or constant.value is None:
                continue
            value = constant.value
            expressions = (
                [c for c in value.named_children if c.type != "comment"] if value.type in ("list", "tuple") else [value]
            )
            if constant.owner is None:
                module_marks.extend(expressions)
            else:
                class_marks.setdefault(id(constant.owner), []).extend(expressions)

        for d in defs:
            if d.is_class:
                own = class_marks.get(id(d))
                if not (d.decorators or own or d.name.startswith("Test")):
                    continue
                expressions = [e for e in map(_decorator_expression, d.decorators) if e is not None]
                d.marks = read_marks(expressions + (own or []))
                parent = d.parent
                d.is_test = (
                    d.name.startswith("Test")
                    and "__init__" not in d.method_names
                    and (parent is None or (parent.is_class and parent.is_test))
                )
                continue
            if not d.decorators and not d.name.startswith("test"):
                continue
            expressions = [e for e in map(_decorator_expression, d.decorators) if e is not None]
            for expression in expressions:
                callee, arguments = _call_parts(expression, src)
                if callee in fixture_callees:
                    keywords = _arguments(arguments)[1]
                    name = _literal(keywords.get("name"), src)
                    scope = _literal(keywords.get("scope"), src)
                    d.fixture = FixtureInfo(
                        name=name if isinstance(name, str) and name else d.name,
                        autouse=_literal(keywords.get("autouse"), src) is True,
                        scope=scope if isinstance(scope, str) and scope else "function",
                    )
                    break
            if d.fixture is None and d.name.startswith("test"):
                parent = d.parent
                d.is_test = parent is None or (parent.is_class and parent.is_test)
            if d.is_test or d.fixture is not None:
                d.marks = read_marks(expressions)

        requests: list[str] = []
        for name in read_marks(module_marks).usefixtures:
            if name not in requests:
                requests.append(name)
        return tuple(requests)

    def _fixture_requests(self, d: _Def) -> tuple[tuple[str, str], ...]:
        if d.is_class:
            if d.marks is None:
                return ()
            return tuple((name, FIXTURE_USEFIXTURES) for name in d.marks.usefixtures)
        if not (d.is_test or d.fixture is not None):
            return ()
        own = d.marks or _Marks()
        parent = d.parent
        inherited = parent.marks if d.is_test and parent is not None and parent.is_class else None
        parametrized = own.parametrized | inherited.parametrized if inherited is not None else own.parametrized
        requests: list[tuple[str, str]] = []
        for name in _plain_parameters(d.parameters, self.src, self.errors):
            item = (name, FIXTURE_PARAM)
            if name not in ("self", "cls") and name not in parametrized and item not in requests:
                requests.append(item)
        for name in [*own.usefixtures, *(inherited.usefixtures if inherited is not None else ())]:
            item = (name, FIXTURE_USEFIXTURES)
            if item not in requests:
                requests.append(item)
        return tuple(requests)

    # --------------------------------------------------------------------------------------- assembly

    def _build(self, defs: list[_Def], constants: list[_Constant]) -> tuple[Definition, ...]:
        src = self.src
        errors = self.errors
        built: list[tuple[int, int, Definition]] = []
        for order, d in enumerate(defs):
            node = d.node
            parent = d.parent
            start_row = node.start_point[0]
            end_row, end_column = node.end_point
            end_line = end_row if end_column == 0 and end_row > start_row else end_row + 1
            first_line = d.decorators[0].start_point[0] + 1 if d.decorators else start_row + 1
            header_line = start_row + 1 + src.count(b"\n", node.start_byte, d.header_end)
            bases: tuple[str, ...] = ()
            if d.is_class:
                kind = CLASS
                if d.superclasses is not None:
                    bases = tuple(
                        self._collapsed(c.start_byte, c.end_byte, c)
                        for c in d.superclasses.named_children
                        if c.type != "comment"
                    )
            elif parent is not None and parent.is_class:
                kind = METHOD
            else:
                kind = FUNCTION
            decorators: tuple[str, ...] = ()
            if d.decorators:
                decorators = tuple(
                    self._collapsed(n.start_byte, n.end_byte, n).removeprefix("@").lstrip() for n in d.decorators
                )
            header = src[node.start_byte : d.header_end]
            if b"#" in header:
                signature = self._collapsed(node.start_byte, d.header_end, node)
            else:
                signature = b" ".join(header.split()).decode("utf-8", errors)
            built.append(
                (
                    d.start,
                    order,
                    _new_definition(
                        qualname=d.qualname,
                        kind=kind,
                        span=_new_span(first_line, end_line),
                        contract=_new_span(first_line, header_line),
                        signature=signature,
                        decorators=decorators,
                        parent=parent.qualname if parent is not None else None,
                        is_async=header.startswith(b"async"),
                        is_test=d.is_test,
                        fixture=d.fixture,
                        fixture_requests=self._fixture_requests(d) if d.marks is not None or d.is_test else (),
                        bases=bases,
                        returns=d.returns,
                    ),
                )
            )
        if constants:
            offset = len(built)
            built.extend((c.start, offset + order, c.definition) for order, c in enumerate(constants))
            built.sort(key=itemgetter(0, 1))
        return tuple([item[2] for item in built])


# ------------------------------------------------------------------------------------------ node helpers


_line_of = attrgetter("line")
_binding_order = attrgetter("line", "scope", "name")


def _kept_names(scope: _Scope | None, keep: dict[_Scope, set[bytes]]) -> set[bytes]:
    """Names with a stated type seen from ``scope``: bound so by the innermost scope that binds them."""
    chain: list[_Scope] = []
    while scope is not None:
        chain.append(scope)
        scope = scope.parent
    kept: set[bytes] = set()
    for index, current in enumerate(chain):
        for name in keep.get(current, ()):
            if name not in current.globals and not any(name in inner.names for inner in chain[:index]):
                kept.add(name)
    return kept


def _type_chain(text: bytes, errors: str, depth: int = 0) -> tuple[str, ...]:
    """The class an annotation names as a dotted chain: `T`, `mod.T`, `T | None`, `Optional[T]`,
    `Union[T, None]`, `"T"`; () for anything else (generics, unions of classes, `None`)."""
    text = text.translate(None, _WS_BYTES)
    if depth > 3 or not text or b"#" in text:
        return ()
    if _DOTTED.fullmatch(text) is not None:
        return () if text == b"None" else tuple(text.decode("utf-8", errors).split("."))
    first = text[:1]
    if first in (b'"', b"'") and len(text) > 1 and text[-1:] == first:
        return _type_chain(text[1:-1], errors, depth + 1)
    wrapper = _TYPE_WRAPPER.fullmatch(text)
    if wrapper is not None:
        arguments = wrapper.group(2).split(b",")
        if wrapper.group(1) == b"Optional":
            return _type_chain(arguments[0], errors, depth + 1) if len(arguments) == 1 else ()
        others = [a for a in arguments if a != b"None"]
        return _type_chain(others[0], errors, depth + 1) if len(arguments) == 2 and len(others) == 1 else ()
    if b"|" in text and b"[" not in text:
        others = [a for a in text.split(b"|") if a != b"None"]
        if len(others) == 1 and text.count(b"|") == 1:
            return _type_chain(others[0], errors, depth + 1)
    return ()
_start_of = attrgetter("start")


def _end_line(node: Node) -> int:
    row, column = node.end_point
    if column == 0 and row > node.start_point[0]:
        return row  # the node ends with a newline: its last line is the previous one
    return row + 1


def _syntax_errors(root: Node) -> tuple[int, ...]:
    """Lines where tree-sitter inserted an ERROR or a MISSING node, walking only subtrees with errors."""
    lines: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            lines.add(node.start_point[0] + 1)
        for child in node.children:
            if child.has_error or child.is_missing:
                stack.append(child)
    return tuple(sorted(lines))


# Statements whose blocks hold statements of the same level (`if`/`else`, `try`/`except`, `with`...).
_NESTED_STATEMENTS = frozenset(
    (
        "if_statement",
        "elif_clause",
        "else_clause",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "with_statement",
        "for_statement",
        "while_statement",
        "match_statement",
        "case_clause",
        "block",
    )
)


def _assignments_in(container: Node) -> list[Node]:
    """Assignment statements of a block (or compound statement), also inside its nested `if`, `try`...
    blocks, but not inside functions or classes. Reads statements only, never expressions."""
    found: list[Node] = []
    stack = [container]
    while stack:
        for child in stack.pop().children:
            kind = child.type
            if kind == "assignment":
                found.append(child)
            elif kind in _NESTED_STATEMENTS:
                stack.append(child)
    return found


def _target_identifiers(node: Node) -> list[Node]:
    """Identifiers bound by an assignment target (`a`, `a, b`, `[a, *b]`); attributes and subscripts bind
    no name."""
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        kind = current.type
        if kind == "identifier":
            found.append(current)
        elif kind in (
            "pattern_list",
            "tuple_pattern",
            "list_pattern",
            "list_splat_pattern",
            "tuple",
            "list",
            "parenthesized_expression",
        ):
            stack.extend(reversed(current.named_children))
    return found


def _literal(node: Node | None, source: bytes) -> Any:
    """The value of a literal expression node, or None when it is not a plain literal."""
    if node is None:
        return None
    try:
        return ast.literal_eval(source[node.start_byte : node.end_byte].decode("utf-8"))
    except Exception:  # noqa: BLE001 - anything that is not a plain literal (or too deep to evaluate)
        return None


def _string_list(node: Node | None, source: bytes) -> list[str] | None:
    """A literal list or tuple of strings, also concatenated with `+`; None for anything else."""
    if node is None:
        return None
    parts: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "parenthesized_expression":
            inner = [c for c in current.named_children if c.type != "comment"]
            if len(inner) != 1:
                return None
            stack.append(inner[0])
            continue
        if current.type == "binary_operator":
            operator = current.child_by_field_name("operator")
            left = current.child_by_field_name("left")
            right = current.child_by_field_name("right")
            if operator is None or operator.type != "+" or left is None or right is None:
                return None
            stack.append(right)
            stack.append(left)
            continue
        if current.type not in ("list", "tuple"):
            return None
        value = _literal(current, source)
        if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
            return None
        parts.extend(value)
    return parts


def _single_argument(arguments: Node | None) -> Node | None:
    if arguments is None or arguments.type != "argument_list":
        return None
    inner = [c for c in arguments.named_children if c.type != "comment"]
    if len(inner) != 1 or inner[0].type in ("keyword_argument", "list_splat", "dictionary_splat"):
        return None
    return inner[0]


def _decorator_expression(decorator: Node) -> Node | None:
    for child in decorator.named_children:
        if child.type != "comment":
            return child
    return None


def _call_parts(node: Node, source: bytes) -> tuple[str, Node | None]:
    """(callee text without whitespace, argument list or None) of a decorator or mark expression."""
    arguments = None
    if node.type == "call":
        arguments = node.child_by_field_name("arguments")
        node = node.child_by_field_name("function") or node
    callee = _WS.sub(b"", source[node.start_byte : node.end_byte])
    return callee.decode("utf-8", "replace"), arguments


def _arguments(arguments: Node | None) -> tuple[list[Node], dict[str, Node]]:
    positional: list[Node] = []
    keywords: dict[str, Node] = {}
    if arguments is None or arguments.type != "argument_list":
        return positional, keywords
    for child in arguments.named_children:
        if child.type == "comment":
            continue
        if child.type == "keyword_argument":
            name = child.child_by_field_name("name")
            value = child.child_by_field_name("value")
            if name is not None and value is not None:
                keywords[(name.text or b"").decode("utf-8", "replace")] = value
        else:
            positional.append(child)
    return positional, keywords


def _plain_parameters(parameters: Node | None, source: bytes, errors: str) -> list[str]:
    """Names of the parameters without a default value, leaving out `*args` and `**kwargs`."""
    names: list[str] = []
    if parameters is None:
        return names
    for child in parameters.named_children:
        node = child
        if child.type == "typed_parameter" and child.named_child_count:
            node = child.named_children[0]
        if node.type == "identifier":
            names.append(source[node.start_byte : node.end_byte].decode("utf-8", errors))
    return names


def _comment_ranges(node: Node, start: int, end: int) -> list[tuple[int, int]]:
    """Byte ranges of the comments under ``node`` that lie in [start, end), in order."""
    found: list[tuple[int, int]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "comment":
            if current.start_byte >= start and current.end_byte <= end:
                found.append((current.start_byte, current.end_byte))
            continue
        for child in current.children:
            if child.end_byte > start and child.start_byte < end:
                stack.append(child)
    found.sort()
    return found


def _strings_in_annotation(annotation: Node) -> list[Node]:
    """String literals inside an annotation, leaving out the arguments of `Literal[...]`."""
    found: list[Node] = []
    stack = [annotation]
    while stack:
        current = stack.pop()
        kind = current.type
        if kind == "string":
            found.append(current)
            continue
        if kind in ("subscript", "generic_type") and current.named_child_count:
            head = current.named_children[0]
            if (head.text or b"").endswith(b"Literal"):
                continue
        stack.extend(current.named_children)
    return found


def _string_content(string_node: Node, source: bytes) -> bytes | None:
    """The text between the quotes of a plain string (not an f-, t- or bytes string), or None."""
    children = string_node.children
    if len(children) < 2 or children[0].type != "string_start" or children[-1].type != "string_end":
        return None
    prefix = source[children[0].start_byte : children[0].end_byte].lower()
    if b"f" in prefix or b"b" in prefix or b"t" in prefix:
        return None
    for child in children[1:-1]:
        if child.type != "string_content":
            return None  # interpolations or escape sequences: not a plain forward reference
    content = source[children[0].end_byte : children[-1].start_byte]
    return None if b"\\" in content else content


def _expression_chains(content: bytes, depth: int) -> list[tuple[bytes, int]]:
    """Chains (`a.b`) read from ``content`` parsed as an expression, each with its 0-based row inside the
    content. Empty when the text does not parse cleanly (prose in `Annotated[...]`, for instance)."""
    stripped = content.strip()
    if depth > 3 or not stripped or len(stripped) > 10_000:
        return []
    lead_rows = content[: content.index(stripped[:1])].count(b"\n")
    text = b"(" + stripped + b")"
    tree = _parser().parse(text)
    if tree.root_node.has_error:
        return []
    query, kinds = _query()
    found: list[tuple[bytes, int]] = []
    strings: list[Node] = []
    for pattern, captures in QueryCursor(query).matches(tree.root_node):
        if kinds[pattern] != _K_REF:
            continue
        node = captures["reference.name"][0]
        match = _CHAIN.match(text, node.end_byte)
        end = match.end() if match is not None else node.end_byte
        found.append((_WS.sub(b"", text[node.start_byte : end]), node.start_point[0] + lead_rows))
    if b'"' in stripped or b"'" in stripped:
        stack = [tree.root_node]
        while stack:
            current = stack.pop()
            if current.type == "string":
                strings.append(current)
            else:
                stack.extend(current.named_children)
        for string_node in strings:
            inner = _string_content(string_node, text)
            if inner is not None:
                row = string_node.start_point[0] + lead_rows
                found.extend((chain, row + r) for chain, r in _expression_chains(inner, depth + 1))
    return found
