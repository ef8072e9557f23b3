"""Incremental indexing gives the very index a full rebuild gives: after each kind of edit, the relinked
index and a forced rebuild of the same tree hold the same nodes, edges, dotted names, unresolved uses and
link dependencies. Also: the extraction cache shared by worktrees, and a new worktree seeded from another's
index."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from helpers import run_git, write_files, write_repo
from semlease.adapters.facts_cache import FactsCache
from semlease.adapters.index_store import IndexStore
from semlease.services.indexer import build_index, facts_cache_location

SHOP = Path(__file__).resolve().parents[3] / "fixtures" / "shop"



def snapshot(index: str) -> dict[str, set[tuple]]:
    with IndexStore.open(Path(index)) as store:
        return store.rows()


def assert_same_as_a_rebuild(root: Path) -> int:
    """Refresh incrementally, then rebuild from scratch in a copy: both indexes must hold the same graph.
    Returns how many files the refresh relinked."""
    report = build_index(root, workers=1, with_counts=False)
    incremental = snapshot(report.index_path)
    copy = root.parent / (root.name + "-rebuilt")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".git"))
    full = snapshot(build_index(copy, workers=1, force=True, with_counts=False).index_path)
    for table in full:
        missing = sorted(full[table] - incremental[table])[:5]
        extra = sorted(incremental[table] - full[table])[:5]
        assert not missing and not extra, f"{table}: the refresh lacks {missing} and has {extra} too many"
    shutil.rmtree(copy)
    return report.relinked


@pytest.fixture
def shop(tmp_path: Path, git_env) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    write_repo(root, {})
    build_index(root, workers=1, with_counts=False)
    return root


def edit(root: Path, path: str, old: str, new: str) -> None:
    text = (root / path).read_text()
    assert old in text, old
    (root / path).write_text(text.replace(old, new, 1))


def test_a_body_edit_relinks_its_file_alone(shop: Path) -> None:
    edit(shop, "src/billing/invoice.py", "    subtotal = _round(order.subtotal())\n",
         "    subtotal = _round(order.subtotal())\n    subtotal = _round(subtotal)\n\n\n")
    assert assert_same_as_a_rebuild(shop) == 1


def test_a_new_name_binds_the_uses_that_were_waiting_for_it(shop: Path) -> None:
    edit(shop, "src/shop/checkout.py", "import billing\n", "import billing\nfrom billing.tax import TAX_TABLE\n")
    assert_same_as_a_rebuild(shop)
    edit(shop, "src/billing/tax.py", "def compute_tax(", "TAX_TABLE = {}\n\n\ndef compute_tax(")
    assert assert_same_as_a_rebuild(shop) > 1


def test_a_renamed_definition_relinks_its_users(shop: Path) -> None:
    edit(shop, "src/billing/invoice.py", "def _round(", "def _round_half_up(")
    edit(shop, "src/billing/invoice.py", "return _round(self.subtotal + self.tax)",
         "return _round_half_up(self.subtotal + self.tax)")
    assert_same_as_a_rebuild(shop)
    edit(shop, "src/billing/tax.py", "def compute_tax(", "def tax_of(")
    assert assert_same_as_a_rebuild(shop) > 1


def test_fixtures_conftests_and_autouse(shop: Path) -> None:
    conftest = (shop / "tests/conftest.py").read_text()
    (shop / "tests/conftest.py").write_text(conftest + "\n\n@pytest.fixture(autouse=True)\ndef clean_log():\n"
                                            "    yield\n")
    assert assert_same_as_a_rebuild(shop) > 1
    edit(shop, "tests/conftest.py", "def clean_log():", "def tidy_log():")
    assert_same_as_a_rebuild(shop)


def test_a_class_that_becomes_a_test_case_takes_its_subclasses_along(shop: Path) -> None:
    write_files(shop, {"tests/base.py": "class Base:\n    def helper(self):\n        return 1\n",
                       "tests/test_sub.py": "from tests.base import Base\n\n\nclass Checks(Base):\n"
                                            "    def test_one(self):\n        assert self.helper()\n",
                       "tests/test_use.py": "from tests.test_sub import Checks\n\n\ndef test_it():\n"
                                            "    Checks().test_one()\n"})
    run_git(shop, "add", "--all")
    assert assert_same_as_a_rebuild(shop) != -1  # files added in folders that exist: not a full link
    edit(shop, "tests/base.py", "class Base:", "import unittest\n\n\nclass Base(unittest.TestCase):")
    assert_same_as_a_rebuild(shop)


def test_re_exports_and_all(shop: Path) -> None:
    init = (shop / "src/billing/__init__.py").read_text()
    (shop / "src/billing/__init__.py").write_text(init + "\n\ndef create_invoice(order, *, tax=True):\n"
                                                  "    return None\n")
    assert_same_as_a_rebuild(shop)
    (shop / "src/billing/__init__.py").write_text(init + '\n__all__ = ["compute_tax"]\n')
    assert_same_as_a_rebuild(shop)


def test_a_stated_type_relinks_the_method_calls_through_it(shop: Path) -> None:
    edit(shop, "src/shop/checkout.py", "def checkout(order: Order, *, pay_now: bool = True) -> str:",
         "def checkout(order, *, pay_now: bool = True) -> str:")
    assert_same_as_a_rebuild(shop)
    edit(shop, "src/billing/invoice.py", "    def total(self) -> Decimal:", "    def grand_total(self) -> Decimal:")
    assert assert_same_as_a_rebuild(shop) > 1


def test_many_small_edits_in_a_row(shop: Path) -> None:
    for i in range(4):
        edit(shop, "src/shop/orders.py", "def place_order(", f"def helper_{i}():\n    return {i}\n\n\ndef place_order(")
        assert_same_as_a_rebuild(shop)


# ------------------------------------------------------------------------------------ files added, removed
def test_an_added_module_binds_the_imports_that_were_waiting_for_it(shop: Path) -> None:
    edit(shop, "src/shop/checkout.py", "import billing\n", "import billing\nfrom billing.discounts import RATE\n"
                                                          "from billing.discounts import *  # noqa\n")
    edit(shop, "src/shop/orders.py", "def place_order(", "def rated():\n    return billing.discounts.rate()\n\n\n"
                                                         "def place_order(")
    edit(shop, "src/shop/orders.py", "from . import pricing", "from . import pricing\nimport billing")
    assert_same_as_a_rebuild(shop)
    write_files(shop, {"src/billing/discounts.py": "RATE = 2\n\n\ndef rate():\n    return RATE\n"})
    relinked = assert_same_as_a_rebuild(shop)
    assert relinked == 3  # the new file, and the two that read its absence
    (shop / "src/billing/discounts.py").unlink()
    assert assert_same_as_a_rebuild(shop) == 2  # its readers


def test_an_added_module_can_shadow_one_from_outside_the_repository(shop: Path) -> None:
    write_files(shop, {"src/decimal.py": "class Decimal:\n    pass\n"})  # `import decimal` now means this
    assert assert_same_as_a_rebuild(shop) > 1


def test_a_module_added_under_a_deeper_import_root_displaces_one_of_its_name(shop: Path) -> None:
    # `import util` means ./util.py until src/util.py (src is searched first) is added: no folder is made,
    # so only the new file and the one that imports the name are linked again.
    write_files(shop, {"util.py": "def helper():\n    return 1\n"})
    edit(shop, "src/shop/orders.py", "def place_order(", "def helped():\n    return util.helper()\n\n\n"
                                                         "def place_order(")
    edit(shop, "src/shop/orders.py", "from . import pricing", "from . import pricing\nimport util")
    assert_same_as_a_rebuild(shop)
    write_files(shop, {"src/util.py": "def helper():\n    return 2\n"})
    assert assert_same_as_a_rebuild(shop) == 2
    with IndexStore.open(Path(build_index(shop, workers=1, with_counts=False).index_path)) as store:
        calls = {(e.src, e.dst) for e in store.graph().out_edges("src/shop/orders.py::helped")}
    assert calls == {("src/shop/orders.py::helped", "src/util.py::helper")}
    (shop / "src/util.py").unlink()
    assert assert_same_as_a_rebuild(shop) == 1  # orders.py: the name means ./util.py again


def test_an_added_test_module_is_linked_alone(shop: Path) -> None:
    write_files(shop, {"tests/test_more.py": "from billing import compute_tax\n\n\ndef test_more(order):\n"
                                             "    assert compute_tax(order)\n"})
    assert assert_same_as_a_rebuild(shop) == 1


def test_a_removed_conftest_relinks_the_tests_under_it(shop: Path) -> None:
    (shop / "tests/conftest.py").unlink()
    assert assert_same_as_a_rebuild(shop) > 1


@pytest.mark.parametrize("added", ["src/shop/extras/more.py", "src/plugins/exporters/__init__.py",
                                   "src/newtop/__init__.py"])
def test_a_file_that_makes_a_folder_or_a_package_relinks_everything(shop: Path, added: str) -> None:
    write_files(shop, {added: "def more():\n    return 1\n"})
    assert assert_same_as_a_rebuild(shop) == -1


# ------------------------------------------------------------------------------------------- worktrees
def test_a_second_worktree_reuses_the_first_index_and_the_shared_facts(shop: Path, tmp_path: Path) -> None:
    first = build_index(shop, with_counts=False)
    cache = facts_cache_location(shop)
    assert cache == shop / ".git" / "semlease" / "facts.db"
    with sqlite3.connect(first.index_path) as db:
        contents = db.execute("SELECT count(DISTINCT digest) FROM files").fetchone()[0]
    with FactsCache.open(cache) as facts:
        assert facts.count() == contents  # every file's facts, by content (two empty __init__.py: one)
    second = tmp_path / "second"
    run_git(shop, "worktree", "add", "-q", "--detach", str(second), "HEAD")
    report = build_index(second, with_counts=False)
    # seeded from the first worktree's index: nothing extracted, nothing linked, only new stat data
    assert (report.extracted, report.reused, report.up_to_date) == (0, first.files, True)
    assert report.index_path == str(shop / ".git" / "worktrees" / "second" / "semlease" / "index.db")
    assert snapshot(report.index_path) == snapshot(first.index_path)
    edit(second, "src/billing/tax.py", "def compute_tax(", "def compute_taxes(")
    assert assert_same_as_a_rebuild(second) > 1


def test_a_changed_extractor_drops_what_it_produced(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from semlease.services import indexer

    real = indexer.extractor_fingerprint
    monkeypatch.setattr(indexer, "extractor_fingerprint", lambda language=None: real(language) + "-changed")
    report = build_index(shop, workers=1, with_counts=False)
    assert (report.extracted, report.reused, report.relinked) == (report.files, 0, -1)


def test_a_changed_linker_links_everything_again_from_the_stored_facts(shop: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from semlease.services import indexer

    before = snapshot(str(shop / ".git" / "semlease" / "index.db"))
    real = indexer.linker_fingerprint
    monkeypatch.setattr(indexer, "linker_fingerprint", lambda language: real(language) + "-changed")
    report = build_index(shop, workers=1, with_counts=False)
    assert (report.extracted, report.reused, report.relinked) == (0, report.files, -1)
    assert snapshot(report.index_path) == before
    assert build_index(shop, workers=1, with_counts=False).up_to_date  # and once only


def test_a_known_file_that_turns_binary_is_skipped_on_refresh(shop: Path) -> None:
    (shop / "src/shop/pricing.py").write_bytes(b"\x00\x01 not python any more")
    report = build_index(shop, workers=1)
    assert ("src/shop/pricing.py", "binary") in report.skipped
    assert report.removed == 1 and report.relinked == 2  # a file gone: its readers are linked again
    assert_same_as_a_rebuild(shop)
    with sqlite3.connect(report.index_path) as db:
        assert db.execute("SELECT count(*) FROM nodes WHERE path = 'src/shop/pricing.py'").fetchone() == (0,)


def test_a_damaged_index_and_a_damaged_cache_are_built_again(shop: Path) -> None:
    index = shop / ".git" / "semlease" / "index.db"
    cache = shop / ".git" / "semlease" / "facts.db"
    before = snapshot(str(index))
    index.write_bytes(b"garbage, not a database")
    cache.write_bytes(b"garbage too")
    report = build_index(shop, workers=1, with_counts=False)
    assert (report.extracted, report.relinked) == (report.files, -1)
    assert snapshot(report.index_path) == before
    with FactsCache.open(cache) as facts:
        assert facts.count() > 0  # made anew, and filled
