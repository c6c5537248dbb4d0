"""VectorStore: create, bulk add, index, search against exact answers,
metadata filters, delete, and bad input."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import psycopg
import pytest
from psycopg import sql

from conftest import connect, unique_name
from hnswmm import METRICS, InvalidVector, VectorStore
from hnswmm.vector import Array
from hnswmm.exact import exact_knn

ROWS, DIM, K = 10_000, 32, 10


@dataclass
class Loaded:
    store: VectorStore
    vectors: Array
    ids: Array  # ids[i] is the id of vectors[i]
    groups: Array


@pytest.fixture(scope="module")
def loaded(server: None) -> Iterator[Loaded]:
    """A store of 10,000 random vectors with texts, metadata and an index."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((ROWS, DIM)).astype(np.float32)
    groups = np.arange(ROWS) % 10
    with connect() as c:
        store = VectorStore(c, unique_name("t_store"), DIM)
        store.create()
        ids = store.add(vectors, [f"row {i}" for i in range(ROWS)],
                        [{"group": int(g), "even": bool(i % 2 == 0)} for i, g in enumerate(groups)])
        store.create_index(m=16, ef_construction=64)
        try:
            yield Loaded(store, vectors, np.asarray(ids), groups)
        finally:
            store.drop()


def exact_sql_ids(store: VectorStore, query: Array, k: int, group: int | None = None) -> list[int]:
    """The exact top k by the server itself, with index scans off."""
    where = sql.SQL("WHERE metadata @> jsonb_build_object('group', %(g)s::int)" if group is not None else "")
    q = sql.SQL("SELECT id FROM {} {} ORDER BY embedding <-> %(q)s LIMIT %(k)s").format(
        sql.Identifier(store.table), where)
    with store.conn.transaction(), store.conn.cursor() as cur:
        cur.execute("SET LOCAL enable_indexscan = off")
        return [r[0] for r in cur.execute(q, {"q": query, "k": k, "g": group}).fetchall()]


def test_add_returns_ids_and_counts(loaded: Loaded) -> None:
    assert loaded.store.count() == ROWS
    assert len(np.unique(loaded.ids)) == ROWS
    hit = loaded.store.search(loaded.vectors[123], k=1)[0]
    assert hit.id == loaded.ids[123] and hit.distance == 0.0
    assert hit.text == "row 123" and hit.metadata == {"group": 3, "even": False}


def test_search_uses_the_index(loaded: Loaded) -> None:
    plan = "\n".join(loaded.store.explain(loaded.vectors[0], k=K))
    assert "Index Scan using" in plan and "_embedding_idx" in plan


def test_search_matches_exact_search(loaded: Loaded, rng: np.random.Generator) -> None:
    queries = rng.standard_normal((20, DIM)).astype(np.float32)
    true_ids, true_dist = exact_knn("l2", loaded.vectors, queries, K)
    hits = 0
    for q, ids, dist in zip(queries, true_ids, true_dist):
        found = loaded.store.search(q, k=K, ef_search=200)
        assert len(found) == K
        assert [r.distance for r in found] == sorted(r.distance for r in found)
        hits += len({r.id for r in found} & set(loaded.ids[ids].tolist()))
        # the distances returned are the exact ones of the rows returned
        rows = np.searchsorted(loaded.ids, [r.id for r in found])
        np.testing.assert_allclose([r.distance for r in found],
                                   np.linalg.norm(loaded.vectors[rows] - q, axis=1), rtol=1e-5)
    assert hits / (20 * K) >= 0.98
    # and the server's own exact answer agrees with numpy
    assert exact_sql_ids(loaded.store, queries[0], K) == loaded.ids[true_ids[0]].tolist()


def test_smaller_ef_search_still_returns_k(loaded: Loaded) -> None:
    assert len(loaded.store.search(loaded.vectors[5], k=50, ef_search=10)) == 50


def test_filter_by_metadata(loaded: Loaded, rng: np.random.Generator) -> None:
    recall = []
    for q in rng.standard_normal((10, DIM)).astype(np.float32):
        found = loaded.store.search(q, k=5, ef_search=400, filter={"group": 3})
        assert len(found) == 5
        assert all(r.metadata == {"group": 3, "even": False} for r in found)
        recall.append(len({r.id for r in found} & set(exact_sql_ids(loaded.store, q, 5, group=3))) / 5)
    assert np.mean(recall) >= 0.9
    assert loaded.store.search(loaded.vectors[0], k=5, filter={"group": 99}) == []


def test_delete(loaded: Loaded) -> None:
    victims = loaded.ids[:100]
    assert loaded.store.delete(victims) == 100
    assert loaded.store.delete(victims) == 0
    assert loaded.store.count() == ROWS - 100
    for i in (0, 50, 99):
        assert loaded.store.search(loaded.vectors[i], k=3)[0].id not in set(victims.tolist())


@pytest.mark.parametrize("metric", sorted(set(METRICS) - {"l2"}))
def test_other_metrics(conn: psycopg.Connection[Any], table: str, metric: str, rng: np.random.Generator) -> None:
    vectors = rng.standard_normal((2000, 8))
    store = VectorStore(conn, table, 8, metric=metric)
    store.create()
    ids = np.asarray(store.add(vectors))
    store.create_index()
    assert any("Index Scan" in line for line in store.explain(vectors[0]))
    for q in rng.standard_normal((5, 8)):
        true_ids, true_dist = exact_knn(metric, vectors.astype(np.float32), q[None, :].astype(np.float32), 5)
        found = store.search(q, k=5, ef_search=100)
        assert [r.id for r in found] == ids[true_ids[0]].tolist()
        np.testing.assert_allclose([r.distance for r in found], true_dist[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("quantization", ["sq8", "binary"])
def test_quantized_index(conn: psycopg.Connection[Any], table: str, quantization: str,
                         rng: np.random.Generator) -> None:
    vectors = rng.standard_normal((2000, 64))
    store = VectorStore(conn, table, 64)
    store.create()
    ids = np.asarray(store.add(vectors))
    store.create_index(m=8, ef_construction=32, quantization=quantization)
    row = conn.execute(f"SELECT quantization FROM hnswmm_index_info('{table}_embedding_idx')").fetchone()
    assert row == (quantization,)
    for q in rng.standard_normal((5, 64)):
        true_ids, true_dist = exact_knn("l2", vectors.astype(np.float32), q[None, :].astype(np.float32), 5)
        found = store.search(q, k=5, ef_search=200)
        assert [r.id for r in found] == ids[true_ids[0]].tolist()
        np.testing.assert_allclose([r.distance for r in found], true_dist[0], rtol=1e-4, atol=1e-5)


def test_bad_quantization(conn: psycopg.Connection[Any], table: str) -> None:
    store = VectorStore(conn, table, 4)
    store.create()
    with pytest.raises(ValueError, match="quantization must be one of none, sq8, binary"):
        store.create_index(quantization="pq")


def test_bad_input(conn: psycopg.Connection[Any], table: str) -> None:
    store = VectorStore(conn, table, 4)
    store.create()
    with pytest.raises(InvalidVector, match="expected vectors of 4 dimensions, got 3"):
        store.add(np.ones((2, 3)))
    with pytest.raises(InvalidVector, match="NaN"):
        store.add([[1, 2, 3, 4], [1, 2, float("nan"), 4]])
    with pytest.raises(InvalidVector, match="2-D"):
        store.add(np.ones(4))
    with pytest.raises(ValueError, match="2 embeddings but 1 texts"):
        store.add(np.ones((2, 4)), texts=["one"])
    with pytest.raises(InvalidVector, match="the query has 3 dimensions"):
        store.search(np.ones(3))
    with pytest.raises(InvalidVector, match="one-dimensional"):
        store.search(np.ones((2, 4)))
    with pytest.raises(ValueError, match="k must be"):
        store.search(np.ones(4), k=0)
    with pytest.raises(TypeError, match="not JSON serializable"):  # the COPY is rolled back
        store.add(np.ones((3, 4)), metadata=[{"a": 1}, {"a": 2}, {"a": object()}])
    assert store.count() == 0
    with pytest.raises(psycopg.errors.DuplicateTable):
        store.create()
    store.create(exist_ok=True)
    with pytest.raises(ValueError, match="metric must be one of"):
        VectorStore(conn, table, 4, metric="hamming")
    with pytest.raises(ValueError, match="dim must be"):
        VectorStore(conn, table, 0)


def test_in_a_callers_transaction(server: None, new_table: Callable[[], str]) -> None:
    with connect(autocommit=False) as c:
        store = VectorStore(c, new_table(), 2)
        store.create()
        c.commit()
        with c.transaction(force_rollback=True):
            store.add([[1.0, 2.0], [3.0, 4.0]])
            assert store.count() == 2
        assert store.count() == 0
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_progress_bar(conn: psycopg.Connection[Any], table: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = VectorStore(conn, table, 3)
    store.create()
    store.add(np.ones((5000, 3)), progress=True)
    err = capsys.readouterr().err
    assert f"add to {table}" in err and "100.0% 5,000/5,000 rows" in err
    store.add(np.ones((10, 3)))
    assert capsys.readouterr().err == ""


def test_identifiers_are_quoted(conn: psycopg.Connection[Any], table: str) -> None:
    store = VectorStore(conn, table + '"; DROP TABLE x; --', 2)
    try:
        store.create()
        store.add([[1.0, 1.0]], ["it's"], [{"quote": "'"}])
        assert store.search([1.0, 1.0], k=1)[0].text == "it's"
    finally:
        store.drop()
