"""`python3 -m hnswmm search`: index part of a raw float32 file and print
the k nearest neighbours of one query with their distances.

The rows [start, start + rows) go into a table by binary COPY with their
row numbers as ids, an hnswmm index is built with the given m and
ef_construction, and the query (a row of the file, or a random unit
vector) is searched through SQL.  The answer is checked against numpy's
exact k nearest neighbours of the same rows.
"""
from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from .adapters import register_vector
from .benchmark import DEFAULT_DIM, Queries
from .exact import exact_knn
from .f32 import f32_rows, load_f32, read_f32, resolve_dim
from .tables import claim_table
from .vector import Floats


def _check(args: argparse.Namespace) -> int:
    """The file's number of rows, once the arguments fit it."""
    args.dim = resolve_dim(args.data, args.dim, DEFAULT_DIM)
    total = f32_rows(args.data, args.dim)
    if args.rows < 1 or args.start < 0 or args.start + args.rows > total:
        raise ValueError(f"{args.data} has {total:,} vectors: --start {args.start:,} --rows {args.rows:,}"
                         f" needs {args.start + args.rows:,}")
    if args.k < 1:
        raise ValueError(f"--k must be at least 1, not {args.k}")
    if args.query_row is not None and not 0 <= args.query_row < total:
        raise ValueError(f"--query-row {args.query_row:,} is not a row of {args.data} (0..{total - 1:,})")
    return total


def query_vector(args: argparse.Namespace, total: int) -> tuple[Floats, str]:
    """The query and a description of it: --random, --query-row, or by
    default the first row after the indexed range (else the first row)."""
    if args.random:
        rng = np.random.default_rng(args.seed)
        vec = rng.standard_normal(args.dim).astype(np.float32)
        return vec / np.linalg.norm(vec), f"a random unit vector (seed {args.seed})"
    row = args.query_row
    if row is None:
        row = args.start + args.rows if args.start + args.rows < total else args.start
    inside = args.start <= row < args.start + args.rows
    where = "indexed" if inside else "not indexed"
    return read_f32(args.data, args.dim, row, 1)[0], f"row {row:,} of {args.data} ({where})"


def run(args: argparse.Namespace) -> int:
    total = _check(args)
    query, label = query_vector(args, total)
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        q = Queries.build(args, register_vector(conn).schema)
        claim_table(conn, args.table, args.replace, "search")
        t = time.perf_counter()
        load_f32(conn, args.table, args.data, args.dim, start=args.start, count=args.rows,
                 progress=args.progress)
        print(f"loaded rows {args.start:,}..{args.start + args.rows - 1:,} of {args.data}"
              f" ({total:,} x {args.dim}) in {time.perf_counter() - t:.2f} s")
        try:
            rows = _index_and_search(conn, args, q, query)
        finally:
            if not args.keep:  # the table this run created
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(q.table))
    print(f"query: {label}")
    print(format_neighbours(rows, args.metric))
    print(exact_line(args, query, [r[0] for r in rows]))
    return 0


def _index_and_search(conn: psycopg.Connection[Any], args: argparse.Namespace, q: Queries,
                      query: Floats) -> list[tuple[int, float]]:
    t = time.perf_counter()
    conn.execute(q.index)
    conn.execute(sql.SQL("ANALYZE {}").format(q.table))
    print(f"indexed with hnswmm (m {args.m}, ef_construction {args.ef_construction}, {args.metric})"
          f" in {time.perf_counter() - t:.2f} s")
    if args.ef_search is not None:
        conn.execute("SELECT set_config('hnswmm.ef_search', %s, false)", (str(max(args.ef_search, args.k)),))
    rows = conn.cursor(binary=True).execute(q.search, (query,)).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]


def format_neighbours(rows: list[tuple[int, float]], metric: str) -> str:
    """A table of rank, id and distance, nearest first."""
    lines = [f"{'rank':>4}  {'id':>10}  {metric + ' distance':>12}"]
    lines += [f"{rank:>4}  {row_id:>10}  {dist:>12.6f}" for rank, (row_id, dist) in enumerate(rows, 1)]
    return "\n".join(lines)


def exact_line(args: argparse.Namespace, query: Floats, found: list[int]) -> str:
    """How many of the exact k nearest (numpy) the index returned."""
    base = read_f32(args.data, args.dim, args.start, args.rows)
    ids, _ = exact_knn(args.metric, base, query[None, :], args.k)
    true = {int(i) + args.start for i in ids[0]}
    return f"exact check: {len(true & set(found))} of the {len(true)} true nearest neighbours found (numpy)"
