"""`python3 -m hnswmm benchmark`: load part of a raw float32 file, index
it, and measure recall and latency through SQL.

The rows [start, start + rows) of the file go into a table by binary COPY,
with their row numbers as ids (load time), and an hnswmm index is built
on them (build time).  The queries are the vectors that follow that range
in the file, read by numpy and never loaded; their exact neighbours in the
range come from numpy, and each ef_search runs them all as `SELECT id ...
ORDER BY embedding <op> $1 LIMIT k` (a prepared statement), timing each one.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import psycopg
from psycopg import sql

from .adapters import register_vector
from .exact import exact_knn, recall_at_k
from .f32 import f32_rows, load_f32, read_f32, resolve_dim
from .store import METRICS
from .tables import claim_table
from .vector import Array

DEFAULT_DIM = 384  # --dim without a sidecar
EXACT_SQL_QUERIES = 10
WARMUP_QUERIES = 20


@dataclass
class Timing:
    """Recall and latency of one configuration."""

    label: str
    recall: float
    qps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float

    def row(self) -> str:
        return (f"| {self.label} | {self.recall:.4f} | {self.qps:,.0f} | {self.p50_ms:.3f}"
                f" | {self.p90_ms:.3f} | {self.p99_ms:.3f} |")


@dataclass(frozen=True)
class Queries:
    """The SQL of a benchmark or a search: table, index, and the search
    (one parameter, the query; rows of id and distance)."""

    table: sql.Identifier
    index: sql.Composed
    search: sql.Composed

    @classmethod
    def build(cls, args: argparse.Namespace, schema: str) -> Queries:
        table = sql.Identifier(args.table)
        metric = METRICS[args.metric]
        index = sql.SQL(
            "CREATE INDEX {} ON {} USING hnswmm (embedding {}.{}) WITH (m = {}, ef_construction = {})").format(
            sql.Identifier(f"{args.table}_embedding_idx"), table, sql.Identifier(schema),
            sql.Identifier(metric.opclass), sql.Literal(args.m), sql.Literal(args.ef_construction))
        search = sql.SQL(
            "SELECT id, embedding OPERATOR({}.{}) %s AS distance FROM {} ORDER BY distance LIMIT {}").format(
            sql.Identifier(schema), sql.SQL(metric.operator), table, sql.Literal(args.k))
        return cls(table, index, search)


def _timed(search: Callable[[Array], list[int]], queries: Array, k: int,
           start: int) -> tuple[Array, Array]:
    """Row numbers found (-1 padded) and the latency of each query in ms."""
    for q in queries[:WARMUP_QUERIES]:
        search(q)
    found = np.full((len(queries), k), -1, np.int64)
    latency = np.empty(len(queries))
    for i, q in enumerate(queries):
        t = time.perf_counter()
        ids = search(q)
        latency[i] = (time.perf_counter() - t) * 1000
        found[i, :len(ids)] = np.asarray(ids[:k], np.int64) - start
    return found, latency


def _timing(label: str, metric: str, base: Array, queries: Array, found: Array,
            latency: Array, true_dist: Array) -> Timing:
    p50, p90, p99 = np.percentile(latency, [50, 90, 99])
    recall = recall_at_k(metric, base, queries[:len(found)], found, true_dist[:len(found)])
    return Timing(label, recall, 1000 / latency.mean(), float(p50), float(p90), float(p99))


def _searcher(cur: psycopg.Cursor[Any], query: sql.Composed,
              prepare: bool = True) -> Callable[[Array], list[int]]:
    """A search by a query of one parameter.  A prepared statement keeps its
    plan when settings change, so the exact scan must not be one."""
    def search(q: Array) -> list[int]:
        cur.execute(query, (q,), prepare=prepare)
        return [r[0] for r in cur.fetchall()]
    return search


def _check_args(args: argparse.Namespace) -> int:
    """The number of vectors in the file, after checking the ranges fit
    (and setting args.dim from the file's sidecar when not given)."""
    args.dim = resolve_dim(args.data, args.dim, DEFAULT_DIM)
    total = f32_rows(args.data, args.dim)
    need = args.start + args.rows + args.queries
    if min(args.rows, args.queries, args.k) < 1 or args.start < 0 or need > total:
        raise SystemExit(f"{args.data} has {total:,} vectors; --start {args.start:,} --rows {args.rows:,}"
                         f" and --queries {args.queries:,} (taken after the range) need {need:,}")
    return total


def _plan_line(cur: psycopg.Cursor[Any], q: sql.Composed, vec: Array) -> str:
    rows = cur.execute(sql.SQL("EXPLAIN (COSTS OFF) ") + q, (vec,)).fetchall()
    return next((r[0].strip() for r in rows if "Scan" in r[0]), "?")


def run(args: argparse.Namespace) -> int:
    total = _check_args(args)
    print(f"data: {args.data}, {total:,} x {args.dim} float32 ({total * args.dim * 4 / 2**20:,.1f} MiB);"
          f" metric {args.metric}")
    size_mb = args.rows * args.dim * 4 / 2**20
    base = read_f32(args.data, args.dim, args.start, args.rows)
    queries = read_f32(args.data, args.dim, args.start + args.rows, args.queries)
    t = time.perf_counter()
    _, true_dist = exact_knn(args.metric, base, queries, args.k)
    print(f"exact top-{args.k} of {len(queries):,} queries by numpy in {time.perf_counter() - t:.2f} s")
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        queries_sql = Queries.build(args, register_vector(conn).schema)
        claim_table(conn, args.table, args.replace, "benchmark")
        _load(conn, args, size_mb)  # creates the table, or leaves nothing behind
        try:
            timings = _run_sql(conn, args, queries_sql, base, queries, true_dist)
        finally:
            if not args.keep:  # the table this run created, and nothing else
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(queries_sql.table))
    print(f"\n| search | recall@{args.k} | QPS | p50 ms | p90 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|")
    for timing in timings:
        print(timing.row())
    return 0


def _load(conn: psycopg.Connection[Any], args: argparse.Namespace, size_mb: float) -> None:
    """Create the table and load the rows to index into it (one transaction)."""
    t = time.perf_counter()
    rows = load_f32(conn, args.table, args.data, args.dim, start=args.start, count=args.rows,
                    progress=args.progress)
    load_s = time.perf_counter() - t
    print(f"load: {rows:,} rows ({args.start:,}..{args.start + rows - 1:,}) by binary COPY in {load_s:.2f} s"
          f" ({rows / load_s:,.0f} rows/s, {size_mb / load_s:,.1f} MiB/s)")


def _run_sql(conn: psycopg.Connection[Any], args: argparse.Namespace, q: Queries, base: Array,
             queries: Array, true_dist: Array) -> list[Timing]:
    conn.execute(sql.SQL("VACUUM ANALYZE {}").format(q.table))
    t = time.perf_counter()
    conn.execute(q.index)
    print(f"build: hnswmm index on rows {args.start:,}..{args.start + args.rows - 1:,}"
          f" (m {args.m}, ef_construction {args.ef_construction}) in {time.perf_counter() - t:.2f} s")
    timings = []
    with conn.cursor() as cur:
        cur.execute("SET enable_indexscan = off")
        found, lat = _timed(_searcher(cur, q.search, prepare=False), queries[:EXACT_SQL_QUERIES], args.k, args.start)
        timings.append(_timing("exact scan (SQL)", args.metric, base, queries, found, lat, true_dist))
        cur.execute("RESET enable_indexscan")
        print(f"plan: {_plan_line(cur, q.search, queries[0])}")
        for ef in args.ef_search:
            cur.execute("SELECT set_config('hnswmm.ef_search', %s, false)", (str(ef),))
            found, lat = _timed(_searcher(cur, q.search), queries, args.k, args.start)
            timings.append(_timing(f"hnswmm ef_search {ef}", args.metric, base, queries, found, lat, true_dist))
    return timings
