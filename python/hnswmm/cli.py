"""The command line: `python3 -m hnswmm COMMAND [options]`.

    generate-mock-data  write a raw float32 file of random vectors (and its sidecar)
    search              index part of such a file, print the k nearest of one query
    benchmark           index part of such a file, measure recall and latency
    ingest              embed the PostgreSQL manual (or vectors computed elsewhere) into a table
    ask                 answer questions from a table made by ingest (vector, text or hybrid)
    evaluate            hit@1 and hit@3 of ask's modes on questions with known answers
    semantic-search     ingest, ask and drop in one run

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
from .f32 import sidecar_path, write_mock_f32
from .rag import EMBEDDERS, MODES
from .store import METRICS

QUESTIONS_FILE = Path(__file__).resolve().parents[1] / "tests" / "data" / "pgdocs_questions.json"

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


def _add_index_options(p: argparse.ArgumentParser, ef_construction: int = 64) -> None:
    p.add_argument("--m", type=int, default=16, help="index option m (default 16)")
    p.add_argument("--ef-construction", type=int, default=ef_construction,
                   help=f"index option ef_construction (default {ef_construction})")


def _add_connection(p: argparse.ArgumentParser, table: str) -> None:
    p.add_argument("--dsn", default="", help="libpq connection string (default: the PG* environment)")
    p.add_argument("--table", default=table,
                   help=f"table to create (default {table}); an existing one is an error unless --replace")
    p.add_argument("--replace", action="store_true",
                   help="drop an existing table of that name (and its rows) first")
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
    p.add_argument("--replace", action="store_true", help="overwrite --out if it exists")


def _benchmark_parser(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("benchmark", help="index part of a float32 file, measure recall and latency",
                       description="Load rows [start, start + rows) of a raw float32 file into a table by"
                                   " binary COPY, build an hnswmm index on them, and time the vectors after"
                                   " that range as queries: recall@k against numpy's exact answers and"
                                   " latency percentiles through SQL.")
    _add_data(p)
    p.add_argument("--queries", type=int, default=500, help="queries, taken after the range (default 500)")
    p.add_argument("--k", type=int, default=10, help="neighbours per query (default 10)")
    p.add_argument("--metric", choices=sorted(METRICS), default="l2")
    _add_index_options(p, ef_construction=32)
    p.add_argument("--ef-search", type=positive_ints, default=[10, 20, 40, 80],
                   help="comma-separated hnswmm.ef_search values (default 10,20,40,80)")
    _add_connection(p, "hnswmm_bench")


def _add_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="mock.f32", help="raw float32 file (default mock.f32)")
    p.add_argument("--dim", type=int, help="dimensions of the file's vectors (default: from the file's"
                                           " sidecar FILE.json, else 384); checked against both")
    p.add_argument("--start", type=int, default=0, help="first row to index (default 0)")
    p.add_argument("--rows", type=int, default=20_000, help="rows to load and index (default 20,000)")


def _search_parser(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("search", help="index part of a float32 file, print the k nearest of one query",
                       description="Load rows [start, start + rows) of a raw float32 file (ids are row"
                                   " numbers), build an hnswmm index with m and ef_construction, and print"
                                   " the rank, id and distance of the k rows nearest to the query.")
    _add_data(p)
    p.add_argument("--k", type=int, default=5, help="neighbours to print (default 5)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--query-row", type=int,
                       help="query with this row of the file (default: the first row after the range)")
    which.add_argument("--random", action="store_true", help="query with a random unit vector")
    p.add_argument("--seed", type=int, default=0, help="seed of --random (default 0)")
    p.add_argument("--metric", choices=sorted(METRICS), default="l2")
    _add_index_options(p)
    p.add_argument("--ef-search", type=int, help="hnswmm.ef_search (default: the server's, at least k)")
    _add_connection(p, "hnswmm_search")


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
    _add_index_options(p)
    _add_connection(p, "hnswmm_pgdocs")


def _ingest_parser(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ingest", help="embed the PostgreSQL manual into a table, once",
                       description="Split the manual into passages, embed them, and store them in --table with"
                                   " a cosine hnswmm index and a full-text column, and what the embedder needs"
                                   " to embed questions in --table_embedder; `ask` then answers from them.")
    p.add_argument("--docs", default=str(DOCS_DIR), help=f"directory of HTML pages (default {DOCS_DIR})")
    p.add_argument("--max-pages", type=int, help="read only this many pages (for a quick try)")
    p.add_argument("--embedder", choices=EMBEDDERS,
                   help="lsa (default; fitted on the passages) or use-lite (node, embedders/use-lite)")
    p.add_argument("--lsa-dim", type=int, default=LSA_DIM, help=f"LSA dimensions (default {LSA_DIM})")
    p.add_argument("--embeddings", help="raw float32 file of the passages' vectors, computed elsewhere, one row"
                                        " per passage in the order of --write-passages; with --embedder, the"
                                        " embedder that made them (to embed questions)")
    p.add_argument("--dim", type=int, help="dimensions of --embeddings (default: its sidecar's)")
    p.add_argument("--write-passages", metavar="FILE",
                   help="only write the texts to embed, as JSON lines in order, to FILE (a new file)")
    _add_index_options(p)
    p.add_argument("--dsn", default="", help="libpq connection string (default: the PG* environment)")
    p.add_argument("--table", default="hnswmm_pgdocs", help="table to create (default hnswmm_pgdocs)")
    p.add_argument("--replace", action="store_true", help="drop existing tables of those names first")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars on stderr")


def _ask_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dsn", default="", help="libpq connection string (default: the PG* environment)")
    p.add_argument("--table", default="hnswmm_pgdocs", help="a table made by ingest (default hnswmm_pgdocs)")
    p.add_argument("--pool", type=int, default=50, help="candidates of each list that hybrid fuses (default 50)")


def _ask_parser(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="answer questions from a table made by ingest",
                       description="Embed each question as ingest embedded the passages, and print the k best"
                                   " passages: by vector, by full-text search, or both fused (hybrid).")
    p.add_argument("questions", nargs="+", help="questions, each one argument")
    p.add_argument("--mode", choices=MODES, default="hybrid", help="default hybrid")
    p.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    p.add_argument("--ef-search", type=int, help="hnswmm.ef_search for the searches")
    p.add_argument("--query-embeddings", help="raw float32 file of the questions' vectors, one row per question"
                                              " (for a table whose vectors were computed elsewhere)")
    _ask_common(p)


def _evaluate_parser(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("evaluate", help="hit@1 and hit@3 of ask on questions with known answers",
                       description="For each question of a JSON file ({\"questions\": [{\"question\": ...,"
                                   " \"pages\": [...]}]}) retrieve 3 passages and count a hit when one is from"
                                   " an answering page.")
    p.add_argument("--questions", default=str(QUESTIONS_FILE), help=f"default {QUESTIONS_FILE}")
    p.add_argument("--modes", type=lambda t: t.split(","), default=list(MODES),
                   help="comma-separated modes (default vector,text,hybrid)")
    _ask_common(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m hnswmm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _generate_parser(sub)
    _search_parser(sub)
    _benchmark_parser(sub)
    _ingest_parser(sub)
    _ask_parser(sub)
    _evaluate_parser(sub)
    _semantic_parser(sub)
    return parser


def generate(args: argparse.Namespace) -> int:
    seconds = write_mock_f32(args.out, args.n, args.dim, args.seed, replace=args.replace)
    size = Path(args.out).stat().st_size
    print(f"wrote {args.n:,} x {args.dim} float32 vectors ({size / 2**20:,.1f} MiB, seed {args.seed})"
          f" to {args.out} in {seconds:.2f} s, and their dimension to {sidecar_path(args.out)}")
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
    if args.command in ("ingest", "ask", "evaluate"):
        from . import rag
        return {"ingest": rag.run_ingest, "ask": rag.run_ask, "evaluate": rag.run_evaluate}[args.command](args)
    if args.command == "search":
        from . import search
        return search.run(args)
    from . import semantic
    return semantic.run(args)


if __name__ == "__main__":
    sys.exit(main())
