"""The stored index: facts round-trip exactly, a failed write leaves the previous index whole, a file from
another schema version is rebuilt, and the stored graph answers like the in-memory one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from semlease.adapters import facts_codec
from semlease.adapters.index_store import SCHEMA_VERSION, ExtractedFile, FileState, IndexStore
from semlease.domain import graph as G
from semlease.languages.python.extract import extract_python
from semlease.services.indexer import link

SOURCE = b'''import pytest
from .tax import rate as r

__all__ = ["Cart"]

class Cart:
    items: list[str] = []

    @property
    def total(self) -> float:
        return r(len(self.items))

@pytest.fixture(name="cart")
def cart_fixture(db):
    return Cart()

def test_total(cart):
    assert cart.total == 0

DEFAULT_CART = Cart()

class Checkout:
    def __init__(self, cart: Cart) -> None:
        self.cart = cart

    def pay(self, other: "Cart | None") -> Cart:
        other.total
        return self.cart
'''


def test_facts_round_trip_exactly():
    facts = extract_python("shop/cart.py", SOURCE)
    assert facts.definitions and facts.imports and facts.references  # the sample exercises every part
    assert facts.bindings and any(d.returns for d in facts.definitions)
    assert {b.how for b in facts.bindings} == {"annotation", "call", "attribute"}
    assert facts_codec.decode(facts_codec.encode(facts), facts.path) == facts


def store_one(store: IndexStore, path: str, source: bytes) -> None:
    facts = extract_python(path, source)
    store.save(meta={"built_at": "t"}, changed=[ExtractedFile.of(FileState(path, "python", "d", 1, 1), facts)],
               touched=[], removed=[], skipped=[], graph=link({path: facts})[0])


def test_a_failed_write_leaves_the_previous_index_whole(tmp_path: Path):
    db = tmp_path / "index.db"
    with IndexStore.open(db) as store:
        store_one(store, "shop/cart.py", SOURCE)
        before = store.counts()

        class Exploding(G.SymbolGraph):
            def all_edges(self):  # a fault half-way through writing the graph
                yield from list(super().all_edges())[:3]
                raise OSError("disk full")

        facts = extract_python("other.py", b"def f():\n    return 1\n")
        graph = Exploding()
        graph.add_node(G.Node("other.py", G.FILE, "other.py", "", 1, 2))
        with pytest.raises(OSError, match="disk full"):
            store.save(meta={"built_at": "t2"},
                       changed=[ExtractedFile.of(FileState("other.py", "python", "e", 1, 1), facts)],
                       touched=[], removed=["shop/cart.py"], skipped=[], graph=graph)
        assert store.counts() == before
        assert set(store.file_states()) == {"shop/cart.py"}
        assert store.meta("built_at") == "t"


def test_an_index_from_another_schema_version_is_rebuilt(tmp_path: Path):
    db = tmp_path / "index.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE files (path TEXT)")
    conn.execute("INSERT INTO files VALUES ('stale.py')")
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 41}")
    conn.commit()
    conn.close()
    with IndexStore.open(db) as store:
        assert store.file_states() == {}
        assert not store.is_built()
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_the_stored_graph_answers_like_the_in_memory_graph(tmp_path: Path):
    facts = {"shop/cart.py": extract_python("shop/cart.py", SOURCE),
             "shop/tax.py": extract_python("shop/tax.py", b"def rate(n):\n    return n * 0.2\n"),
             "shop/__init__.py": extract_python("shop/__init__.py", b"")}
    memory, _ = link(facts)
    with IndexStore.open(tmp_path / "index.db") as store:
        store.save(meta={"built_at": "t"}, changed=[], touched=[], removed=[], skipped=[], graph=memory)
        stored = store.graph()
        for node in memory.iter_nodes():
            assert stored.node(node.id) == node
            assert sorted(map(str, stored.out_edges(node.id))) == sorted(map(str, memory.out_edges(node.id)))
            assert sorted(map(str, stored.in_edges(node.id))) == sorted(map(str, memory.in_edges(node.id)))
        assert [n.id for n in stored.nodes_named("cart")] == ["shop/cart.py::cart_fixture"]
        assert stored.lookup_dotted("shop.cart.Cart.total") == ["shop/cart.py::Cart.total"]
        assert sorted(stored.names({G.FIXTURE, G.TEST})) == ["cart_fixture", "test_total"]
        assert [str(e) for e in stored.out_edges("shop/cart.py::Cart.total", (G.CALLS,))] == [
            "shop/cart.py::Cart.total -calls-> shop/tax.py::rate (l. 11: call r)"]


def _journal(db: Path) -> str:
    with sqlite3.connect(db) as probe:
        return probe.execute("PRAGMA journal_mode").fetchone()[0]


def test_a_whole_graph_is_written_with_a_rollback_journal_and_the_index_stays_in_wal_mode(tmp_path: Path):
    db = tmp_path / "index.db"
    modes: list[str] = []
    with IndexStore.open(db) as store:
        store.conn.set_trace_callback(lambda sql: modes.append(sql) if "journal_mode" in sql else None)
        store_one(store, "shop/cart.py", SOURCE)
        store.conn.set_trace_callback(None)
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert modes == ["PRAGMA journal_mode=delete", "PRAGMA journal_mode=wal"]
    assert _journal(db) == "wal"
    assert not Path(str(db) + "-journal").exists()


def test_a_whole_graph_is_written_in_wal_mode_while_another_process_reads_the_index(tmp_path: Path):
    db = tmp_path / "index.db"
    with IndexStore.open(db) as store:
        store_one(store, "shop/cart.py", SOURCE)
        reader = sqlite3.connect(db, isolation_level=None)
        reader.execute("BEGIN")
        seen = reader.execute("SELECT count(*) FROM nodes").fetchone()[0]
        store_one(store, "other.py", b"def f():\n    return 1\n")  # not waited for, and never blocked
        assert reader.execute("SELECT count(*) FROM nodes").fetchone()[0] == seen  # its snapshot holds
        reader.execute("COMMIT")
        assert reader.execute("SELECT path FROM files").fetchall() == [("other.py",), ("shop/cart.py",)]
        reader.close()
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
