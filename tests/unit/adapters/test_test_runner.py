"""The test runner with real pytest runs: a selected test in a module that skips itself at import is set
aside and the rest of the selection runs; a module that fails to import still fails the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from semlease.adapters.test_runner import run_selected

OK = "from lib import f\n\n\ndef test_f():\n    assert f() == 1\n"
SKIPS = ('import pytest\n\nfrom lib import f\n\npytest.importorskip("no_such_module_xyz")\n\n\n'
         "def test_opt():\n    assert f()\n")
BROKEN = "import no_such_module_abc\n\n\ndef test_err():\n    assert True\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "lib.py").write_text("def f():\n    return 1\n")
    (tmp_path / "tests/test_ok.py").write_text(OK)
    (tmp_path / "tests/test_optional.py").write_text(SKIPS)
    (tmp_path / "tests/test_broken.py").write_text(BROKEN)
    return tmp_path


def run(tree: Path, *ids: str):
    return run_selected(None, list(ids), [f"graph:{i}" for i in ids], tree, 120, [tree])


def test_a_module_that_skips_at_import_is_set_aside_and_the_rest_runs(tree: Path) -> None:
    got = run(tree, "tests/test_ok.py::test_f", "tests/test_optional.py::test_opt")
    assert (got.exit_code, got.passed, got.summary) == (0, True, "1 passed")
    assert (got.not_collected, got.set_aside) == (("graph:tests/test_optional.py::test_opt",), True)
    assert got.tests == ("graph:tests/test_ok.py::test_f", "graph:tests/test_optional.py::test_opt")
    assert got.command[-1] == "tests/test_ok.py::test_f"  # the second run, without the set-aside test


def test_only_modules_that_skip_at_import_is_no_failure(tree: Path) -> None:
    got = run(tree, "tests/test_optional.py::test_opt")
    assert (got.exit_code, got.passed, got.set_aside) == (0, True, True)
    assert got.not_collected == ("graph:tests/test_optional.py::test_opt",)


def test_a_module_that_fails_to_import_fails_the_run(tree: Path) -> None:
    got = run(tree, "tests/test_ok.py::test_f", "tests/test_optional.py::test_opt", "tests/test_broken.py::test_err")
    assert (got.exit_code, got.passed, got.set_aside) == (4, False, False)
    assert got.summary == "1 skipped, 1 error"
    assert set(got.not_collected) == {"graph:tests/test_optional.py::test_opt", "graph:tests/test_broken.py::test_err"}


def test_a_plain_run_is_untouched(tree: Path) -> None:
    got = run(tree, "tests/test_ok.py::test_f")
    assert (got.exit_code, got.summary, got.not_collected, got.set_aside) == (0, "1 passed", (), False)
