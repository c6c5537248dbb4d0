"""Retrieval over a corpus stored once: `ingest`, then `ask` any number of
times, and `evaluate` against questions with known answers.

`ingest` embeds the passages of the manual (or reads their vectors from a
raw float32 file computed elsewhere) into a VectorStore table with a
cosine hnswmm index, adds a full-text column (`fts`, a stored tsvector of
title, section and text, with a GIN index), and keeps what the embedder
needs to embed questions later in a side table `<table>_embedder`: the
LSA model's parameters, or the name of a pretrained model.  All of it is
one transaction: on an error nothing is left behind.

`retrieve` answers a question in one of three modes, each one SQL
statement:

- vector: the k passages nearest to the question's embedding;
- text: full-text search, the question's words ORed
  (`plainto_tsquery`, `&` turned into `|`), ranked by `ts_rank`;
- hybrid: both lists (the best `pool` of each) fused by reciprocal rank
  fusion, score = sum of 1 / (60 + rank), in one statement.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import psycopg
from psycopg import sql

from .docs import Passage, load_passages, passage_lines
from .embed import Embedder, LsaEmbedder, LsaModel, PrecomputedEmbedder, UseLiteEmbedder
from .store import VectorStore
from .tables import claim_table
from .vector import Floats

MODES = ("vector", "text", "hybrid")
RRF_K = 60  # the constant of reciprocal rank fusion
DEFAULT_POOL = 50  # candidates of each list that hybrid fuses
EMBEDDERS = ("lsa", "use-lite")
_FTS_COLUMN = sql.SQL(
    "ALTER TABLE {} ADD COLUMN fts tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(metadata ->> 'title', '')), 'A') ||"
    " setweight(to_tsvector('english', coalesce(metadata ->> 'section', '')), 'B') ||"
    " to_tsvector('english', coalesce(content, ''))) STORED")
_TSQUERY = sql.SQL("replace(plainto_tsquery('english', %(text)s)::text, ' & ', ' | ')::tsquery")


@dataclass(frozen=True)
class EmbedderRecord:
    """What `ask` needs to embed questions as `ingest` embedded passages."""

    kind: str  # lsa, use-lite, precomputed
    dim: int
    name: str
    model: bytes | None = None  # the LSA parameters


@dataclass(frozen=True)
class Hit:
    """A passage retrieved: its id, score (distance for vector, higher is
    better for text and hybrid), ranks in the two lists, text, metadata."""

    id: int
    score: float
    vector_rank: int | None
    text_rank: int | None
    text: str | None
    metadata: dict[str, Any] | None


def side_table(table: str) -> str:
    return f"{table}_embedder"


def record_for(embedder: Embedder, kind: str) -> EmbedderRecord:
    """The record of an embedder that has embedded the corpus."""
    if isinstance(embedder, LsaEmbedder):
        model = embedder.model()
        return EmbedderRecord("lsa", model.dim, model.name, model.to_bytes())
    return EmbedderRecord(kind, embedder.dim, embedder.name)


def embedder_for(record: EmbedderRecord, query_embeddings: str | None = None) -> Embedder | None:
    """An embedder of questions for a stored corpus, or None when there is
    none (vectors computed elsewhere and no --query-embeddings)."""
    if query_embeddings is not None:
        return PrecomputedEmbedder(query_embeddings, record.dim)
    if record.kind == "lsa" and record.model is not None:
        return LsaModel.from_bytes(record.model)
    if record.kind == "use-lite":
        return UseLiteEmbedder()
    return None


def make_embedder(kind: str, lsa_dim: int) -> Embedder:
    if kind == "lsa":
        return LsaEmbedder(lsa_dim)
    if kind == "use-lite":
        return UseLiteEmbedder()
    raise ValueError(f"--embedder must be one of {', '.join(EMBEDDERS)}, not {kind!r}")


def _save_record(conn: psycopg.Connection[Any], table: str, record: EmbedderRecord) -> None:
    ident = sql.Identifier(side_table(table))
    conn.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY CHECK (id = 1), kind text NOT NULL,"
                         " dim int NOT NULL, name text NOT NULL, model bytea)").format(ident))
    conn.execute(sql.SQL("INSERT INTO {} VALUES (1, %s, %s, %s, %s)").format(ident),
                 (record.kind, record.dim, record.name, record.model))


def load_record(conn: psycopg.Connection[Any], table: str) -> EmbedderRecord:
    """The embedder of a table made by `ingest`."""
    ident = sql.Identifier(side_table(table))
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (ident.as_string(conn),)).fetchone()
    if not exists or not exists[0]:
        raise ValueError(f"table {side_table(table)} is missing: {table} was not made by `ingest`")
    row = conn.execute(sql.SQL("SELECT kind, dim, name, model FROM {}").format(ident)).fetchone()
    if row is None:
        raise ValueError(f"table {side_table(table)} is empty")
    return EmbedderRecord(row[0], int(row[1]), row[2], bytes(row[3]) if row[3] is not None else None)


def ingest(conn: psycopg.Connection[Any], table: str, passages: Sequence[Passage], vectors: Floats,
           record: EmbedderRecord, m: int = 16, ef_construction: int = 64, progress: bool = False) -> VectorStore:
    """Store embedded passages with their full text and embedder, in one
    transaction, in new tables `table` and `<table>_embedder`."""
    store = VectorStore(conn, table, int(vectors.shape[1]), metric="cosine")
    with conn.transaction():
        store.create()
        conn.execute(_FTS_COLUMN.format(sql.Identifier(table)))
        store.add(vectors, [p.text for p in passages],
                  [{"page": p.page, "title": p.title, "section": p.section} for p in passages], progress=progress)
        conn.execute(sql.SQL("CREATE INDEX {} ON {} USING gin (fts)").format(
            sql.Identifier(f"{table}_fts_idx"), sql.Identifier(table)))
        store.create_index(m=m, ef_construction=ef_construction)
        _save_record(conn, table, record)
    return store


def _text_sql(table: sql.Identifier) -> sql.Composed:
    return sql.SQL(
        "SELECT id, ts_rank(fts, q) AS score, NULL::bigint AS vrank,"
        " row_number() OVER (ORDER BY ts_rank(fts, q) DESC, id) AS trank, content, metadata"
        " FROM {t}, (SELECT {tsq} AS q) AS question WHERE fts @@ q ORDER BY score DESC, id LIMIT %(k)s").format(t=table, tsq=_TSQUERY)


def _hybrid_sql(store: VectorStore, table: sql.Identifier) -> sql.Composed:
    """Reciprocal rank fusion of the vector and the text lists, one statement."""
    distance = store.distance_sql()
    return sql.SQL(
        "WITH vec AS (SELECT id, row_number() OVER (ORDER BY distance) AS rank FROM"
        " (SELECT id, {d} AS distance FROM {t} ORDER BY distance LIMIT %(pool)s) v),"
        " txt AS (SELECT id, row_number() OVER (ORDER BY score DESC, id) AS rank FROM"
        " (SELECT id, ts_rank(fts, q) AS score FROM {t}, (SELECT {tsq} AS q) AS question WHERE fts @@ q"
        " ORDER BY score DESC, id LIMIT %(pool)s) x),"
        " fused AS (SELECT id, coalesce(1.0 / ({c} + vec.rank), 0) + coalesce(1.0 / ({c} + txt.rank), 0) AS score,"
        " vec.rank AS vrank, txt.rank AS trank FROM vec FULL JOIN txt USING (id))"
        " SELECT f.id, f.score, f.vrank, f.trank, t.content, t.metadata FROM fused f JOIN {t} t USING (id)"
        " ORDER BY f.score DESC, f.id LIMIT %(k)s").format(
        d=distance, t=table, tsq=_TSQUERY, c=sql.Literal(RRF_K))


def retrieve(store: VectorStore, mode: str, question: str, vector: Floats | None, k: int,
             pool: int = DEFAULT_POOL, ef_search: int | None = None) -> list[Hit]:
    """The k best passages for a question, by vector, text or hybrid."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != "text" and vector is None:
        raise ValueError(f"mode {mode} needs the question's embedding")
    if mode == "vector":
        if not np.any(vector):  # no word of the question is known to the embedder
            return []
        return [Hit(r.id, r.distance, rank, None, r.text, r.metadata)
                for rank, r in enumerate(store.search(vector, k=k, ef_search=ef_search), 1)]
    table = sql.Identifier(store.table)
    query = _text_sql(table) if mode == "text" else _hybrid_sql(store, table)
    if mode == "hybrid" and not np.any(vector):  # no word known to the embedder: the text list alone
        query = _text_sql(table)
    params = {"text": question, "k": k, "pool": max(pool, k), "beam": max(pool, k), "q": vector,
              "ef": ef_search}
    rows = store.conn.execute(query, params, binary=True).fetchall()
    return [Hit(int(r[0]), float(r[1]), r[2], r[3], r[4], r[5]) for r in rows]


def format_hits(question: str, hits: Sequence[Hit], mode: str, ms: float) -> str:
    """A question and its passages, best first, as text to print."""
    lines = [f"\nQ: {question}  ({mode}, {ms:.1f} ms)"]
    if not hits:
        lines.append("     no passage found")
    for rank, hit in enumerate(hits, 1):
        score = (f"distance {hit.score:.3f}" if mode == "vector" else
                 f"rank {hit.score:.4f}" if mode == "text" else
                 f"rrf {hit.score:.4f}, vector #{hit.vector_rank or '-'}, text #{hit.text_rank or '-'}")
        lines.extend(passage_lines(rank, score, hit.metadata, hit.text))
    return "\n".join(lines)


def _passages(args: argparse.Namespace) -> list[Passage]:
    t = time.perf_counter()
    passages = load_passages(Path(args.docs), args.max_pages)
    pages = len({p.page for p in passages})
    print(f"corpus: {len(passages):,} passages from {pages:,} pages of {args.docs}"
          f" in {time.perf_counter() - t:.1f} s")
    return passages


def run_ingest(args: argparse.Namespace) -> int:
    passages = _passages(args)
    if args.write_passages:
        with open(args.write_passages, "x", encoding="utf-8") as f:
            for p in passages:
                f.write(json.dumps({"text": p.for_embedding(), "page": p.page}) + "\n")
        print(f"wrote the {len(passages):,} texts to embed, in order, to {args.write_passages}")
        return 0
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        claim_table(conn, args.table, args.replace, "ingest")
        claim_table(conn, side_table(args.table), args.replace, "ingest")
        t = time.perf_counter()
        texts = [p.for_embedding() for p in passages]
        if args.embeddings:
            vectors = PrecomputedEmbedder(args.embeddings, args.dim).embed(texts)
            record = EmbedderRecord(args.embedder or "precomputed", int(vectors.shape[1]),
                                    f"vectors from {Path(args.embeddings).name}")
        else:
            embedder = make_embedder(args.embedder or "lsa", args.lsa_dim)
            try:
                embedder.fit(texts)
                vectors = embedder.embed(texts)
                record = record_for(embedder, args.embedder or "lsa")
            finally:
                getattr(embedder, "close", lambda: None)()
        print(f"embedded: {record.name} in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        ingest(conn, args.table, passages, vectors, record, args.m, args.ef_construction, args.progress)
        print(f"stored in {args.table} (hnswmm cosine index, full-text column fts with a GIN index)"
              f" and {side_table(args.table)} in {time.perf_counter() - t:.1f} s")
    return 0


def _question_vectors(store: VectorStore, embedder: Embedder | None, questions: Sequence[str],
                      mode: str) -> list[Floats | None]:
    if mode == "text":
        return [None] * len(questions)
    if embedder is None:
        raise ValueError("this table's vectors were computed elsewhere: give --query-embeddings FILE"
                         " (one row per question), or --mode text")
    vectors = embedder.embed(list(questions))
    if vectors.shape[1] != store.dim:
        raise ValueError(f"question vectors have {vectors.shape[1]} dimensions, the table {store.dim}")
    return list(vectors)


def run_ask(args: argparse.Namespace) -> int:
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        store = VectorStore.open(conn, args.table)
        record = load_record(conn, args.table)
        embedder = embedder_for(record, args.query_embeddings) if args.mode != "text" else None
        try:
            t = time.perf_counter()
            vectors = _question_vectors(store, embedder, args.questions, args.mode)
            embed_ms = (time.perf_counter() - t) * 1000 / len(args.questions)
            for question, vector in zip(args.questions, vectors):
                t = time.perf_counter()
                hits = retrieve(store, args.mode, question, vector, args.k, args.pool, args.ef_search)
                print(format_hits(question, hits, args.mode, embed_ms + (time.perf_counter() - t) * 1000))
        finally:
            getattr(embedder, "close", lambda: None)()
    return 0


@dataclass(frozen=True)
class Score:
    mode: str
    hit1: float
    hit3: float
    questions: int


def evaluate(store: VectorStore, embedder: Embedder | None, items: Sequence[dict[str, Any]],
             modes: Sequence[str], pool: int = DEFAULT_POOL) -> list[Score]:
    """hit@1 and hit@3 of each mode: the share of questions with a passage
    of an answering page among the first 1 (3) passages."""
    questions = [item["question"] for item in items]
    scores = []
    for mode in modes:
        vectors = _question_vectors(store, embedder, questions, mode)
        hits1 = hits3 = 0
        for item, question, vector in zip(items, questions, vectors):
            pages = [(h.metadata or {}).get("page") for h in retrieve(store, mode, question, vector, 3, pool)]
            good = set(item["pages"])
            hits1 += bool(pages[:1] and pages[0] in good)
            hits3 += any(p in good for p in pages[:3])
        scores.append(Score(mode, hits1 / len(items), hits3 / len(items), len(items)))
    return scores


def run_evaluate(args: argparse.Namespace) -> int:
    items = json.loads(Path(args.questions).read_text(encoding="utf-8"))["questions"]
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        store = VectorStore.open(conn, args.table)
        record = load_record(conn, args.table)
        modes = args.modes
        embedder = embedder_for(record) if modes != ["text"] else None
        if embedder is None:
            modes = ["text"]
        try:
            scores = evaluate(store, embedder, items, modes, args.pool)
        finally:
            getattr(embedder, "close", lambda: None)()
    print(f"{len(items)} questions of {args.questions}; table {args.table}, embedder {record.name}")
    print("| mode | hit@1 | hit@3 |\n|---|---:|---:|")
    for s in scores:
        print(f"| {s.mode} | {s.hit1:.2f} | {s.hit3:.2f} |")
    return 0
