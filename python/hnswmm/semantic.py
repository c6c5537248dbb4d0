"""`python3 -m hnswmm semantic-search`: answer questions from the
PostgreSQL manual.

The manual's HTML pages (Debian's postgresql-doc-N) are split into
passages, embedded (a local sentence-transformers model when there is one,
else LSA fitted on the passages), stored in a VectorStore table with a
cosine hnswmm index, and each question is embedded the same way and
answered with the nearest passages.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import psycopg

from .docs import Passage, load_passages, passage_lines
from .embed import Embedder, choose_embedder
from .store import SearchResult, VectorStore
from .tables import claim_table
from .vector import Floats


def embed_passages(passages: Sequence[Passage], embedder: Embedder) -> Floats:
    """Fit the embedder on the passages and embed them."""
    texts = [p.for_embedding() for p in passages]
    t = time.perf_counter()
    embedder.fit(texts)
    vectors = embedder.embed(texts)
    print(f"embedded with {embedder.name} in {time.perf_counter() - t:.1f} s")
    return vectors


def store_passages(store: VectorStore, passages: Sequence[Passage], vectors: Floats, m: int = 16,
                   ef_construction: int = 64, progress: bool = True) -> None:
    """Add embedded passages to a store's table and index it."""
    t = time.perf_counter()
    store.add(vectors, [p.text for p in passages],
              [{"page": p.page, "title": p.title, "section": p.section} for p in passages], progress=progress)
    store.create_index(m=m, ef_construction=ef_construction)
    print(f"stored in table {store.table} and indexed (hnswmm, vector_cosine_ops)"
          f" in {time.perf_counter() - t:.1f} s")


def index_passages(conn: psycopg.Connection[Any], table: str, passages: Sequence[Passage],
                   embedder: Embedder, m: int = 16, ef_construction: int = 64,
                   progress: bool = True, replace: bool = False) -> VectorStore:
    """Embed the passages and store them in a new table with an index.

    An existing table of that name is an error (DuplicateTable) unless
    replace=True, which drops it first.
    """
    vectors = embed_passages(passages, embedder)
    store = VectorStore(conn, table, embedder.dim, metric="cosine")
    if replace:
        store.drop()
    store.create()
    store_passages(store, passages, vectors, m, ef_construction, progress)
    return store


def format_hits(question: str, hits: Sequence[SearchResult], ms: float) -> str:
    """A question and its passages, nearest first, as text to print."""
    lines = [f"\nQ: {question}  (embedded and searched in {ms:.1f} ms)"]
    if not hits:
        lines.append("     no passage found: none of the question's words are in the corpus")
    for rank, hit in enumerate(hits, 1):
        lines.extend(passage_lines(rank, f"{hit.distance:.3f}", hit.metadata, hit.text))
    return "\n".join(lines)


def ask(store: VectorStore, embedder: Embedder, question: str, k: int,
        ef_search: int | None) -> tuple[list[SearchResult], float]:
    """The k passages nearest to a question and the time taken in ms."""
    t = time.perf_counter()
    vector = embedder.embed([question])[0]
    if not np.any(vector):  # no word of the question is in the corpus
        return [], (time.perf_counter() - t) * 1000
    hits = store.search(vector, k=k, ef_search=ef_search)
    return hits, (time.perf_counter() - t) * 1000


def run(args: argparse.Namespace) -> int:
    t = time.perf_counter()
    passages = load_passages(Path(args.docs), args.max_pages)
    pages = len({p.page for p in passages})
    print(f"corpus: {len(passages):,} passages from {pages:,} pages of {args.docs}"
          f" in {time.perf_counter() - t:.1f} s")
    embedder = choose_embedder(args.model, args.lsa_dim)
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        claim_table(conn, args.table, args.replace, "semantic-search")
        vectors = embed_passages(passages, embedder)
        store = VectorStore(conn, args.table, embedder.dim, metric="cosine")
        store.create()  # fails, touching nothing, if the table appeared meanwhile
        try:
            store_passages(store, passages, vectors, args.m, args.ef_construction, args.progress)
            for question in args.questions:
                hits, ms = ask(store, embedder, question, args.k, args.ef_search)
                print(format_hits(question, hits, ms))
        finally:
            if not args.keep:  # the table this run created
                store.drop()
    return 0
