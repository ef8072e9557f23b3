"""Project configuration: where it is read from, and one clear line for each mistake in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from semlease.adapters.config import Config, load_config
from semlease.errors import ConfigError


def test_no_configuration_gives_the_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path) == Config()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert load_config(tmp_path) == Config()
    assert Config().default_ttl == "30m"


def test_pyproject_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('''
[tool.semlease]
default_ttl = "1h"

[tool.semlease.regions]
checkout = ["export create_order", "fixture cart", "file tests/test_payment.py"]

[tool.semlease.policy]
"write:implement x write:implement" = "risky"
''')
    config = load_config(tmp_path)
    assert config.default_ttl == "1h"
    assert config.regions == {"checkout": ("export create_order", "fixture cart", "file tests/test_payment.py")}
    assert config.policy_table().classify("write:implement", "write:implement") == "risky"
    assert config.source == str(tmp_path / "pyproject.toml")


def test_semlease_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.semlease.regions]\na = ["export x"]\n')
    (tmp_path / "semlease.toml").write_text('[regions]\nb = ["export y"]\n')
    assert load_config(tmp_path).regions == {"b": ("export y",)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[regions\n", "not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 9)"),
        ('[regions]\ncheckout = []\n', "regions: behaviour 'checkout' lists no regions"),
        ('[regions]\ncheckout = ["route POST /x"]\n',
         "regions: behaviour 'checkout': unknown region kind 'route' in 'route POST /x'"),
        ('[regions]\nnested = ["behavior other"]\n',
         "regions: behaviour 'nested': a behaviour cannot contain another ('behavior other')"),
        ('[regions]\ncheckout = "export x"\n', "regions.checkout: Input should be a valid tuple"),
        ('colour = "blue"\n', "colour: Extra inputs are not permitted"),
        ('default_ttl = "xx"\n', "default_ttl: the value 'xx' is not a duration: expected e.g. 30m, 1h30m, 90s, 2d"),
        ('default_ttl = "0s"\n', "default_ttl: the value '0s' must be longer than zero"),
        ('[policy]\n"rely x rely" = "maybe"\n',
         "policy entry 'rely x rely' = 'maybe': expected one of compatible, risky, conflict"),
    ],
)
def test_mistakes_are_one_line_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "semlease.toml").write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    assert str(error.value).startswith(f"{tmp_path / 'semlease.toml'}: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)
