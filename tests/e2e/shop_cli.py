"""Running the CLI as a user does, and an oracle for where things sit in the sample repository.

Every e2e test starts ``python -m semlease ...`` in a subprocess. Nothing is imported from semlease itself:
these tests hold the command line to its contract (exit codes, JSON shapes, footprints) whatever the code
behind it looks like. Fixtures built on this module live in ``conftest.py`` beside it.
"""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHOP_SOURCE = REPO_ROOT / "fixtures" / "shop"
CLI_TIMEOUT = 300  # seconds; the first index of a fresh copy pays for loading the grammars

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".semlease", ".git")


# A fixed identity and no user or system git configuration, for our git commands and the CLI's alike.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Semlease E2E",
    "GIT_AUTHOR_EMAIL": "e2e@semlease.invalid",
    "GIT_COMMITTER_NAME": "Semlease E2E",
    "GIT_COMMITTER_EMAIL": "e2e@semlease.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_COUNT": "2",
    "GIT_CONFIG_KEY_0": "init.defaultBranch",
    "GIT_CONFIG_VALUE_0": "main",
    "GIT_CONFIG_KEY_1": "commit.gpgSign",
    "GIT_CONFIG_VALUE_1": "false",
}
_GIT_REDIRECTS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_REDIRECTS}
    env.update(GIT_ENV)
    return env


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", os.fspath(root), *args], capture_output=True, text=True,
                            env=git_env(), stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr.strip()}"
    return result.stdout


def make_git_repo(root: Path, files: dict[str, str] | None = None, message: str = "initial") -> str:
    """Write ``files`` under ``root`` (if given), ``git init``, add everything, commit; return HEAD."""
    for rel, text in (files or {}).items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--no-verify", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def cli_env(**extra: str) -> dict[str, str]:
    """The environment every CLI run gets: isolated git, plain output, the work tree's semlease first."""
    env = git_env()
    env.update(extra)
    env.pop("SEMLEASE_DEBUG", None)  # a traceback is a failure, not a debugging aid, here
    env["NO_COLOR"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT / "src"), env.get("PYTHONPATH")) if p)
    return env


def run_cli(*args: str, repo: Path | str | None = None, cwd: Path | str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m semlease ARGS [--repo REPO]``, output captured as text, never raising on exit status.

    ``env`` adds variables to :func:`cli_env`."""
    cmd = [sys.executable, "-m", "semlease", *args]
    if repo is not None:
        cmd += ["--repo", os.fspath(repo)]
    return subprocess.run(cmd, capture_output=True, text=True, env=cli_env(**(env or {})),
                          timeout=CLI_TIMEOUT, cwd=os.fspath(cwd) if cwd is not None else None,
                          stdin=subprocess.DEVNULL)


def describe(result: subprocess.CompletedProcess[str]) -> str:
    """A failure message showing what the CLI did."""
    return (f"`{' '.join(result.args[2:])}` exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}")


def parse_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:  # pragma: no cover - shown as the failure
        pytest.fail(f"stdout is not one JSON document ({exc}):\n{describe(result)}")


def assert_bad_input(result: subprocess.CompletedProcess[str], *must_mention: str) -> str:
    """Exit 2, one line on stderr naming ``must_mention``, no traceback. Returns the stderr line."""
    assert result.returncode == 2, describe(result)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, describe(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, "expected exactly one line on stderr\n" + describe(result)
    for text in must_mention:
        assert text in lines[0], f"stderr does not mention {text!r}\n" + describe(result)
    return lines[0]


# -------------------------------------------------------------------------------------------------- oracle
@dataclass(frozen=True)
class Spans:
    """Where a definition sits, computed with ``ast``/``tokenize`` from the fixture itself."""

    span: tuple[int, int]  # decorators .. last line
    header: tuple[int, int]  # decorators .. the line of the colon ending the `def`/`class` header


def _header_end(lines: list[str], start: int) -> int:
    """Line of the ``:`` closing the header that starts on ``start`` (1-based), brackets balanced."""
    source = "".join(lines[start - 1:])
    depth = 0
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.OP:
            if tok.string in "([{":
                depth += 1
            elif tok.string in ")]}":
                depth -= 1
            elif tok.string == ":" and depth == 0:
                return start + tok.start[0] - 1
    raise AssertionError(f"no header colon after line {start}")


def source_spans(text: str) -> dict[str, Spans]:
    """qualname -> spans for every def, class and module/class-level assignment in ``text``."""
    lines = text.splitlines(keepends=True)
    out: dict[str, Spans] = {}

    def visit(body: list[ast.stmt], prefix: str, in_function: bool) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = min([d.lineno for d in node.decorator_list] + [node.lineno])
                q = prefix + node.name
                out[q] = Spans((first, node.end_lineno), (first, _header_end(lines, node.lineno)))
                visit(node.body, q + ".", isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))
            elif not in_function and isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        lines_ = (node.lineno, node.end_lineno)
                        out[prefix + t.id] = Spans(lines_, lines_)
            elif isinstance(node, ast.If):  # `if TYPE_CHECKING:` and the like
                visit(node.body, prefix, in_function)
                visit(node.orelse, prefix, in_function)

    visit(ast.parse(text).body, "", False)
    return out


# ----------------------------------------------------------------------------------------------- repository
@dataclass
class ShopRepo:
    """A copy of ``fixtures/shop`` on disk and the CLI pointed at it (results cached for the session)."""

    root: Path
    head: str | None
    # Git must not find a repository above the copy (a plain folder must stay outside git).
    env: dict[str, str] = field(default_factory=dict)
    _cache: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, repo=self.root, cwd=self.root.parent, env=self.env)

    def json(self, *args: str) -> Any:
        key = args
        if key not in self._cache:
            self._cache[key] = parse_json(self.run(*args, "--json"))
        return self._cache[key]

    def resolve(self, region: str) -> dict[str, Any]:
        return self.json("resolve", region)

    def radius(self, region: str, depth: int | None = None) -> dict[str, Any]:
        args = ("radius", region) + (("--depth", str(depth)) if depth is not None else ())
        return self.json(*args)

    def roles(self, region: str) -> dict[str, dict[str, dict[str, Any]]]:
        """role -> {id: entry} (each id at most once per role, checked)."""
        out = self.resolve(region)
        roles: dict[str, dict[str, dict[str, Any]]] = {}
        for role, entries in out["footprint"].items():
            by_id: dict[str, dict[str, Any]] = {}
            for e in entries:
                assert e["id"] not in by_id, f"{region}: {e['id']} twice in {role}"
                by_id[e["id"]] = e
            roles[role] = by_id
        return roles

    def ids(self, region: str, role: str) -> set[str]:
        return set(self.roles(region)[role])

    def kinds(self, region: str, role: str) -> dict[str, str]:
        return {i: e["kind"] for i, e in self.roles(region)[role].items()}

    # -- the oracle: lines computed from the sources themselves
    def text(self, path: str) -> str:
        return (self.root / path).read_text(encoding="utf-8")

    def spans(self, path: str) -> dict[str, Spans]:
        key = ("spans", path)
        if key not in self._cache:
            self._cache[key] = source_spans(self.text(path))
        return self._cache[key]

    def line_count(self, path: str) -> int:
        return len(self.text(path).splitlines())

    def expected_lines(self, entry: dict[str, Any], role: str) -> tuple[int, int]:
        path, _, qualname = entry["id"].partition("::")
        if not qualname:
            return (1, self.line_count(path))
        spans = self.spans(path)[qualname]
        if role == "contract" and entry["kind"] in ("signature", "class-header"):
            return spans.header
        return spans.span
