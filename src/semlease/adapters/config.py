"""Project configuration: ``semlease.toml`` at the repository root, else ``[tool.semlease]`` in pyproject.toml.

```toml
[tool.semlease]
default_ttl = "30m"

[tool.semlease.regions]            # behaviours that span files, leased as `behavior NAME`
checkout = ["export create_order", "fixture cart", "file tests/test_payment.py"]

[tool.semlease.policy]             # overrides of the overlap table (semlease.domain.policy)
"write:implement x write:implement" = "risky"

[tool.semlease.admission]          # what `semlease admit` needs before it decides apply
test_command = "python -m pytest -q"   # the selected pytest node ids are appended (or replace {tests})
test_timeout = "30m"
late_work = "admit-if-fresh"           # or "reject": work under an ended lease is never applied
[tool.semlease.admission.evidence]     # evidence each mode needs; the rest keep their default
implement = ["scope", "contract", "tests", "review"]
```
In ``semlease.toml`` the same keys sit at the top level (``default_ttl``, ``[regions]``, ``[policy]``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from semlease.domain.leases import parse_duration
from semlease.domain.policy import MODES, Policy
from semlease.domain.regions import parse_region
from semlease.errors import ConfigError, SemleaseError

# The evidence `admit` needs, by lease mode: scope and contract are computed, tests are run (--run-tests)
# or supplied (--evidence tests=pass); any other key must be supplied by the caller.
DEFAULT_EVIDENCE: dict[str, tuple[str, ...]] = {
    "observe": ("scope", "contract"),
    "test": ("scope", "contract", "tests"),
    "extend": ("scope", "contract", "tests"),
    "implement": ("scope", "contract", "tests"),
    "contract": ("scope", "tests"),
    "rename": ("scope", "tests"),
}
LATE_WORK = ("admit-if-fresh", "reject")


class AdmissionConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    test_command: str | tuple[str, ...] | None = None  # None: this Python's `-m pytest`
    test_timeout: str = "30m"
    late_work: str = "admit-if-fresh"
    evidence: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("test_timeout")
    @classmethod
    def _a_duration(cls, value: str) -> str:
        return _duration(value, "test_timeout")

    @field_validator("late_work")
    @classmethod
    def _a_late_work_rule(cls, value: str) -> str:
        if value not in LATE_WORK:
            raise ValueError(f"{value!r} is not one of {', '.join(LATE_WORK)}")
        return value

    @field_validator("test_command")
    @classmethod
    def _a_command(cls, value: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        if value is not None and not (value.strip() if isinstance(value, str) else value):
            raise ValueError("the test command is empty")
        return value

    @field_validator("evidence")
    @classmethod
    def _evidence_by_mode(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for mode, keys in value.items():
            if mode not in MODES:
                raise ValueError(f"{mode!r} is not a mode ({', '.join(MODES)})")
            for key in keys:
                if not key or "=" in key or key != key.strip():
                    raise ValueError(f"mode {mode}: {key!r} is not an evidence key")
        return value

    def required(self, mode: str) -> tuple[str, ...]:
        return self.evidence.get(mode, DEFAULT_EVIDENCE[mode])


class Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default_ttl: str = "30m"
    regions: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    policy: dict[str, str] = Field(default_factory=dict)
    admission: AdmissionConfig = Field(default_factory=AdmissionConfig)
    source: str | None = None  # the file it was read from, for messages

    @field_validator("default_ttl")
    @classmethod
    def _ttl_is_a_duration(cls, ttl: str) -> str:
        return _duration(ttl, "the value")

    @field_validator("regions")
    @classmethod
    def _regions_are_region_lists(cls, regions: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name, parts in regions.items():
            if not name.strip() or " " in name.strip():
                raise ValueError(f"behaviour name {name!r} must be one word")
            if not parts:
                raise ValueError(f"behaviour {name!r} lists no regions")
            for part in parts:
                try:
                    region = parse_region(part)
                except SemleaseError as error:
                    raise ValueError(f"behaviour {name!r}: {error}") from None
                if region.kind == "behavior":
                    raise ValueError(f"behaviour {name!r}: a behaviour cannot contain another ({part!r})")
        return regions

    def policy_table(self) -> Policy:
        return Policy.from_config(self.policy)


def _duration(value: str, what: str) -> str:
    """A configured duration, checked as the command line checks one (a validation error otherwise)."""
    try:
        parse_duration(value, what)
    except SemleaseError as error:
        raise ValueError(str(error)) from None
    return value


def load_config(root: Path) -> Config:
    """The configuration of the repository at ``root`` (defaults when it has none)."""
    own = root / "semlease.toml"
    if own.is_file():
        return _validate(_read(own), own)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        section = _read(pyproject).get("tool", {}).get("semlease")
        if section is not None:
            if not isinstance(section, dict):
                raise ConfigError(f"{pyproject}: [tool.semlease] must be a table")
            return _validate(section, pyproject)
    return Config()


def _read(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from error


def _validate(data: dict, path: Path) -> Config:
    try:
        config = Config.model_validate({**data, "source": str(path)})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{path}: {where}: {message}") from error
    try:
        config.policy_table()
    except SemleaseError as error:
        raise ConfigError(f"{path}: {error}") from error
    return config
