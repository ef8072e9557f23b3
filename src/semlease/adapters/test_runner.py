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


@dataclass(frozen=True)
class TestRun:
    command: tuple[str, ...]
    tests: tuple[str, ...]
    exit_code: int | None  # None when the deadline ran out
    seconds: float
    output: str  # the last lines of stdout and stderr
    import_paths: tuple[str, ...] = ()  # put first on PYTHONPATH

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
                "import_paths": list(self.import_paths), "output": self.output}


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


def run_tests(command: Sequence[str], tests: Sequence[str], cwd: Path, timeout: float,
              import_paths: Sequence[Path] = ()) -> TestRun:
    """``import_paths`` go first on PYTHONPATH, ahead of anything installed (an editable install of the
    project points at another checkout, and a package of the same name may be installed beside semlease)."""
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
    return TestRun(tuple(command), tuple(tests), result.returncode, time.monotonic() - started,
                   _tail(result.stdout + result.stderr), tuple(map(os.fspath, import_paths)))


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def _tail(text: str) -> str:
    return "\n".join(text.rstrip().splitlines()[-OUTPUT_TAIL:])
