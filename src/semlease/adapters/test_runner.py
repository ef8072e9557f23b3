"""Running the project's tests: the configured command with the selected test ids, under a deadline."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from semlease.errors import SemleaseError

PLACEHOLDER = "{tests}"
_SUMMARY = re.compile(r"\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)"
                      r"(?:, \d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?))*")
OUTPUT_TAIL = 40  # lines of the test output kept with the result
# pytest, given a test id in a module that skipped itself at import (importorskip, a module-level skip),
# finds nothing to run there, says so and stops (exit 4) before running any other test.
_NOT_COLLECTED = re.compile(r"^ERROR: found no collectors for (.+?)\s*$", re.M)
PYTEST_USAGE_ERROR = 4


@dataclass(frozen=True)
class TestRun:
    command: tuple[str, ...]
    tests: tuple[str, ...]
    exit_code: int | None  # None when the deadline ran out
    seconds: float
    output: str  # the last lines of stdout and stderr
    import_paths: tuple[str, ...] = ()  # put first on PYTHONPATH
    not_collected: tuple[str, ...] = ()  # selected tests the runner found nothing to collect for
    set_aside: bool = False  # those were in modules that skipped themselves at import, and the rest ran

    @property
    def summary(self) -> str | None:
        """pytest's closing count (``3 passed, 1 failed``), when the output holds one."""
        for line in reversed(self.output.splitlines()):
            found = _SUMMARY.search(line)
            if found:
                return found.group(0)
        return None

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def to_json(self) -> dict:
        return {"command": list(self.command), "tests": list(self.tests), "exit_code": self.exit_code,
                "seconds": round(self.seconds, 3), "passed": self.passed, "summary": self.summary,
                "import_paths": list(self.import_paths), "not_collected": list(self.not_collected),
                "set_aside": self.set_aside, "output": self.output}


def default_command() -> tuple[str, ...]:
    """pytest under the Python semlease runs on (semlease is usually installed in the project's environment)."""
    return (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")


def command_line(configured: str | Sequence[str] | None, tests: Sequence[str]) -> tuple[str, ...]:
    """The configured command with the test ids in place of ``{tests}``, or after it."""
    if configured is None:
        words = list(default_command())
    elif isinstance(configured, str):
        try:
            words = shlex.split(configured)
        except ValueError as error:
            raise SemleaseError(f"the test command {configured!r} cannot be split into words: {error}") from error
    else:
        words = list(configured)
    if PLACEHOLDER in words:
        at = words.index(PLACEHOLDER)
        return tuple(words[:at] + list(tests) + words[at + 1:])
    return tuple(words + list(tests))


def run_selected(configured: str | Sequence[str] | None, runner_ids: Sequence[str], tests: Sequence[str], cwd: Path,
                 timeout: float, import_paths: Sequence[Path] = ()) -> TestRun:
    """Run the configured command on the selected tests (``runner_ids``, the ids the runner takes, one per
    test of ``tests``). When pytest stops because some of them are in modules that skip themselves at
    import, those are set aside and the others run again: a module that skips (an optional dependency
    missing) is no failure, and must not keep the rest of the selection from running. A module that fails
    to import still fails the run."""
    started = time.monotonic()
    first = run_tests(command_line(configured, runner_ids), tests, cwd, timeout, import_paths, runner_ids)
    if first.exit_code != PYTEST_USAGE_ERROR or not first.not_collected or "error" in (first.summary or ""):
        return first
    uncollected = set(first.not_collected)
    rest = [(r, t) for r, t in zip(runner_ids, tests, strict=True) if t not in uncollected]
    if not rest:  # every selected test is in a module that skipped itself: nothing failed
        return TestRun(first.command, tuple(tests), 0, first.seconds, first.output, first.import_paths,
                       first.not_collected, set_aside=True)
    left = timeout - (time.monotonic() - started)
    again = run_tests(command_line(configured, [r for r, _ in rest]), [t for _, t in rest], cwd, max(left, 1.0),
                      import_paths, [r for r, _ in rest])
    return TestRun(again.command, tuple(tests), again.exit_code, time.monotonic() - started, again.output,
                   again.import_paths, first.not_collected + again.not_collected, set_aside=True)


def _not_collected(output: str, runner_ids: Sequence[str], tests: Sequence[str], cwd: Path) -> tuple[str, ...]:
    """The tests pytest found nothing to collect for (it names them by absolute path or as given)."""
    named = {m.group(1) for m in _NOT_COLLECTED.finditer(output)}
    if not named:
        return ()
    found = []
    for runner_id, test in zip(runner_ids, tests, strict=False):
        file, sep, rest = runner_id.partition("::")
        if runner_id in named or f"{(cwd / file).resolve()}{sep}{rest}" in named:
            found.append(test)
    return tuple(found)


def run_tests(command: Sequence[str], tests: Sequence[str], cwd: Path, timeout: float,
              import_paths: Sequence[Path] = (), runner_ids: Sequence[str] | None = None) -> TestRun:
    """``import_paths`` go first on PYTHONPATH, ahead of anything installed (an editable install of the
    project points at another checkout, and a package of the same name may be installed beside semlease).
    ``runner_ids`` are the ids of ``tests`` as the command line gives them (to tell which were not
    collected)."""
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}
    if import_paths:
        env["PYTHONPATH"] = os.pathsep.join([*map(os.fspath, import_paths), *filter(None, [env.get("PYTHONPATH")])])
    try:
        result = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, errors="replace",
                                timeout=timeout, env=env, check=False)
    except FileNotFoundError as error:
        raise SemleaseError(f"cannot run the tests: {command[0]!r} is not a program on PATH "
                            "(set test_command in [tool.semlease.admission])") from error
    except subprocess.TimeoutExpired as expired:
        output = _tail(_text(expired.stdout) + _text(expired.stderr))
        return TestRun(tuple(command), tuple(tests), None, time.monotonic() - started,
                       output + f"\n(stopped after {timeout:g}s)", tuple(map(os.fspath, import_paths)))
    output = result.stdout + result.stderr
    return TestRun(tuple(command), tuple(tests), result.returncode, time.monotonic() - started, _tail(output),
                   tuple(map(os.fspath, import_paths)), _not_collected(output, runner_ids or tests, tests, cwd))


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def _tail(text: str) -> str:
    return "\n".join(text.rstrip().splitlines()[-OUTPUT_TAIL:])
