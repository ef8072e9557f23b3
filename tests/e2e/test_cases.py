"""Annotated cases, one test each: ``tests/cases/*.case`` and, when it sits beside the repository,
``../shared/cases/py/*.case``.

A case file is one JSON object (``region``, ``expect`` and ``forbid`` ids by role, an optional ``why``) and
then the files of a small repository, each after a line ``# --- path: P ---``. The case is written into a
fresh git repository and ``semlease resolve REGION --json`` runs there. The semantics are those of
``shared/tools/run_cases.py`` (checked below against that file when it is there): an expected id is looked
for in its role, or in every role when the role is not one of the six; an id without ``::`` matches any id
of that file; qualified names compare with ``.``, ``::``, `` > `` and ``/`` as one separator.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from .shop_cli import REPO_ROOT, describe, make_git_repo, run_cli

ROLES = {"definition", "contract", "dependencies", "dependents", "tests", "fixtures"}
MARK = re.compile(r"^(?:#|//) --- path: (.+?) ---\s*$")

LOCAL_CASES = REPO_ROOT / "tests" / "cases"
SHARED_CASES = REPO_ROOT.parent / "shared" / "cases" / "py"
SHARED_TOOL = REPO_ROOT.parent / "shared" / "tools" / "run_cases.py"


def load(path: Path) -> tuple[dict, dict[str, str]]:
    """(spec, {path: text}) from a case file."""
    head: list[str] = []
    files: dict[str, list[str]] = {}
    cur = None
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        m = MARK.match(line)
        if m:
            cur = m.group(1).strip()
            files[cur] = []
        elif cur is None:
            head.append(line)
        else:
            files[cur].append(line)
    return json.loads("".join(head)), {p: "".join(v) for p, v in files.items()}


def norm(i: str) -> tuple[str, str]:
    path, _, q = i.partition("::")
    q = re.sub(r"\s*(::|>|›|/)\s*|\.", "|", q.strip())
    return path.strip(), q


def matches(want: str, got: str) -> bool:
    wp, wq = norm(want)
    gp, gq = norm(got)
    return wp == gp and (not wq or wq == gq)


def problems(spec: dict, footprint: dict[str, list[dict]]) -> list[str]:
    everything = [e["id"] for entries in footprint.values() for e in entries]
    out = []
    for role, ids in spec.get("expect", {}).items():
        pool = [e["id"] for e in footprint.get(role, [])] if role in ROLES else everything
        out += [f"missing {role}: {want}" for want in ids if not any(matches(want, g) for g in pool)]
    for role, ids in spec.get("forbid", {}).items():
        pool = [e["id"] for e in footprint.get(role, [])] if role in ROLES else everything
        out += [f"wrongly in {role}: {bad}" for bad in ids if any(matches(bad, g) for g in pool)]
    return out


def case_files() -> list:
    params = []
    for label, folder in (("local", LOCAL_CASES), ("shared", SHARED_CASES)):
        if folder.is_dir():
            for path in sorted(folder.glob("*.case")):
                params.append(pytest.param(path, id=f"{label}/{path.stem}"))
    return params


@pytest.mark.parametrize("case", case_files())
def test_case(case: Path, tmp_path: Path):
    spec, files = load(case)
    repo = tmp_path / "repo"
    make_git_repo(repo, files, message="case")
    result = run_cli("resolve", spec["region"], "--json", repo=repo, cwd=repo,
                     env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert result.returncode == 0, describe(result)
    footprint = json.loads(result.stdout)["footprint"]
    found = problems(spec, footprint)
    got = {role: [e["id"] for e in entries] for role, entries in footprint.items()}
    assert not found, (f"{case.name}: {spec.get('why', '')}\n  " + "\n  ".join(found)
                       + "\nfootprint:\n" + json.dumps(got, indent=1))


# ---------------------------------------------------------------------------------------- the runner itself
def test_local_cases_are_well_formed():
    paths = sorted(LOCAL_CASES.glob("*.case"))
    assert len(paths) >= 6
    for path in paths:
        spec, files = load(path)
        assert isinstance(spec["region"], str) and spec["region"].split(" ", 1)[0] in (
            "export", "symbol", "test", "fixture", "file"), path
        assert spec.get("expect"), f"{path.name}: expects nothing"
        assert spec.get("why"), f"{path.name}: say why the case is tricky"
        assert set(spec["expect"]) | set(spec.get("forbid", {})) <= ROLES, path
        assert files, path
        for name, text in files.items():
            if name.endswith(".py"):
                compile(text, name, "exec")  # every case is valid Python


def test_problems_reports_missing_and_forbidden():
    spec = {"expect": {"dependents": ["a.py::f", "b.py"], "tests": ["t.py::T::test_x"]},
            "forbid": {"dependents": ["c.py::g"], "anywhere": ["d.py"]}}
    fp = {"dependents": [{"id": "a.py::f"}, {"id": "c.py::g"}], "tests": [{"id": "t.py::T.test_x"}],
          "fixtures": [{"id": "d.py::fx"}]}
    assert problems(spec, fp) == ["missing dependents: b.py", "wrongly in dependents: c.py::g",
                                  "wrongly in anywhere: d.py"]


@pytest.mark.skipif(not SHARED_TOOL.is_file(), reason="no shared/tools/run_cases.py beside the repository")
def test_matching_agrees_with_the_shared_tool(tmp_path: Path):
    spec_ = importlib.util.spec_from_file_location("shared_run_cases", SHARED_TOOL)
    shared = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(shared)
    pairs = [
        ("a.py::C.m", "a.py::C.m"), ("a.py::C::m", "a.py::C.m"), ("a.py::C > m", "a.py::C.m"),
        ("a.py::C/m", "a.py::C.m"), ("a.py", "a.py::anything"), ("a.py::C", "a.py::C.m"),
        ("b.py::f", "a.py::f"), ("a.py::f", "a.py"), ("a.py::C.m", "a.py::C.n"),
    ]
    for want, got in pairs:
        assert matches(want, got) == shared.matches(want, got), (want, got)
    case = tmp_path / "x.case"
    case.write_text('{"region": "export f",\n "expect": {"definition": ["m.py::f"]}}\n'
                    "# --- path: m.py ---\ndef f():\n    pass\n"
                    "// --- path: web/a.ts ---\nexport const a = 1;\n", encoding="utf-8")
    assert load(case) == shared.load(str(case))
