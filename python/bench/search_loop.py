"""Time a loop of VectorStore.search calls and count the round trips of one.

    cd python && /usr/bin/python3 bench/search_loop.py [--rows 10000] [--dim 384] [--searches 1000]
                                                       [--package-dir DIR]

It uses only the API that older versions of the store have too, so the
same script measures them: --package-dir names the directory that holds
the hnswmm package to measure (default: this checkout's python/).  Connects
with the PG* environment, creates and drops a table of its own (refusing
to touch one that exists).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import numpy as np
import psycopg
from psycopg import pq



def round_trips(conn: psycopg.Connection[Any], action: Callable[[], Any]) -> int:
    with tempfile.TemporaryFile("w+") as f:
        conn.pgconn.trace(f.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            action()
        finally:
            conn.pgconn.untrace()
        f.seek(0)
        return sum(1 for line in f if line.startswith("B") and "\tReadyForQuery" in line)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--searches", type=int, default=1000)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--ef-search", type=int, default=40)
    p.add_argument("--package-dir", default=str(Path(__file__).resolve().parents[1]))
    args = p.parse_args()
    sys.path.insert(0, args.package_dir)
    from hnswmm import VectorStore
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((args.rows, args.dim)).astype(np.float32)
    queries = rng.standard_normal((args.searches, args.dim)).astype(np.float32)
    with psycopg.connect(autocommit=True) as conn:
        store = VectorStore(conn, f"search_loop_{uuid.uuid4().hex[:8]}", args.dim)
        store.create()
        try:
            store.add(vectors, metadata=[{"group": i % 10} for i in range(args.rows)], progress=False)
            store.create_index(m=16, ef_construction=64)
            for q in queries[:50]:  # warm up: caches, prepared statements
                store.search(q, k=args.k, ef_search=args.ef_search)
            for label, flt in (("no filter", None), ("filter {'group': 3}", {"group": 3})):
                trips = round_trips(conn, lambda: store.search(queries[0], k=args.k, ef_search=args.ef_search,
                                                               filter=flt))
                times = []
                start = time.perf_counter()
                for q in queries:
                    t = time.perf_counter()
                    store.search(q, k=args.k, ef_search=args.ef_search, filter=flt)
                    times.append((time.perf_counter() - t) * 1000)
                total = time.perf_counter() - start
                print(f"{label}: {args.searches} searches (k {args.k}, ef_search {args.ef_search}, {args.rows:,} x"
                      f" {args.dim}) in {total:.3f} s: {args.searches / total:,.0f}/s, mean"
                      f" {statistics.mean(times):.3f} ms, p50 {statistics.median(times):.3f} ms;"
                      f" {trips} round trip(s) per search")
        finally:
            store.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
