"""ingest once, ask many times: the LSA model kept in a side table, vectors
computed elsewhere, full-text and hybrid retrieval (reciprocal rank fusion
in one statement), evaluate, and the USE-lite helper over its pipe."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np
import psycopg
import pytest
from psycopg import sql

from conftest import write_small_manual
from hnswmm.docs import Passage, load_passages
from hnswmm.embed import LsaEmbedder, LsaModel, UseLiteEmbedder, use_lite_dir
from hnswmm.f32 import write_sidecar
from hnswmm.rag import RRF_K, EmbedderRecord, evaluate, ingest, load_record, retrieve
from hnswmm.store import VectorStore
from test_cli import hnswmm_cli

pytest.importorskip("sklearn", reason="LSA needs scikit-learn: apt-get install python3-sklearn")

QUESTIONS = {"what do cats eat": "cats.html", "how is dough kneaded for baking": "bread.html",
             "who steers a vessel through a storm": "ships.html"}


@pytest.fixture
def rag_table(new_table: Callable[[], str], server: None) -> Any:
    """A table name whose side table is dropped afterwards too."""
    name = new_table()
    yield name
    with psycopg.connect(autocommit=True) as c:
        c.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(f"{name}_embedder")))


def test_lsa_model_embeds_like_scikit_learn(tmp_path: Path) -> None:
    texts = [p.for_embedding() for p in load_passages(write_small_manual(tmp_path), words=20)]
    lsa = LsaEmbedder(dim=8)
    lsa.fit(texts)
    model = LsaModel.from_bytes(lsa.model().to_bytes())
    questions = texts + list(QUESTIONS) + ["zyxxy qwerty", ""]
    np.testing.assert_allclose(model.embed(questions), lsa.embed(questions), atol=2e-6)
    assert model.dim == lsa.dim and not model.embed(["zyxxy"]).any()


def test_ingest_then_ask(rag_table: str, tmp_path: Path) -> None:
    docs = write_small_manual(tmp_path)
    out = hnswmm_cli("ingest", "--docs", str(docs), "--table", rag_table, "--lsa-dim", "8", "--no-progress").stdout
    assert "embedded: LSA" in out and f"{rag_table}_embedder" in out
    for mode in ("vector", "text", "hybrid"):
        for question, page in QUESTIONS.items():
            out = hnswmm_cli("ask", "--table", rag_table, "--mode", mode, "--k", "2", question).stdout
            first = out.split("\n  1. ")[1].splitlines()[0]
            assert f"({page})" in first, (mode, question, out)
    result = hnswmm_cli("ingest", "--docs", str(docs), "--table", rag_table, check=False)
    assert result.returncode == 1 and "already exists" in result.stderr and "--replace" in result.stderr
    hnswmm_cli("ingest", "--docs", str(docs), "--table", rag_table, "--lsa-dim", "4", "--replace", "--no-progress")
    with psycopg.connect(autocommit=True) as c:
        assert load_record(c, rag_table).dim == 4


def test_ask_needs_an_ingested_table(conn: psycopg.Connection[Any], table: str) -> None:
    VectorStore(conn, table, 3, metric="cosine").create()
    conn.execute(sql.SQL("CREATE INDEX ON {} USING hnswmm (embedding vector_cosine_ops)").format(sql.Identifier(table)))
    result = hnswmm_cli("ask", "--table", table, "anything", check=False)
    assert result.returncode == 1 and "was not made by `ingest`" in result.stderr


def passage(i: int, text: str) -> Passage:
    return Passage(f"p{i}.html", f"Page {i}", "", text)


def test_hybrid_is_reciprocal_rank_fusion(conn: psycopg.Connection[Any], rag_table: str) -> None:
    # vector ranks for the query [1, 0]: 0, 1, 2, 3; text ranks for "walrus": 3, 2 (more walruses first)
    vectors = np.array([[1, 0], [1, 0.3], [1, 0.8], [0.1, 1]], np.float32)
    texts = ["alpha beta", "gamma delta", "walrus seal", "walrus walrus walrus seal"]
    store = ingest(conn, rag_table, [passage(i, t) for i, t in enumerate(texts)], vectors,
                   EmbedderRecord("precomputed", 2, "test"))
    query = np.array([1, 0], np.float32)
    vec = retrieve(store, "vector", "walrus", query, 4)
    assert [h.id for h in vec] == [0, 1, 2, 3]
    txt = retrieve(store, "text", "walrus", None, 4)
    assert [h.id for h in txt] == [3, 2] and txt[0].score > txt[1].score
    hybrid = retrieve(store, "hybrid", "walrus", query, 4)
    expected = {0: 1 / (RRF_K + 1), 1: 1 / (RRF_K + 2), 2: 1 / (RRF_K + 3) + 1 / (RRF_K + 2),
                3: 1 / (RRF_K + 4) + 1 / (RRF_K + 1)}
    assert [h.id for h in hybrid] == sorted(expected, key=lambda i: -expected[i])
    for h in hybrid:
        assert h.score == pytest.approx(expected[h.id])
    assert (hybrid[0].id, hybrid[0].vector_rank, hybrid[0].text_rank) == (3, 4, 1)
    # a question of words that are all stop words: the text list is empty
    assert [h.id for h in retrieve(store, "hybrid", "the of and", query, 2)] == [0, 1]
    assert retrieve(store, "text", "the of and", None, 2) == []


def test_vectors_computed_elsewhere(rag_table: str, tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    docs = write_small_manual(tmp_path / "docs")
    listing = tmp_path / "passages.jsonl"
    hnswmm_cli("ingest", "--docs", str(docs), "--write-passages", str(listing))
    texts = [json.loads(line)["text"] for line in listing.read_text().splitlines()]
    lsa = LsaEmbedder(dim=6)  # stands for a model run elsewhere
    lsa.fit(texts)
    vectors = tmp_path / "passages.f32"
    lsa.embed(texts).astype("<f4").tofile(vectors)
    write_sidecar(vectors, len(texts), lsa.dim)
    hnswmm_cli("ingest", "--docs", str(docs), "--table", rag_table, "--embeddings", str(vectors), "--no-progress")
    questions = tmp_path / "q.f32"
    lsa.embed(["what do cats eat"]).astype("<f4").tofile(questions)
    out = hnswmm_cli("ask", "--table", rag_table, "--mode", "vector", "--query-embeddings", str(questions),
                     "what do cats eat").stdout
    assert "(cats.html)" in out.split("\n  1. ")[1].splitlines()[0]
    result = hnswmm_cli("ask", "--table", rag_table, "--mode", "vector", "what do cats eat", check=False)
    assert result.returncode == 1 and "--query-embeddings" in result.stderr
    assert "(cats.html)" in hnswmm_cli("ask", "--table", rag_table, "--mode", "text", "cats").stdout
    result = hnswmm_cli("ingest", "--docs", str(docs), "--table", rag_table + "_x", "--embeddings",
                        str(questions), "--dim", str(lsa.dim), check=False)
    assert result.returncode == 1 and "1 vectors for" in result.stderr


def test_evaluate(conn: psycopg.Connection[Any], rag_table: str, tmp_path: Path) -> None:
    passages = load_passages(write_small_manual(tmp_path), words=20)
    lsa = LsaEmbedder(dim=8)
    texts = [p.for_embedding() for p in passages]
    lsa.fit(texts)
    store = ingest(conn, rag_table, passages, lsa.embed(texts), EmbedderRecord("lsa", lsa.dim, "lsa"))
    items = [{"question": q, "pages": [p]} for q, p in QUESTIONS.items()]
    items.append({"question": "how do trains run", "pages": ["none.html"]})
    scores = {s.mode: s for s in evaluate(store, lsa.model(), items, ["vector", "text", "hybrid"])}
    assert scores["vector"].hit1 == 0.75 and scores["hybrid"].hit3 == 0.75
    questions = tmp_path / "q.json"
    questions.write_text(json.dumps({"questions": items}))
    out = hnswmm_cli("evaluate", "--table", rag_table, "--questions", str(questions), "--modes", "text").stdout
    assert "| text |" in out and "| vector |" not in out


def test_the_question_set() -> None:
    data = json.loads((Path(__file__).parent / "data" / "pgdocs_questions.json").read_text())
    items = data["questions"]
    assert len(items) >= 20 and len({i["question"] for i in items}) == len(items)
    manual = Path("/usr/share/doc/postgresql-doc-15/html")
    if manual.is_dir():
        assert all((manual / page).is_file() for item in items for page in item["pages"])


def use_lite_installed() -> bool:
    return shutil.which("node") is not None and (use_lite_dir() / "node_modules" / "@energetic-ai").is_dir()


@pytest.mark.skipif(not use_lite_installed(), reason="run `make embedders` (npm ci in embedders/use-lite)")
def test_use_lite_through_the_pipe() -> None:
    texts = ["How do I create an index without locking the table?",
             "CREATE INDEX CONCURRENTLY builds an index without blocking writes.", "Cats eat fish.", ""]
    with UseLiteEmbedder(batch_size=3) as use:
        vectors = use.embed(texts)
        again = use.embed(texts[:1])
    assert vectors.shape == (4, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(again[0], vectors[0], atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_use_lite_not_installed(tmp_path: Path) -> None:
    """Without its npm packages (or without node) the embedder says what
    to install."""
    wanted = "make embedders" if shutil.which("node") else "apt-get install nodejs"
    with pytest.raises(RuntimeError, match=wanted):
        UseLiteEmbedder(helper_dir=tmp_path)


@pytest.mark.skipif(not use_lite_installed(), reason="run `make embedders` (npm ci in embedders/use-lite)")
def test_ingest_and_ask_with_use_lite(rag_table: str, tmp_path: Path) -> None:
    docs = write_small_manual(tmp_path)
    out = hnswmm_cli("ingest", "--docs", str(docs), "--table", rag_table, "--embedder", "use-lite",
                     "--no-progress").stdout
    assert "embedded: USE-lite" in out
    with psycopg.connect(autocommit=True) as c:
        record = load_record(c, rag_table)
        assert (record.kind, record.dim, record.model) == ("use-lite", 512, None)
    for question, page in QUESTIONS.items():
        out = hnswmm_cli("ask", "--table", rag_table, "--mode", "vector", "--k", "1", question).stdout
        assert f"({page})" in out, (question, out)
