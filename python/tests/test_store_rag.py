"""VectorStore for retrieval: ids of the caller's, upsert, get, delete,
filters with equality, $in and ranges, one round trip per search, plans
without the query's numbers, opening existing tables, and the async
store doing the same."""
from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import psycopg
import pytest
from psycopg import pq, sql

from conftest import connect

# How EXPLAIN names the query vector, the value of the search's InitPlan:
# $0 before PostgreSQL 17, (InitPlan 1).col1 from 17 on
QUERY_PARAM = r"(\$0|\(InitPlan 1\)\.col1)"
from hnswmm import AsyncVectorStore, StoreMismatch, VectorStore, load_f32
from hnswmm.f32 import write_mock_f32

LANGS = ("en", "de", "fr")


def rows(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    meta = [{"group": i % 7, "year": 2000 + i % 25, "lang": LANGS[i % 3], "title": f"t{i:03d}"}
            for i in range(n)]
    return rng.standard_normal((n, dim)).astype(np.float32), meta


def test_ids_get_upsert_delete(conn: psycopg.Connection[Any], table: str) -> None:
    store = VectorStore(conn, table, 3)
    store.create()
    vectors = np.arange(9, dtype=np.float32).reshape(3, 3)
    assert store.add(vectors, ["a", "b", "c"], ids=[10, 20, 30]) == [10, 20, 30]
    got = store.get([30, 10, 99, 30])
    assert [(g.id, g.text) for g in got] == [(30, "c"), (10, "a")]
    np.testing.assert_array_equal(got[0].embedding, vectors[2])
    with pytest.raises(psycopg.errors.UniqueViolation):
        store.add(vectors[:2], ids=[40, 20])
    assert store.count() == 3
    assert store.add(vectors[:1]) == [31]  # the sequence continues after the largest id
    assert store.upsert([20, 50], vectors[:2] + 100, ["B", "E"], [{"v": 2}, None]) == 2
    b, e = store.get([20, 50])
    assert (b.text, b.metadata, e.text) == ("B", {"v": 2}, "E")
    np.testing.assert_array_equal(b.embedding, vectors[0] + 100)
    assert store.count() == 5
    assert store.add(vectors[:1]) == [51]
    assert store.delete([10, 50, 1000]) == 2 and store.get([10, 50]) == []
    with pytest.raises(ValueError, match="distinct"):
        store.upsert([1, 1], vectors[:2])
    with pytest.raises(ValueError, match="2 embeddings but 1 ids"):
        store.add(vectors[:2], ids=[7])
    with pytest.raises(TypeError, match="ids are integers"):
        store.get(["a"])  # type: ignore[list-item]


def test_ids_like_load_f32(conn: psycopg.Connection[Any], new_table: Callable[[], str], tmp_path: Path) -> None:
    """Rows are numbered from 0 by add() as by load_f32(): row i of the data has id i."""
    path = tmp_path / "v.f32"
    write_mock_f32(path, 10, 4)
    data = np.fromfile(path, "<f4").reshape(10, 4)
    store = VectorStore(conn, new_table(), 4)
    store.create()
    assert store.add(data[:3]) == [0, 1, 2]
    assert store.load_f32(path, start=3, count=4, progress=False) == 4
    assert store.add(data[7:]) == [7, 8, 9]
    for item in store.get(range(10)):
        np.testing.assert_array_equal(item.embedding, data[item.id])
    other = VectorStore(conn, new_table(), 4)
    other.create()
    load_f32(conn, other.table, path, 4, create=False, progress=False)  # the function, not the method
    assert other.add(data[:1]) == [10]


def matching(meta: list[dict[str, Any]], keep: Callable[[dict[str, Any]], bool]) -> set[int]:
    return {i for i, m in enumerate(meta) if keep(m)}


FILTERS: dict[str, tuple[Mapping[str, Any], Callable[[dict[str, Any]], bool]]] = {
    "equality": ({"lang": "de"}, lambda m: m["lang"] == "de"),
    "two equalities": ({"lang": "de", "group": 3}, lambda m: m["lang"] == "de" and m["group"] == 3),
    "$eq": ({"group": {"$eq": 2}}, lambda m: m["group"] == 2),
    "$in": ({"group": {"$in": [1, 4]}}, lambda m: m["group"] in (1, 4)),
    "$in strings": ({"lang": {"$in": ["fr", "xx"]}}, lambda m: m["lang"] == "fr"),
    "$in empty": ({"lang": {"$in": []}}, lambda m: False),
    "number range": ({"year": {"$gte": 2010, "$lt": 2015}}, lambda m: 2010 <= m["year"] < 2015),
    "float bound": ({"year": {"$gt": 2020.5}}, lambda m: m["year"] > 2020.5),
    "string range": ({"title": {"$lte": "t010"}}, lambda m: m["title"] <= "t010"),
    "all combined": ({"lang": "en", "group": {"$in": [0, 1, 2]}, "year": {"$lte": 2012}},
                     lambda m: m["lang"] == "en" and m["group"] in (0, 1, 2) and m["year"] <= 2012),
    "missing key": ({"nope": {"$gt": 1}}, lambda m: False),
    "range on strings by a number": ({"lang": {"$gt": 0}}, lambda m: False),
    "contradiction": ({"group": {"$eq": 1, "$in": [2]}}, lambda m: False),
}


@pytest.mark.parametrize("name", FILTERS)
def test_filters(conn: psycopg.Connection[Any], table: str, name: str) -> None:
    vectors, meta = rows(300, 4)
    store = VectorStore(conn, table, 4)
    store.create()
    ids = store.add(vectors, metadata=meta)
    assert ids == list(range(300))
    flt, keep = FILTERS[name]
    found = store.search(vectors[0], k=300, filter=flt)
    assert {h.id for h in found} == matching(meta, keep)


@pytest.mark.parametrize("bad, error, message", [
    ("lang = 'en'", TypeError, "a filter is a dict"),
    ([("lang", "en")], TypeError, "a filter is a dict"),
    ({"lang": ["en", "de"]}, TypeError, r"use \{'\$in'"),
    ({"lang": {"$ne": "en"}}, ValueError, "unsupported operator '\\$ne'"),
    ({"$or": [{"lang": "en"}]}, ValueError, "at the top level"),
    ({"meta": {"nested": 1}}, ValueError, "unsupported operator 'nested'"),
    ({"year": {"$gt": True}}, TypeError, "takes a number or a string"),
    ({"year": {"$gt": [1]}}, TypeError, "takes a number or a string"),
    ({"lang": {"$in": "en"}}, TypeError, "takes a list"),
    ({"lang": {}}, ValueError, "empty condition"),
    ({1: "x"}, TypeError, "filter keys"),
    ({"x": float("nan")}, ValueError, "not a JSON number"),
])
def test_filters_it_cannot_express(conn: psycopg.Connection[Any], table: str, bad: Any,
                                   error: type[Exception], message: str) -> None:
    store = VectorStore(conn, table, 2)
    store.create()
    store.add([[1.0, 2.0]], metadata=[{"lang": "en"}])
    with pytest.raises(error, match=message):
        store.search([1.0, 2.0], filter=bad)


def round_trips(conn: psycopg.Connection[Any], action: Callable[[], Any]) -> int:
    """Round trips to the server during action(): ReadyForQuery messages in
    libpq's trace."""
    with tempfile.TemporaryFile("w+") as f:
        conn.pgconn.trace(f.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            action()
        finally:
            conn.pgconn.untrace()
        f.seek(0)
        return sum(1 for line in f if "\tReadyForQuery" in line and line.startswith("B"))


def test_one_round_trip_per_search(conn: psycopg.Connection[Any], table: str) -> None:
    vectors, meta = rows(2000, 8)
    store = VectorStore(conn, table, 8)
    store.create()
    store.add(vectors, metadata=meta)
    store.create_index(m=8, ef_construction=32)
    store.search(vectors[0])  # the first call registers and checks
    for kwargs in ({}, {"ef_search": 100}, {"filter": {"lang": "en", "year": {"$gte": 2010}}}):
        assert round_trips(conn, lambda: store.search(vectors[1], k=5, **kwargs)) == 1, kwargs
    assert conn.execute("SHOW hnswmm.ef_search").fetchone() == ("40",)  # the session's is unchanged
    # and the beam width set inside the statement is the one the scan uses
    conn.execute("SET hnswmm.iterative_scan = off")
    assert len(store.search(vectors[1], k=60)) == 60  # raised to k; the session's 40 would stop at 40
    assert len(store.search(vectors[1], k=60, ef_search=10)) == 60


def test_explain_shows_no_numbers(conn: psycopg.Connection[Any], table: str) -> None:
    store = VectorStore(conn, table, 3)
    store.create()
    store.add(np.random.default_rng(0).standard_normal((3000, 3)))
    store.create_index()
    query = [0.123456789, -0.987654321, 0.5551234]
    for flt in (None, {"lang": "en"}):
        plan = "\n".join(store.explain(query, k=3, filter=flt))
        assert re.search(QUERY_PARAM, plan) and ("Index Scan using" in plan or flt)
        assert "0.12345" not in plan and "0.98765" not in plan and "0.55512" not in plan


def test_open_checks_the_table(conn: psycopg.Connection[Any], new_table: Callable[[], str]) -> None:
    name = new_table()
    store = VectorStore(conn, name, 6, metric="cosine")
    store.create()
    store.add(np.random.default_rng(1).standard_normal((100, 6)))
    store.create_index()
    opened = VectorStore.open(conn, name)
    assert (opened.dim, opened.metric.name) == (6, "cosine") and opened.count() == 100
    with pytest.raises(StoreMismatch, match="index .* for vector_cosine_ops \\(metric cosine\\), not the l2"):
        VectorStore(conn, name, 6, metric="l2").search(np.ones(6))
    with pytest.raises(StoreMismatch, match="not the ip metric"):
        VectorStore.open(conn, name, metric="ip")
    with pytest.raises(StoreMismatch, match="vectors of 6 dimensions, not 5"):
        VectorStore(conn, name, 5, metric="cosine").count()
    with pytest.raises(psycopg.errors.UndefinedTable):
        VectorStore.open(conn, new_table())
    bare = new_table()
    VectorStore(conn, bare, 2).create()
    with pytest.raises(StoreMismatch, match="no hnswmm index"):
        VectorStore.open(conn, bare)
    assert VectorStore.open(conn, bare, metric="l1").metric.name == "l1"


def test_in_a_transaction_of_the_callers(server: None, new_table: Callable[[], str]) -> None:
    with connect(autocommit=False) as c:
        store = VectorStore(c, new_table(), 2)
        store.create()
        store.add([[1.0, 0.0], [0.0, 1.0]])
        c.commit()
        assert store.search([1.0, 0.0], k=1)[0].id == 0
        assert c.info.transaction_status == pq.TransactionStatus.IDLE  # not left in a transaction
        with c.transaction():
            store.search([1.0, 0.0], k=1, ef_search=77)
            assert c.execute("SHOW hnswmm.ef_search").fetchone() == ("77",)  # like SET LOCAL
        assert c.execute("SHOW hnswmm.ef_search").fetchone() == ("40",)


def test_async_store_does_all_of_it(server: None, new_table: Callable[[], str], tmp_path: Path) -> None:
    vectors, meta = rows(400, 4)
    path = tmp_path / "v.f32"
    write_mock_f32(path, 10, 4)
    name, foreign, loaded = new_table(), new_table(), new_table()
    with connect() as c:
        c.execute(sql.SQL("CREATE TABLE {} (id int, note text)").format(sql.Identifier(foreign)))

    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(autocommit=True) as conn:
            store = AsyncVectorStore(conn, name, 4, metric="l2")
            await store.create()
            assert await store.add(vectors[:300], metadata=meta[:300]) == list(range(300))
            assert await store.add(vectors[300:], metadata=meta[300:], ids=range(1000, 1100)) == list(
                range(1000, 1100))
            assert await store.upsert([0, 5000], vectors[:2] * 0, ["zero", "new"]) == 2
            got = await store.get([5000, 0])
            assert [g.text for g in got] == ["new", "zero"] and not got[1].embedding.any()
            assert await store.delete([5000]) == 1
            await store.create_index(m=8, ef_construction=32)
            opened = await AsyncVectorStore.open(conn, name)
            assert opened.metric.name == "l2" and opened.dim == 4
            hits = await opened.search(vectors[1], k=400, filter={"lang": "de", "year": {"$lt": 2010}})
            want = {i for i in matching(meta[:300], lambda m: m["lang"] == "de" and m["year"] < 2010)}
            want |= {1000 + i - 300 for i in matching(meta, lambda m: m["lang"] == "de" and m["year"] < 2010)
                     if i >= 300}
            assert {h.id for h in hits} == want
            plan = "\n".join(await opened.explain(vectors[1], k=3))
            assert re.search(rf"Order By: \(embedding <-> {QUERY_PARAM}\)|Sort Key: \(\(embedding <-> {QUERY_PARAM}\)\)",
                             plan.replace(f"{name}.", "")), plan
            with pytest.raises(TypeError, match="a filter is a dict"):
                await opened.search(vectors[1], filter="lang = 'de'")  # type: ignore[arg-type]
            with pytest.raises(StoreMismatch, match="not a vector store"):
                await AsyncVectorStore(conn, foreign, 4).count()
            with pytest.raises(StoreMismatch, match="not the cosine metric"):
                await AsyncVectorStore.open(conn, name, metric="cosine")
            other = AsyncVectorStore(conn, loaded, 4)
            await other.create()
            assert await other.load_f32(path, start=2, count=5, progress=False) == 5
            assert await other.add(vectors[:2]) == [7, 8]
    asyncio.run(main())
