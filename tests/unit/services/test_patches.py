"""Patch footprints on real git repositories: each form a diff takes, each way a symbol changes, and how
each version of a file is found when the patch comes as a diff file."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_git, write_files
from semlease.adapters import patch_source
from semlease.adapters.diff import DiffError
from semlease.domain.shapes import ContractDelta
from semlease.services.patches import patch_footprint

INVOICE = '''\
import math


def create_invoice(order, *, tax=True):
    total = order.total
    return total


def _round(x):
    return math.floor(x)


class Invoice:
    number: int = 0

    def total(self):
        return 1

    def void(self):
        return None


def helper_for_move(a, b):
    """Moves to another file, unchanged."""
    return a + b
'''

TESTS = '''\
from billing.invoice import create_invoice


def test_create():
    assert create_invoice(1)
'''


@pytest.fixture
def repo(make_git_repo, tmp_path: Path) -> Path:
    return make_git_repo(tmp_path / "repo", {"src/billing/__init__.py": "", "src/billing/invoice.py": INVOICE,
                                             "tests/test_invoice.py": TESTS, "README.md": "# shop\n",
                                             "logo.png": b"\x89PNG\x00\x01"})


def commit(root: Path, files: dict[str, str | bytes] | None = None, remove: tuple[str, ...] = (),
           move: dict[str, str] | None = None) -> str:
    for old, new in (move or {}).items():
        run_git(root, "mv", old, new)
    for path in remove:
        run_git(root, "rm", "-q", path)
    write_files(root, files or {})
    run_git(root, "add", "--all")
    run_git(root, "commit", "-q", "-m", "change")
    return run_git(root, "rev-parse", "HEAD").strip()


def footprint_of(root: Path, base: str = "HEAD~1", head: str | None = "HEAD"):
    return patch_footprint(patch_source.from_revisions(root, base, head))


def by_id(fp) -> dict[str, object]:
    return {s.id: s for s in fp.symbols}


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# ------------------------------------------------------------------------------------------- symbol changes
def test_a_body_change_is_the_function_s_and_keeps_its_contract(repo: Path) -> None:
    commit(repo, {"src/billing/invoice.py": edit(INVOICE, "    total = order.total\n",
                                                  "    total = order.total\n    assert total >= 0\n")})
    fp = footprint_of(repo)
    (symbol,) = fp.symbols
    assert (symbol.id, symbol.kind, symbol.change, symbol.start_line, symbol.end_line) == (
        "src/billing/invoice.py::create_invoice", "function", "modified", 4, 7)
    assert (symbol.lines, symbol.removed_lines, symbol.contract, symbol.public) == ((6,), (), (), True)
    (touch,) = fp.files
    assert (touch.path, touch.status, touch.module_lines, touch.module_level) == (
        "src/billing/invoice.py", "modified", (), False)
    assert fp.touched() == [("src/billing/invoice.py::create_invoice", "src/billing/invoice.py")]


def test_a_signature_change_lists_what_changed(repo: Path) -> None:
    commit(repo, {"src/billing/invoice.py": edit(INVOICE, "def create_invoice(order, *, tax=True):",
                                                  "def create_invoice(order: dict, *, tax=False, rate=0.2) -> int:")})
    (symbol,) = footprint_of(repo).symbols
    assert symbol.contract == (
        ContractDelta("parameter order", "positional 1: order", "positional 1: order: dict"),
        ContractDelta("parameter tax", "keyword-only 2: tax = True", "keyword-only 2: tax = False"),
        ContractDelta("parameter rate", None, "keyword-only 3: rate = 0.2"),
        ContractDelta("returns", None, "int"),
    )


def test_reformatting_a_signature_changes_no_contract(repo: Path) -> None:
    commit(repo, {"src/billing/invoice.py": edit(INVOICE, "def create_invoice(order, *, tax=True):",
                                                  "def create_invoice(\n    order,  # the order\n    *,\n"
                                                  "    tax = True,\n):")})
    (symbol,) = footprint_of(repo).symbols
    assert (symbol.id, symbol.contract, symbol.contract_known) == (
        "src/billing/invoice.py::create_invoice", (), True)


def test_added_deleted_and_renamed_symbols(repo: Path) -> None:
    text = edit(INVOICE, "def _round(x):", "def _round_down(x):")  # renamed, same body
    text = edit(text, "    def void(self):\n        return None\n", "")  # deleted
    text += "\n\ndef cancel_invoice(invoice):\n    return invoice\n"  # added
    commit(repo, {"src/billing/invoice.py": text})
    symbols = by_id(footprint_of(repo))
    assert sorted((s.id, s.change, s.old_id) for s in symbols.values()) == [
        ("src/billing/invoice.py::Invoice.void", "deleted", None),
        ("src/billing/invoice.py::_round_down", "renamed", "src/billing/invoice.py::_round"),
        ("src/billing/invoice.py::cancel_invoice", "added", None),
    ]
    void = symbols["src/billing/invoice.py::Invoice.void"]
    assert (void.kind, void.start_line, void.end_line, void.removed_lines, void.lines) == (
        "method", 19, 20, (19, 20), ())
    assert symbols["src/billing/invoice.py::_round_down"].public is False
    added = symbols["src/billing/invoice.py::cancel_invoice"]
    assert (added.start_line, added.end_line, added.lines) == (26, 27, (26, 27))


def test_a_definition_moved_to_another_file_is_moved(repo: Path) -> None:
    text = INVOICE[: INVOICE.index("def helper_for_move")].rstrip("\n") + "\n"
    moved = '"""Helpers."""\n\n\n' + INVOICE[INVOICE.index("def helper_for_move"):]
    commit(repo, {"src/billing/invoice.py": text, "src/billing/helpers.py": moved})
    fp = footprint_of(repo)
    (symbol,) = fp.symbols
    assert (symbol.id, symbol.change, symbol.old_id, symbol.old_path, symbol.start_line) == (
        "src/billing/helpers.py::helper_for_move", "moved", "src/billing/invoice.py::helper_for_move",
        "src/billing/invoice.py", 4)
    added_file = next(f for f in fp.files if f.path == "src/billing/helpers.py")
    assert (added_file.status, added_file.module_lines, added_file.module_level) == ("added", (1,), True)


def test_a_renamed_class_takes_its_members_along(repo: Path) -> None:
    commit(repo, {"src/billing/invoice.py": edit(INVOICE, "class Invoice:", "class Bill:")})
    assert sorted((s.id, s.change, s.old_id) for s in footprint_of(repo).symbols) == [
        ("src/billing/invoice.py::Bill", "renamed", "src/billing/invoice.py::Invoice"),
        ("src/billing/invoice.py::Bill.number", "renamed", "src/billing/invoice.py::Invoice.number"),
        ("src/billing/invoice.py::Bill.total", "renamed", "src/billing/invoice.py::Invoice.total"),
        ("src/billing/invoice.py::Bill.void", "renamed", "src/billing/invoice.py::Invoice.void"),
    ]


def test_a_renamed_file_moves_every_definition(repo: Path) -> None:
    commit(repo, move={"src/billing/invoice.py": "src/billing/bills.py"})
    fp = footprint_of(repo)
    (touch,) = fp.files
    assert (touch.path, touch.old_path, touch.status, touch.module_level) == (
        "src/billing/bills.py", "src/billing/invoice.py", "renamed", True)
    assert sorted((s.qualname, s.change, s.old_id) for s in fp.symbols) == [
        (q, "moved", f"src/billing/invoice.py::{q}") for q in
        ("Invoice", "Invoice.number", "Invoice.total", "Invoice.void", "_round", "create_invoice",
         "helper_for_move")]
    assert all(s.lines == () and s.contract == () for s in fp.symbols)


def test_a_new_and_a_deleted_file(repo: Path) -> None:
    commit(repo, {"src/billing/tax.py": "RATE = 0.2\n\n\ndef tax(x):\n    return x * RATE\n"},
           remove=("tests/test_invoice.py",))
    fp = footprint_of(repo)
    assert sorted((s.id, s.kind, s.change, s.test_code) for s in fp.symbols) == [
        ("src/billing/tax.py::RATE", "constant", "added", False),
        ("src/billing/tax.py::tax", "function", "added", False),
        ("tests/test_invoice.py::test_create", "test", "deleted", True),
    ]
    assert {f.path: (f.status, f.module_lines, f.old_module_lines) for f in fp.files} == {
        "src/billing/tax.py": ("added", (), ()),
        "tests/test_invoice.py": ("deleted", (), (1,)),
    }


def test_imports_belong_to_the_file_blank_lines_to_nothing_comments_to_the_definition_below(repo: Path) -> None:
    text = edit(INVOICE, "import math\n", "import math\nimport logging\n")
    text = edit(text, "def _round(x):", "# rounds down, always\ndef _round(x):")
    text = edit(text, "    def void(self):", "\n    def void(self):")
    commit(repo, {"src/billing/invoice.py": text})
    fp = footprint_of(repo)
    (touch,) = fp.files
    assert (touch.module_lines, touch.module_level) == ((2,), True)
    (symbol,) = fp.symbols
    assert (symbol.id, symbol.lines) == ("src/billing/invoice.py::_round", (10,))
    assert fp.touched() == [("src/billing/invoice.py", "src/billing/invoice.py"),
                            ("src/billing/invoice.py::_round", "src/billing/invoice.py")]


def test_a_field_change_is_the_field_s_contract(repo: Path) -> None:
    commit(repo, {"src/billing/invoice.py": edit(INVOICE, "    number: int = 0", "    number: str = '0'")})
    (symbol,) = footprint_of(repo).symbols
    assert (symbol.id, symbol.kind) == ("src/billing/invoice.py::Invoice.number", "constant")
    assert symbol.contract == (ContractDelta("annotation", "int", "str"), ContractDelta("value", "0", "'0'"))


def test_a_method_change_is_the_method_s_not_the_class_s(repo: Path) -> None:
    commit(repo, {"src/billing/invoice.py": edit(INVOICE, "        return 1\n", "        return 2\n")})
    assert [s.id for s in footprint_of(repo).symbols] == ["src/billing/invoice.py::Invoice.total"]


def test_a_file_that_does_not_parse_has_no_known_contract(repo: Path) -> None:
    commit(repo, {"src/billing/invoice.py": edit(INVOICE, "    total = order.total\n", "    total = order.total +\n")})
    (symbol,) = footprint_of(repo).symbols
    assert symbol.id == "src/billing/invoice.py::create_invoice"
    assert symbol.contract_known is False
    assert symbol.note.startswith("cannot compare the contract: new version of src/billing/invoice.py: line 5")


def test_files_no_language_reads_and_binary_files_are_touched_whole(repo: Path) -> None:
    commit(repo, {"README.md": "# shop\n\nUsage.\n", "logo.png": b"\x89PNG\x00\x02"})
    fp = footprint_of(repo)
    assert fp.symbols == ()
    assert {f.path: (f.language, f.binary, f.module_lines, f.module_level) for f in fp.files} == {
        "README.md": (None, False, (2, 3), True), "logo.png": (None, True, (), True)}


# ------------------------------------------------------------------------------------------- sources
def test_the_work_tree_with_untracked_files(repo: Path) -> None:
    write_files(repo, {"src/billing/invoice.py": edit(INVOICE, "        return 1\n", "        return 2\n"),
                       "src/billing/new.py": "def fresh():\n    pass\n", "notes.txt": ""})
    given = patch_source.from_revisions(repo, "HEAD")
    assert (given.source, given.head, given.new_in_work_tree) == ("HEAD..work tree", None, True)
    assert given.base == run_git(repo, "rev-parse", "HEAD").strip()
    fp = patch_footprint(given)
    assert sorted((s.id, s.change) for s in fp.symbols) == [
        ("src/billing/invoice.py::Invoice.total", "modified"), ("src/billing/new.py::fresh", "added")]
    assert sorted((f.path, f.status) for f in fp.files) == [
        ("notes.txt", "added"), ("src/billing/invoice.py", "modified"), ("src/billing/new.py", "added")]


def test_nothing_changed_between_two_commits_is_an_empty_patch(repo: Path) -> None:
    given = patch_source.from_revisions(repo, "HEAD", "HEAD")
    assert (given.files, patch_footprint(given).symbols) == ((), ())


def test_an_unknown_revision_is_one_line(repo: Path) -> None:
    from semlease.errors import RepositoryError

    with pytest.raises(RepositoryError) as error:
        patch_source.from_revisions(repo, "no-such-branch")
    assert str(error.value) == f"'no-such-branch' names no commit in {repo}"


def _diff(root: Path, *args: str) -> bytes:
    return run_git(root, "diff", *args).encode()


def test_a_diff_file_not_applied_here(repo: Path) -> None:
    write_files(repo, {"src/billing/invoice.py": edit(INVOICE, "        return 1\n", "        return 2\n")})
    data = _diff(repo)
    run_git(repo, "checkout", "-q", "--", ".")  # the work tree is back at HEAD: the diff is not applied
    given = patch_source.from_diff(repo, data, "the diff p.diff")
    assert (given.base, given.new_in_work_tree) == (run_git(repo, "rev-parse", "HEAD").strip(), False)
    (versions,) = given.files
    assert versions.old == INVOICE.encode()
    assert versions.new == edit(INVOICE, "        return 1\n", "        return 2\n").encode()
    assert [s.id for s in patch_footprint(given).symbols] == ["src/billing/invoice.py::Invoice.total"]


def test_a_diff_file_already_applied_in_the_work_tree(repo: Path) -> None:
    new_text = edit(INVOICE, "        return 1\n", "        return 2\n")
    write_files(repo, {"src/billing/invoice.py": new_text})
    data = _diff(repo)
    commit(repo)  # now HEAD holds the new version too: only the blob id can give the old one
    given = patch_source.from_diff(repo, data, "the diff p.diff")
    (versions,) = given.files
    assert (versions.old, versions.new, given.new_in_work_tree) == (INVOICE.encode(), new_text.encode(), True)


def test_a_plain_diff_without_blob_ids_fits_the_work_tree_backwards(repo: Path, tmp_path: Path) -> None:
    new_text = edit(INVOICE, "        return 1\n", "        return 2\n")
    (tmp_path / "old.py").write_text(INVOICE)
    (tmp_path / "new.py").write_text(new_text)
    import subprocess

    plain = subprocess.run(["diff", "-u", "--label", "src/billing/invoice.py", "--label",
                            "src/billing/invoice.py", str(tmp_path / "old.py"), str(tmp_path / "new.py")],
                           capture_output=True).stdout
    write_files(repo, {"src/billing/invoice.py": new_text})
    commit(repo)
    given = patch_source.from_diff(repo, plain, "the diff p.diff")
    (versions,) = given.files
    assert (versions.old, versions.new, given.new_in_work_tree, given.base) == (
        INVOICE.encode(), new_text.encode(), True, None)


def test_a_diff_made_from_another_text_is_refused_with_the_line(repo: Path) -> None:
    write_files(repo, {"src/billing/invoice.py": edit(INVOICE, "        return 1\n", "        return 2\n")})
    data = _diff(repo).replace(b"index ", b"x-index ")  # no blob id to fall back on
    write_files(repo, {"src/billing/invoice.py": edit(INVOICE, "        return 1\n", "        return 3\n")})
    commit(repo)
    with pytest.raises(DiffError) as error:
        patch_source.from_diff(repo, data, "the diff p.diff")
    assert str(error.value) == (
        "the diff p.diff was not made from any version of src/billing/invoice.py here (tried HEAD, work tree): "
        "line 17 reads '        return 3' where the diff expects '        return 1'")


def test_a_diff_of_a_file_that_is_nowhere(repo: Path) -> None:
    data = (b"--- a/src/billing/gone.py\n+++ b/src/billing/gone.py\n@@ -1,1 +1,1 @@\n-x = 1\n+x = 2\n")
    with pytest.raises(DiffError) as error:
        patch_source.from_diff(repo, data, "the diff p.diff")
    assert str(error.value) == "the diff p.diff changes src/billing/gone.py, which is not in the work tree, nor in HEAD"


def test_a_sub_folder_of_a_work_tree_reads_its_own_paths(make_git_repo, tmp_path: Path) -> None:
    top = make_git_repo(tmp_path / "mono", {"shop/src/billing/invoice.py": INVOICE, "other/x.py": "X = 1\n"})
    write_files(top, {"shop/src/billing/invoice.py": edit(INVOICE, "        return 1\n", "        return 2\n"),
                      "other/x.py": "X = 2\n", "shop/new.py": "def fresh():\n    pass\n"})
    shop = top / "shop"
    fp = patch_footprint(patch_source.from_revisions(shop, "HEAD"))
    assert sorted((s.id, s.change) for s in fp.symbols) == [
        ("new.py::fresh", "added"), ("src/billing/invoice.py::Invoice.total", "modified")]
    assert sorted(f.path for f in fp.files) == ["new.py", "src/billing/invoice.py"]  # other/ is not shop's
    data = run_git(top, "diff", "--", "shop").encode()  # made at the top: paths start with shop/
    run_git(top, "checkout", "-q", "--", ".")
    from_top = patch_footprint(patch_source.from_diff(shop, data, "the diff p.diff"))
    assert [(s.id, s.change) for s in from_top.symbols] == [("src/billing/invoice.py::Invoice.total", "modified")]


def test_names_with_unusual_characters(make_git_repo, tmp_path: Path) -> None:
    root = make_git_repo(tmp_path / "r", {"src/café dir/naïve.py": "def f(x):\n    return x\n"})
    write_files(root, {"src/café dir/naïve.py": "def f(x):\n    return x + 0\n"})
    fp = patch_footprint(patch_source.from_revisions(root, "HEAD"))
    assert [(s.id, s.change, s.lines) for s in fp.symbols] == [("src/café dir/naïve.py::f", "modified", (2,))]
    quoted = run_git(root, "-c", "core.quotePath=true", "diff").encode()
    assert b'"a/src/caf\\303\\251 dir/na\\303\\257ve.py"' in quoted
    fp = patch_footprint(patch_source.from_diff(root, quoted, "the diff p.diff"))
    assert [s.id for s in fp.symbols] == ["src/café dir/naïve.py::f"]


def test_a_diff_of_another_layout_is_not_read_through_its_blob_ids(make_git_repo, tmp_path: Path) -> None:
    top = make_git_repo(tmp_path / "mono", {"shop/invoice.py": INVOICE})
    write_files(top, {"shop/invoice.py": edit(INVOICE, "        return 1\n", "        return 2\n")})
    relative = run_git(top / "shop", "diff", "--relative").encode()  # paths relative to shop/
    with pytest.raises(DiffError) as error:
        patch_source.from_diff(top, relative, "the diff p.diff")
    assert str(error.value) == "the diff p.diff changes invoice.py, which is not in the work tree, nor in HEAD"


def test_a_syntax_error_elsewhere_in_the_file_does_not_hide_a_definition_s_contract(repo: Path) -> None:
    broken = INVOICE + "\n\ndef unfinished(:\n    pass\n"
    commit(repo, {"src/billing/invoice.py": broken})
    commit(repo, {"src/billing/invoice.py": edit(broken, "def create_invoice(order, *, tax=True):",
                                                  "def create_invoice(order, *, tax=False):")})
    (symbol,) = footprint_of(repo).symbols
    assert (symbol.id, symbol.contract_known) == ("src/billing/invoice.py::create_invoice", True)
    assert symbol.contract == (ContractDelta("parameter tax", "keyword-only 2: tax = True",
                                             "keyword-only 2: tax = False"),)


def test_each_changed_line_goes_to_its_innermost_definition() -> None:
    from semlease.languages import PYTHON
    from semlease.services.patches import _Version

    source = ("import os\n"                 # 1
              "\n"                          # 2
              "# about Invoice\n"           # 3
              "# (two lines)\n"             # 4
              "class Invoice:\n"            # 5
              "    rate = 2\n"              # 6
              "\n"                          # 7
              "    def total(self):\n"      # 8
              "        # inside total\n"    # 9
              "        def inner():\n"      # 10
              "            return 1\n"      # 11
              "        return inner()\n"    # 12
              "\n"                          # 13
              "    # above tax\n"           # 14
              "    def tax(self):\n"        # 15
              "        return 0\n"          # 16
              "\n"                          # 17
              "LIMIT = 3  # end\n"          # 18
              "# trailing comment\n")       # 19
    version = _Version("m.py", source.encode(), PYTHON)
    owned, loose = version.owners(tuple(range(1, 21)))
    assert dict(owned) == {"Invoice": [3, 4, 5], "Invoice.rate": [6], "Invoice.total": [8, 12],
                           "Invoice.total.inner": [9, 10, 11], "Invoice.tax": [14, 15, 16], "LIMIT": [18]}
    assert loose == [1, 19]
