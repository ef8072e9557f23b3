"""Region text an agent types, parsed into a value: ``export create_invoice``, ``fixture db`` ...

Grammar (one line, kind first, case-insensitive kind)::

    export NAME        NAME = bare | dotted.module.name | path/to/file.py::qualname
    symbol QUALNAME    QUALNAME = bare | Class.method | dotted.module.Class.method | path::Class.method
    test NODEID        NODEID = tests/test_x.py::TestX::test_y (pytest) | tests/test_x.py::TestX.test_y
    fixture NAME       NAME = bare | tests/conftest.py::name
    file PATH          PATH = repository-relative path (./ and a trailing / are ignored)
    behavior NAME      a behaviour named in the project's configuration ([tool.semlease.regions]);
                       `behaviour` is accepted too
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from semlease.errors import RegionSyntaxError

REGION_KINDS = ("export", "symbol", "test", "fixture", "file", "behavior")
_KIND_ALIASES = {"behaviour": "behavior"}

_PARAMETRIZE = re.compile(r"\[.*\]$")


class Region(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    target: str  # normalised: bare or dotted name, or `path::qualname` with dots, or a path
    text: str  # as the agent typed it, trimmed

    @property
    def path(self) -> str | None:
        """The file part when the target is written by path (`path::qualname` or a `file` region)."""
        if self.kind == "file":
            return self.target
        if "::" in self.target:
            return self.target.partition("::")[0]
        return None

    @property
    def qualname(self) -> str:
        return self.target.partition("::")[2] if "::" in self.target else self.target

    def __str__(self) -> str:
        return f"{self.kind} {self.target}"


def parse_region(text: str) -> Region:
    raw = " ".join(text.split())
    if not raw:
        raise RegionSyntaxError("empty region: expected e.g. 'export create_invoice' (kinds: "
                                + ", ".join(REGION_KINDS) + ")")
    kind, _, rest = raw.partition(" ")
    kind = _KIND_ALIASES.get(kind.lower(), kind.lower())
    if kind not in REGION_KINDS:
        raise RegionSyntaxError(f"unknown region kind {kind!r} in {raw!r}: expected one of "
                                + ", ".join(REGION_KINDS))
    rest = rest.strip()
    if not rest:
        raise RegionSyntaxError(f"region {raw!r} names nothing: expected '{kind} NAME'")
    if kind == "file":
        return Region(kind=kind, target=_normalise_path(rest), text=raw)
    if " " in rest:
        raise RegionSyntaxError(f"region {raw!r}: a name cannot contain spaces")
    if kind == "behavior":
        return Region(kind=kind, target=rest, text=raw)
    return Region(kind=kind, target=_normalise_name(rest, raw), text=raw)


def _is_dotted_name(name: str) -> bool:
    """Python identifiers (PEP 3131: `π`, `Ünïcode` too) joined by dots."""
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def _normalise_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/")


def _normalise_name(name: str, raw: str) -> str:
    if "::" in name:
        # pytest node id or our id: the file part keeps its slashes, every later `::` becomes a dot
        path, _, rest = name.partition("::")
        qualname = _PARAMETRIZE.sub("", rest).replace("::", ".")
        if not path or not _is_dotted_name(qualname):
            raise RegionSyntaxError(f"region {raw!r}: expected PATH::QUALNAME, e.g. "
                                    "'src/billing/invoice.py::Invoice.total'")
        return f"{_normalise_path(path)}::{qualname}"
    if "/" in name:
        raise RegionSyntaxError(f"region {raw!r}: a path needs '::NAME' after it "
                                "(or use 'file PATH' for a whole file)")
    name = _PARAMETRIZE.sub("", name)
    if not _is_dotted_name(name):
        raise RegionSyntaxError(f"region {raw!r}: {name!r} is not a Python name or dotted name")
    return name
