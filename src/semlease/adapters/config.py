"""Project configuration: ``semlease.toml`` at the repository root, else ``[tool.semlease]`` in pyproject.toml.

```toml
[tool.semlease]
default_ttl = "30m"

[tool.semlease.regions]            # behaviours that span files, leased as `behavior NAME`
checkout = ["export create_order", "fixture cart", "file tests/test_payment.py"]

[tool.semlease.policy]             # overrides of the overlap table (semlease.domain.policy)
"write:implement x write:implement" = "risky"
```
In ``semlease.toml`` the same keys sit at the top level (``default_ttl``, ``[regions]``, ``[policy]``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from semlease.domain.policy import Policy
from semlease.domain.regions import parse_region
from semlease.errors import ConfigError, SemleaseError


class Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default_ttl: str = "30m"
    regions: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    policy: dict[str, str] = Field(default_factory=dict)
    source: str | None = None  # the file it was read from, for messages

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
