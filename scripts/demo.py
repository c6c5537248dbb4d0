"""`make demo`: Fashion-MNIST in Postgres, exact search, then the hnswmm index.

Loads the 60,000 training images as vector(784) rows by binary COPY, shows
the 5 nearest neighbours of a few test images by exact search, then builds
the hnswmm index and shows the same searches through it, the plan, and
recall@10 over 100 test images.  The `vector` adapters are those of the
hnswmm Python package (python/hnswmm).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from hnswmm import exact  # noqa: E402
import fmnist  # noqa: E402
from hnswmm import register_vector  # noqa: E402

SHOWN_QUERIES = 5
SHOWN_NEIGHBOURS = 5
RECALL_QUERIES = 100
RECALL_K = 10
EF_SEARCH = 40
INDEX_SQL = ("CREATE INDEX items_emb_idx ON items USING hnswmm (emb vector_l2_ops)"
             " WITH (m = 16, ef_construction = 64)")
SEARCH_SQL = ("SELECT id, label, emb <-> %(q)s FROM items"
              " ORDER BY emb <-> %(q)s LIMIT %(k)s")

Neighbours = list[tuple[int, int, float]]


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def relation_mb(conn: psycopg.Connection, relation: str) -> float:
    """Total size (with TOAST) of a table, or the size of an index, in MB."""
    row = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (relation,)).fetchone()
    return row[0] / 2**20 if row else 0.0


def load_items(conn: psycopg.Connection, images: np.ndarray, labels: np.ndarray) -> None:
    """Create and fill `items (id, label, emb)` by binary COPY and report the time."""
    conn.execute("DROP TABLE IF EXISTS items")
    conn.execute(f"CREATE TABLE items (id int PRIMARY KEY, label int, emb vector({images.shape[1]}))")
    vector_oid = register_vector(conn).oid
    start = time.perf_counter()
    with conn.cursor().copy("COPY items (id, label, emb) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "int4", vector_oid])
        for row in zip(range(len(images)), labels.tolist(), images):
            copy.write_row(row)
    seconds = time.perf_counter() - start
    conn.execute("VACUUM ANALYZE items")
    print(f"loaded {len(images):,} rows by binary COPY in {seconds:.1f} s"
          f" ({len(images) / seconds:,.0f} rows/s); table with TOAST and primary key"
          f" {relation_mb(conn, 'items'):.0f} MB")


def search(conn: psycopg.Connection, query: np.ndarray, k: int) -> tuple[Neighbours, float]:
    """The k nearest rows (id, label, distance) and the latency in ms."""
    start = time.perf_counter()
    rows = conn.execute(SEARCH_SQL, {"q": query, "k": k}, prepare=True).fetchall()
    return [(r[0], r[1], r[2]) for r in rows], (time.perf_counter() - start) * 1000


def pick_queries(labels: np.ndarray, n: int) -> list[int]:
    """Test image numbers: the first image of each of the first n classes seen."""
    _, first = np.unique(labels, return_index=True)
    return sorted(first.tolist())[:n]


def show_searches(conn: psycopg.Connection, queries: np.ndarray, numbers: list[int],
                   labels: np.ndarray, exact_answers: list[Neighbours] | None = None) -> list[Neighbours]:
    """Search each query, print its neighbours and latency, return the answers.

    With exact answers given, a neighbour that is not among them is starred.
    """
    print(f"{'query':<22}{'ms':>7}  rank     id  label       distance")
    answers = []
    for i, (q, number) in enumerate(zip(queries, numbers)):
        found, ms = search(conn, q, SHOWN_NEIGHBOURS)
        answers.append(found)
        truth = {r[0] for r in exact_answers[i]} if exact_answers else None
        lead = f"test #{number:<4} {fmnist.CLASS_NAMES[labels[number]]:<10}{ms:7.1f}"
        for rank, (item, label, dist) in enumerate(found, 1):
            star = "*" if truth is not None and item not in truth else " "
            print(f"{lead:<29}  {rank:4d}  {item:5d}{star} {fmnist.CLASS_NAMES[label]:<10} {dist:8.1f}")
            lead = ""
    if exact_answers:
        print("(* = not among the exact answers)")
    return answers


def plan_lines(conn: psycopg.Connection, query: np.ndarray) -> list[str]:
    """The scan lines of the plan of a search (vector literals cut off)."""
    plan = conn.execute("EXPLAIN (COSTS OFF) " + SEARCH_SQL, {"q": query, "k": SHOWN_NEIGHBOURS}).fetchall()
    return [r[0].strip()[:90] for r in plan if "Scan" in r[0]]


def measure_recall(conn: psycopg.Connection, base: np.ndarray, queries: np.ndarray) -> tuple[float, float]:
    """recall@10 of the index over the queries and the mean latency in ms."""
    true_ids, true_dist = exact.exact_knn("l2", base, queries, RECALL_K)
    found = np.full(true_ids.shape, -1, np.int64)
    total_ms = 0.0
    for i, q in enumerate(queries):
        rows, ms = search(conn, q, RECALL_K)
        found[i, :len(rows)] = [r[0] for r in rows]
        total_ms += ms
    return exact.recall_at_k("l2", base, queries, found, true_dist), total_ms / len(queries)


def main() -> int:
    images, labels = fmnist.load_images("train"), fmnist.load_labels("train")
    tests, test_labels = fmnist.load_images("test"), fmnist.load_labels("test")
    numbers = pick_queries(test_labels, SHOWN_QUERIES)
    shown = tests[numbers]
    with psycopg.connect(autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS hnswmm")
        register_vector(conn)
        section(f"Fashion-MNIST: {len(images):,} training images of {images.shape[1]} pixels"
                f" into items (id int PRIMARY KEY, label int, emb vector({images.shape[1]}))")
        load_items(conn, images, labels)

        section(f"exact search (sequential scan), {SHOWN_NEIGHBOURS} nearest: "
                "SELECT id, label, emb <-> $1 FROM items ORDER BY emb <-> $1 LIMIT 5")
        exact_answers = show_searches(conn, shown, numbers, test_labels)

        section(INDEX_SQL)
        start = time.perf_counter()
        conn.execute(INDEX_SQL)
        print(f"built in {time.perf_counter() - start:.1f} s;"
              f" index size {relation_mb(conn, 'items_emb_idx'):.1f} MB")

        conn.execute(f"SET hnswmm.ef_search = {EF_SEARCH}")
        section(f"the same searches through the index (SET hnswmm.ef_search = {EF_SEARCH})")
        show_searches(conn, shown, numbers, test_labels, exact_answers)
        print("plan: " + " / ".join(plan_lines(conn, shown[0])))

        recall, mean_ms = measure_recall(conn, images, tests[:RECALL_QUERIES])
        print(f"recall@{RECALL_K} over {RECALL_QUERIES} test images: {recall:.3f}"
              f" (exact answers by numpy); mean latency {mean_ms:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
