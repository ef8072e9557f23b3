"""What a definition promises, as comparable data: its contract aspects and a fingerprint of the rest.

A language reads one version of a file into :class:`FileShapes` (Python does it with libcst on the few files
a patch touches). Comparing the shapes of one definition before and after a patch says whether its public
contract changed, and how; comparing fingerprints finds a definition that was renamed or moved unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Shape kinds (a method is a function whose parent is a class; a field is a class-level constant).
FUNCTION = "function"
CLASS = "class"
CONSTANT = "constant"


@dataclass(frozen=True, slots=True)
class SymbolShape:
    """One definition as a patch compares it.

    ``contract`` is an ordered tuple of ``(aspect, text)`` pairs, with ``text`` in a canonical form (so a
    change of formatting or comments changes nothing). Aspects, by kind:

    * function: ``def`` (``def`` or ``async def``), ``decorators`` (``@a, @b(1)``, absent when none),
      ``type parameters`` (``[T: int]``, PEP 695, absent when none), one ``parameter NAME`` per
      parameter (``positional 1: order: Order``; the kinds are ``positional-only``, ``positional``,
      ``*args``, ``keyword-only``, ``**kwargs``), ``returns`` (absent when there is no return annotation);
    * class: ``decorators``, ``bases`` (``(BaseModel, metaclass=Meta)``), ``type parameters``;
    * constant or field: ``annotation`` and ``value`` (each absent when the statement has none).

    ``fingerprint`` identifies the whole definition *except its name* (its body, parameters, decorators,
    formatting ignored): two definitions with the same fingerprint are the same code under two names.
    Empty for constants, whose values are too often alike to say so.
    """

    qualname: str
    kind: str
    line: int  # the first line: the first decorator, else the `def`/`class` line, else the statement
    contract: tuple[tuple[str, str], ...] = ()
    fingerprint: str = ""

    def aspects(self) -> dict[str, str]:
        return dict(self.contract)


@dataclass(frozen=True, slots=True)
class FileShapes:
    """Every definition of one file version, by qualname (several for a name defined twice, in order).

    ``error`` is one line when the file cannot be parsed precisely (``line 12: ...``); ``shapes`` is then
    empty and no contract of the file can be compared.
    """

    shapes: dict[str, tuple[SymbolShape, ...]] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ContractDelta:
    """One aspect of a contract that a patch changed: ``before`` or ``after`` is None when absent."""

    aspect: str
    before: str | None
    after: str | None

    def __str__(self) -> str:
        if self.before is None:
            return f"{self.aspect} added: {self.after}"
        if self.after is None:
            return f"{self.aspect} removed: {self.before}"
        return f"{self.aspect}: {self.before} -> {self.after}"


def contract_deltas(before: tuple[SymbolShape, ...], after: tuple[SymbolShape, ...]) -> tuple[ContractDelta, ...]:
    """What changed between two versions of one definition's contract. A name defined several times (a
    property and its setter) compares its definitions in order; an aspect key is prefixed with the
    definition's place (``2nd: parameter value``) when there is more than one."""
    deltas: list[ContractDelta] = []
    count = max(len(before), len(after))
    for i in range(count):
        old = before[i].aspects() if i < len(before) else {}
        new = after[i].aspects() if i < len(after) else {}
        prefix = f"{_ordinal(i + 1)}: " if count > 1 else ""
        if i < len(before) and i < len(after) and before[i].kind != after[i].kind:
            deltas.append(ContractDelta(prefix + "kind", before[i].kind, after[i].kind))
        for aspect in list(old) + [a for a in new if a not in old]:
            if old.get(aspect) != new.get(aspect):
                deltas.append(ContractDelta(prefix + aspect, old.get(aspect), new.get(aspect)))
    return tuple(deltas)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
