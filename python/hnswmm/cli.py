"""The command line: `python3 -m hnswmm COMMAND [options]`.

    generate-mock-data  write a raw float32 file of random vectors
    benchmark           load such a file, index part of it, measure recall and latency
    semantic-search     answer questions from the PostgreSQL manual

The database commands connect with --dsn, which defaults to the PGHOST,
PGPORT, PGUSER and PGDATABASE environment variables (libpq's defaults).
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Sequence

import psycopg

from .docs import DOCS_DIR
from .embed import LSA_DIM
from .f32 import write_mock_f32
from .store import METRICS

Subparsers = argparse._SubParsersAction  # the type of parser.add_subparsers()


def positive_ints(text: str) -> list[int]:
    """argparse type: positive integers separated by commas."""
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"not positive integers separated by commas: {text!r}")
    return values


def _add_connection(p: argparse.ArgumentParser, table: str) -> None:
    p.add_argument("--dsn", default="", help="libpq connection string (default: the PG* environment)")
    p.add_argument("--table", default=table, help=f"table to create (default {table})")
    p.add_argument("--keep", action="store_true", help="keep the table afterwards")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars on stderr")


def _generate_parser(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("generate-mock-data", help="write a raw float32 file of random vectors",
                       description="Write N random vectors shaped like text embeddings (unit length,"
                                   " clustered) as raw little-endian float32, N x dim.")
    p.add_argument("--out", default="mock.f32", help="file to write (default mock.f32)")
    p.add_argument("--n", type=int, default=100_000, help="number of vectors (default 100,000)")
    p.add_argument("--dim", type=int, default=384, help="dimensions (default 384)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _benchmark_parser(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("benchmark", help="load a float32 file, index a range, measure recall and latency",
                       description="Load a raw float32 file into a table by binary COPY, build an hnswmm"
                                   " index over rows [start, start + rows), and time the vectors after"
                                   " that range as queries: recall@k against numpy's exact answers and"
                                   " latency percentiles through SQL.")
    p.add_argument("--data", default="mock.f32", help="raw float32 file (default mock.f32)")
    p.add_argument("--dim", type=int, default=384, help="dimensions of the file's vectors (default 384)")
    p.add_argument("--start", type=int, default=0, help="first row to index (default 0)")
    p.add_argument("--rows", type=int, default=20_000, help="rows to index (default 20,000)")
    p.add_argument("--queries", type=int, default=500, help="queries, taken after the range (default 500)")
    p.add_argument("--k", type=int, default=10, help="neighbours per query (default 10)")
    p.add_argument("--metric", choices=sorted(METRICS), default="l2")
    p.add_argument("--m", type=int, default=16, help="index option m (default 16)")
    p.add_argument("--ef-construction", type=int, default=32, help="index option ef_construction (default 32)")
    p.add_argument("--ef-search", type=positive_ints, default=[10, 20, 40, 80],
                   help="comma-separated hnswmm.ef_search values (default 10,20,40,80)")
    _add_connection(p, "hnswmm_bench")


def _semantic_parser(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("semantic-search", help="answer questions from the PostgreSQL manual",
                       description="Split the PostgreSQL manual into passages, embed them, store them with"
                                   " a cosine hnswmm index and print the passages nearest to each question.")
    p.add_argument("questions", nargs="+", help="questions, each one argument")
    p.add_argument("--docs", default=str(DOCS_DIR), help=f"directory of HTML pages (default {DOCS_DIR})")
    p.add_argument("--max-pages", type=int, help="read only this many pages (for a quick try)")
    p.add_argument("--model", help="'lsa', or a sentence-transformers model directory or cached name"
                                   " (default: $HNSWMM_ST_MODEL or all-MiniLM-L6-v2 if on disk, else lsa)")
    p.add_argument("--lsa-dim", type=int, default=LSA_DIM, help=f"LSA dimensions (default {LSA_DIM})")
    p.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    p.add_argument("--ef-search", type=int, help="hnswmm.ef_search for the searches")
    p.add_argument("--m", type=int, default=16, help="index option m (default 16)")
    p.add_argument("--ef-construction", type=int, default=64, help="index option ef_construction (default 64)")
    _add_connection(p, "hnswmm_pgdocs")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m hnswmm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _generate_parser(sub)
    _benchmark_parser(sub)
    _semantic_parser(sub)
    return parser


def generate(args: argparse.Namespace) -> int:
    seconds = write_mock_f32(args.out, args.n, args.dim, args.seed)
    size = Path(args.out).stat().st_size
    print(f"wrote {args.n:,} x {args.dim} float32 vectors ({size / 2**20:,.1f} MiB, seed {args.seed})"
          f" to {args.out} in {seconds:.2f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; expected failures print one line and return 1."""
    args = build_parser().parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # report lines between the progress bars
    try:
        return _run(args)
    except (OSError, ValueError, RuntimeError, psycopg.Error) as e:
        print(f"hnswmm {args.command}: error: {str(e).strip()}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "generate-mock-data":
        return generate(args)
    if args.command == "benchmark":
        from . import benchmark
        return benchmark.run(args)
    from . import semantic
    return semantic.run(args)


if __name__ == "__main__":
    sys.exit(main())
