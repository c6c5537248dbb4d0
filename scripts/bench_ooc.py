"""`make bench-ooc`: search a vector set four times larger than the server's memory.

Fashion-MNIST's training images, repeated --copies times with Gaussian
noise (sigma --noise on the 0..255 pixel scale), make the base set; the test
images are the queries.  The server runs inside a memory control group
(cgroup v2 memory.max or v1 memory.limit_in_bytes, whichever this machine
lets root create) with shared_buffers well below the limit.

For each index (quantization 'binary', then 'none') the benchmark:
  1. builds the index under the memory limit and again with no limit, each
     from an empty OS page cache, reporting the build times (and their
     ratio), the control group's peak memory (page cache included) and the
     peak anonymous memory of the building processes (the graph), and runs
     queries at each ef_search on the index built under the limit;
  2. then, on the index built without the limit, with no limit and again
     with the limit (--limit-fraction of the vector bytes): restarts the
     server with an empty OS page cache and runs queries (cold); reads the
     table and the index into memory (pg_prewarm, hnswmm_prewarm: as much
     as the limit lets stay) and runs --warmup queries, then queries at
     each ef_search (warm); and restarts cold again to time hnswmm_prewarm
     and queries after it.  Every run since a start
     takes test images no earlier run of that start has used, so no run
     finds its rows cached by another.
It prints one table (with the kB the backends read from storage a query,
from /proc/PID/io, and the largest private memory, RssAnon, of a client
backend after the run), checks that the server was never OOM-killed, and
states whether quantized search at recall@10 >= 0.9 kept at least half of
its unlimited QPS under the limit and each build under the limit took at
most three times as long as without it.  --copies and --dim choose the
size (--copies 34 --dim 256: 2,040,000 vectors).  Needs root (control groups, dropping
the page cache); says why and exits 0 where it cannot run.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from contextlib import contextmanager
from typing import Callable, ContextManager, Iterator, Sequence

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
import fmnist  # noqa: E402
from bench import Result  # noqa: E402
from hnswmm import exact, register_vector  # noqa: E402
from hnswmm.cli import positive_ints  # noqa: E402

PG_BINDIR = Path(subprocess.check_output(
    [os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config"), "--bindir"], text=True).strip())
SQL = "SELECT id FROM items ORDER BY emb <-> %s LIMIT {k}"


class Cgroup:
    """A memory control group of our own, v2 or v1."""

    def __init__(self, path: Path, v2: bool) -> None:
        self.path, self.v2 = path, v2

    @classmethod
    def create(cls, name: str) -> "Cgroup":
        """Create the group; raises OSError (with a reason) where that is not possible."""
        root = Path("/sys/fs/cgroup")
        controllers = root / "cgroup.controllers"
        if controllers.exists() and "memory" in controllers.read_text().split():
            (root / "cgroup.subtree_control").write_text("+memory\n")
            (root / name).mkdir()
            return cls(root / name, True)
        v1 = root / "memory"
        if (v1 / "memory.limit_in_bytes").exists():
            (v1 / name).mkdir()
            return cls(v1 / name, False)
        raise OSError("no cgroup v2 memory controller and no cgroup v1 memory hierarchy")

    def _file(self, v2: str, v1: str) -> Path:
        return self.path / (v2 if self.v2 else v1)

    def set_limit(self, limit: int | None) -> None:
        if self.v2:
            self._file("memory.max", "").write_text(f"{limit if limit else 'max'}\n")
        else:
            self._file("", "memory.limit_in_bytes").write_text(f"{limit if limit else -1}\n")

    def reset_peak(self) -> None:
        try:
            self._file("memory.peak", "memory.max_usage_in_bytes").write_text("0\n")
        except OSError:
            pass  # v2 before Linux 6.12: the peak since the group was made

    def peak(self) -> int:
        try:
            return int(self._file("memory.peak", "memory.max_usage_in_bytes").read_text())
        except OSError:
            return int(self._file("memory.current", "memory.usage_in_bytes").read_text())

    def oom_kills(self) -> int:
        text = self._file("memory.events", "memory.oom_control").read_text()
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def join(self) -> None:
        """Move the calling process into the group (a preexec_fn)."""
        (self.path / "cgroup.procs").write_text(f"{os.getpid()}\n")

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError as e:
            print(f"note: could not remove {self.path}: {e}", flush=True)


@dataclass
class Row:
    index: str
    limit: str
    phase: str
    result: Result
    extra: str = ""
    kb_read: float = 0.0        # kB the backends read from storage a query
    backend_mb: float = 0.0     # largest private memory (RssAnon) of a client backend after the run


@dataclass
class BuildInfo:
    index: str
    limit: str
    seconds: float
    cgroup_peak_mb: float
    anon_peak_mb: float
    graph_mb: float
    vector_mb: float
    notice: str


@dataclass
class Bench:
    args: argparse.Namespace
    cg: Cgroup
    data_dir: Path
    base: np.ndarray
    queries: np.ndarray
    true_dist: np.ndarray
    server_options: str = ""
    conn: psycopg.Connection | None = None  # the first connection since the last start
    conns: list[psycopg.Connection] = field(default_factory=list)  # all of them, one a client
    cursor: int = 0             # next unused query since the server started
    rows: list[Row] = field(default_factory=list)
    builds: list[BuildInfo] = field(default_factory=list)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--copies", type=int, default=5, help="copies of the 60,000 training images")
    p.add_argument("--dim", type=int, default=784,
                   help="dimensions: below 784, the images (and queries) are projected to this"
                        " many by a fixed Gaussian random projection before the noise is added,"
                        " which keeps their clusters (--copies 34 --dim 256: 2,040,000 x 256)")
    p.add_argument("--noise", type=float, default=25.0, help="sigma of the noise added to each copy")
    p.add_argument("--ef", type=positive_ints, default="10,20,30,40,60", help="ef_search values of the warm runs")
    p.add_argument("--rerank", type=int, default=20,
                   help="hnswmm.rerank: candidates re-ranked, each a read from disk under the"
                        " limit (default 20, twice the LIMIT of 10; 0: the index's default,"
                        " twice ef_search)")
    p.add_argument("--nq", type=int, default=200, help="queries of each cold run")
    p.add_argument("--nq-warm", type=int, default=1000,
                   help="queries of each warm run (fast: fewer would time too little)")
    p.add_argument("--warmup", type=int, default=1000, help="queries of the warm-up before the warm runs")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--clients", type=int, default=1, help="concurrent connections of the timed runs")
    p.add_argument("--indexes", default="binary,none", help="quantizations to build, in order")
    p.add_argument("--no-include", dest="include", action="store_false",
                   help="index emb alone, without INCLUDE (id): each result then reads its heap page")
    p.add_argument("--limit-fraction", type=float, default=0.25,
                   help="the memory limit as a fraction of the vector bytes")
    p.add_argument("--shared-fraction", type=float, default=0.5,
                   help="shared_buffers as a fraction of the memory limit")
    args = p.parse_args(argv)
    args.metric = "l2"
    return args


def make_data(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    train = fmnist.load_images("train")
    rng = np.random.default_rng(20261124)
    needed = args.nq_warm * len(args.ef) + args.nq * 2 + args.warmup  # what one server start runs
    queries = fmnist.load_images("test")[:needed]
    if args.dim < train.shape[1]:
        # a random projection keeps distances' ratios, so noise of the same
        # sigma per dimension keeps its size relative to the images'
        projection = (rng.normal(0.0, 1.0, (train.shape[1], args.dim))
                      / np.sqrt(train.shape[1])).astype(np.float32)
        train, queries = train @ projection, queries @ projection
    base = np.empty((len(train) * args.copies, train.shape[1]), np.float32)
    for c in range(args.copies):
        noise = rng.normal(0.0, args.noise, train.shape)
        base[c * len(train):(c + 1) * len(train)] = train + noise.astype(np.float32)
    return base, queries


def server_options(data_dir: Path) -> str:
    """The options the server was started with (postmaster.opts, less the program)."""
    opts = (data_dir / "postmaster.opts").read_text().strip()
    return opts.split(" ", 1)[1] if " " in opts else ""


def drop_page_cache() -> None:
    if not bench.drop_page_cache():
        raise SystemExit("cannot drop the page cache (not root?)")


def restart_cold(b: Bench) -> None:
    """Stop the server, empty the OS page cache, start it again in the group."""
    data = b.data_dir
    b.cursor = 0
    as_pg = ["runuser", "-u", "postgres", "--"]
    for conn in b.conns:
        conn.close()
    subprocess.run(as_pg + [str(PG_BINDIR / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                   check=True, stdout=subprocess.DEVNULL)
    drop_page_cache()
    subprocess.run(as_pg + [str(PG_BINDIR / "pg_ctl"), "-D", str(data), "-l",
                            str(data.parent / "server.log"), "-o", b.server_options, "-w", "start"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   preexec_fn=b.cg.join)
    b.conns = [psycopg.connect(autocommit=True) for _ in range(b.args.clients)]
    for conn in b.conns:
        register_vector(conn)
    b.conn = b.conns[0]


def anon_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class AnonSampler(threading.Thread):
    """Peak of the summed RssAnon of a backend and its parallel workers."""

    def __init__(self, leader: int) -> None:
        super().__init__(daemon=True)
        self.leader, self.peak_kb, self.stop = leader, 0, threading.Event()

    def run(self) -> None:
        with psycopg.connect(autocommit=True) as conn:
            while not self.stop.is_set():
                workers = [r[0] for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE backend_type = 'parallel worker'")]
                self.peak_kb = max(self.peak_kb, sum(anon_kb(p) for p in [self.leader, *workers]))
                time.sleep(0.05)


def build(b: Bench, quantization: str, limit_bytes: int | None) -> None:
    """Build the index from an empty page cache, under limit_bytes if given."""
    notices: list[str] = []
    b.cg.set_limit(limit_bytes)
    restart_cold(b)
    with psycopg.connect(autocommit=True) as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        conn.execute("SET client_min_messages = notice")
        conn.execute("DROP INDEX IF EXISTS items_emb_idx")
        b.cg.reset_peak()
        sampler = AnonSampler(conn.info.backend_pid)
        sampler.start()
        include = " INCLUDE (id)" if b.args.include else ""
        sql = ("CREATE INDEX items_emb_idx ON items USING hnswmm (emb vector_l2_ops)"
               f"{include} WITH (quantization = '{quantization}')")
        print(sql, flush=True)
        start = time.perf_counter()
        conn.execute(sql)
        seconds = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
        graph, vectors = conn.execute(
            "SELECT graph_bytes, vector_bytes FROM hnswmm_index_info('items_emb_idx')").fetchone()
    graph_notice = next((n for n in notices if "graph of" in n), "")
    limit = f"{limit_bytes / 2**20:.0f} MB" if limit_bytes else "none"
    info = BuildInfo(quantization, limit, seconds, b.cg.peak() / 2**20, sampler.peak_kb / 1024,
                     graph / 2**20, vectors / 2**20, graph_notice)
    b.builds.append(info)
    print(f"  {describe(info)}", flush=True)


def describe(bi: BuildInfo) -> str:
    return (f"build {bi.index}, memory limit {bi.limit}: {bi.seconds:.1f} s; control group peak {bi.cgroup_peak_mb:.0f} MB"
            f" (page cache included); building processes' private memory peak"
            f" {bi.anon_peak_mb:.0f} MB; NOTICE \"{bi.notice}\"; index graph pages"
            f" {bi.graph_mb:.0f} MB, vector pages {bi.vector_mb:.0f} MB")


def next_queries(b: Bench, n: int) -> slice:
    """The next n queries that this server start has not run yet, so that
    no run finds its vectors and rows cached by an earlier one."""
    part = slice(b.cursor, b.cursor + n)
    if part.stop > len(b.queries):
        raise SystemExit(f"needs more than {len(b.queries)} queries: lower --nq or --warmup")
    b.cursor = part.stop
    return part


def searcher(b: Bench, ef: int) -> Callable[[], ContextManager[bench.Search]]:
    """Searches on the connections of this server start, one a client, as a
    pooled application's would be: their backends have warmed up like theirs."""
    free = list(b.conns)
    lock = threading.Lock()
    settings = [f"SET hnswmm.ef_search = {ef}", "SET enable_seqscan = off",
                f"SET hnswmm.rerank = {b.args.rerank}"]

    @contextmanager
    def open_search() -> Iterator[bench.Search]:
        with lock:
            conn = free.pop()
        try:
            yield bench.prepared_search(conn, SQL.format(k=b.args.k), settings)
        finally:
            with lock:
                free.append(conn)
    return open_search


def read_bytes(b: Bench) -> int:
    """Bytes the backends of this start's connections have read from
    storage (/proc/PID/io: vector pages through the mapping, its read-ahead
    included, and heap and graph pages missing from shared buffers)."""
    total = 0
    for conn in b.conns:
        io = Path(f"/proc/{conn.info.backend_pid}/io").read_text()
        total += int(next(line.split()[1] for line in io.splitlines() if line.startswith("read_bytes:")))
    return total


def measure(b: Bench, index: str, limit: str, phase: str, ef: int, extra: str = "") -> None:
    part = next_queries(b, b.args.nq_warm if phase == "warm" else b.args.nq)
    print(f"  [{index}, {limit}, {phase}]", end="", flush=True)
    before = read_bytes(b)
    result = bench.measure(f"hnswmm {index}", ef, searcher(b, ef), b.args, b.base,
                           b.queries[part], b.true_dist[part], warm=False)
    kb_read = (read_bytes(b) - before) / 1024 / (part.stop - part.start)
    backend_mb = max(anon_kb(conn.info.backend_pid) for conn in b.conns) / 1024
    b.rows.append(Row(index, limit, phase, result, extra, kb_read, backend_mb))


def prewarm(b: Bench) -> str:
    start = time.perf_counter()
    assert b.conn is not None
    graph, vectors = b.conn.execute("SELECT * FROM hnswmm_prewarm('items_emb_idx')").fetchone()
    return (f"hnswmm_prewarm: {time.perf_counter() - start:.2f} s,"
            f" graph {graph / 2**20:.0f} MB loaded, vectors {vectors / 2**20:.0f} MB advised")


def warm_up(b: Bench) -> None:
    """Read the table and the index into the OS page cache (as much as the
    limit lets stay), the graph into shared buffers, then run --warmup
    queries of their own."""
    assert b.conn is not None
    b.conn.execute("SELECT pg_prewarm('items', 'read'), pg_prewarm('items_emb_idx', 'read')")
    b.conn.execute("SELECT hnswmm_prewarm('items_emb_idx')")
    part = next_queries(b, b.args.warmup)
    bench.run_queries(searcher(b, b.args.ef[0]), b.queries[part], b.args.k, b.args.clients)


def run_limit(b: Bench, index: str, limit_bytes: int | None) -> None:
    """Cold, warm (each ef) and prewarmed-cold runs, each on queries of its own."""
    limit = f"{limit_bytes / 2**20:.0f} MB" if limit_bytes else "none"
    b.cg.set_limit(limit_bytes)
    first = b.args.ef[0]
    restart_cold(b)
    measure(b, index, limit, "cold", first)
    warm_up(b)
    for ef in b.args.ef:
        measure(b, index, limit, "warm", ef)
    restart_cold(b)
    note = prewarm(b)
    print(f"  {note}", flush=True)
    measure(b, index, limit, "cold after prewarm", first, extra=note)


def table(b: Bench) -> str:
    n, d = b.base.shape
    projected = f", projected to {d} dimensions" if d < 784 else ""
    lines = [f"fashion-mnist x {b.args.copies}{projected} with noise {b.args.noise}: {n:,} x {d}"
             f" ({b.base.nbytes / 2**20:.0f} MB of vectors), {b.args.nq} queries a cold run and"
             f" {b.args.nq_warm} a warm one (each run"
             f" its own), k {b.args.k}, {b.args.clients} client(s)", "",
             "| index | memory limit | phase | ef | recall@10 | QPS | p50 ms | p99 ms | kB read a query"
             " | backend MB |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in b.rows:
        x = r.result
        lines.append(f"| {r.index} | {r.limit} | {r.phase} | {x.ef} | {x.recall:.4f} | {x.qps:.1f} |"
                     f" {x.p50_ms:.2f} | {x.p99_ms:.2f} | {r.kb_read:.0f} | {r.backend_mb:.1f} |")
    lines.append("")
    for bi in b.builds:
        lines.append(f"- {describe(bi)}")
    free = {bi.index: bi.seconds for bi in b.builds if bi.limit == "none"}
    for bi in b.builds:
        if bi.limit != "none" and bi.index in free:
            ratio = bi.seconds / free[bi.index]
            verdict = "met" if ratio <= 3 else "NOT met"
            lines.append(f"- build target ({verdict}): {bi.index} under the {bi.limit} limit took"
                         f" {ratio:.2f}x its time without the limit (at most 3x)")
    return "\n".join(lines) + "\n"


def target(b: Bench, limit: str) -> str:
    """Quantized search at recall >= 0.9: limited warm QPS over unlimited warm QPS."""
    warm = {(r.limit, r.result.ef): r.result for r in b.rows if r.index == "binary" and r.phase == "warm"}
    for ef in b.args.ef:
        free, held = warm.get(("none", ef)), warm.get((limit, ef))
        if free and held and free.recall >= 0.9:
            ratio = held.qps / free.qps
            verdict = "met" if ratio >= 0.5 and held.recall >= 0.9 else "NOT met"
            return (f"target ({verdict}): binary at ef {ef} (recall {free.recall:.4f} unlimited,"
                    f" {held.recall:.4f} limited) keeps {ratio:.2f} of its unlimited QPS"
                    f" ({held.qps:.0f} / {free.qps:.0f}) under the {limit} limit")
    return "target: no binary run reached recall 0.9"


def server_log_kills(data_dir: Path) -> list[str]:
    log = (data_dir.parent / "server.log").read_text(errors="replace")
    return [line for line in log.splitlines() if "was terminated by signal" in line]


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("bench-ooc skipped: it needs root (a memory control group, dropping the page cache)")
        return 0
    try:
        cg = Cgroup.create(f"hnswmm-bench-{os.getpid()}")
    except OSError as e:
        print(f"bench-ooc skipped: cannot create a memory control group here ({e})")
        return 0
    print(f"memory control group {cg.path} (cgroup {'v2' if cg.v2 else 'v1'})", flush=True)
    data_dir = Path(os.environ["HNSWMM_TMP"]) / "data"
    try:
        base, queries = make_data(args)
        start = time.perf_counter()
        _, true_dist = exact.exact_knn("l2", base, queries, args.k)
        print(f"{len(base):,} x {base.shape[1]} vectors ({base.nbytes / 2**20:.0f} MB);"
              f" exact top-{args.k} of {len(queries)} queries in {time.perf_counter() - start:.1f} s",
              flush=True)
        b = Bench(args, cg, data_dir, base, queries, true_dist)
        limit_bytes = int(base.nbytes * args.limit_fraction)
        shared_kb = int(limit_bytes * args.shared_fraction) // 1024
        b.server_options = server_options(data_dir) + f" -c shared_buffers={shared_kb}kB"
        with psycopg.connect(autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS hnswmm")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        cg.set_limit(None)
        restart_cold(b)  # the server now runs inside the group
        assert b.conn is not None
        bench.load_table(b.conn, base)
        shared = b.conn.execute("SHOW shared_buffers").fetchone()[0]
        limit = f"{limit_bytes / 2**20:.0f} MB"
        for index in args.indexes.split(","):
            build(b, index, limit_bytes)
            for ef in args.ef:
                measure(b, index, limit, "built under the limit", ef)
            build(b, index, None)
            run_limit(b, index, None)
            run_limit(b, index, limit_bytes)
            cg.set_limit(None)
        text = table(b)
        kills, died = cg.oom_kills(), server_log_kills(data_dir)
        text += (f"- memory limit {limit} = {args.limit_fraction} of the vector bytes;"
                 f" shared_buffers {shared} ({args.shared_fraction} of the limit);"
                 f" OOM kills in the group: {kills}; server processes killed: {len(died)}\n")
        text += f"- {target(b, limit)}\n"
        print("\n" + text)
        out = Path("bench/out")
        out.mkdir(parents=True, exist_ok=True)
        (out / "ooc.md").write_text(text)
        print(f"wrote {out}/ooc.md")
        return 1 if kills or died else 0
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BINDIR / "pg_ctl"), "-D",
                        str(data_dir), "-m", "fast", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cg.remove()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
