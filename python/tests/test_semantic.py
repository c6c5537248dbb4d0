"""The semantic search pieces: passages from HTML, the LSA embedder, the
sentence-transformers loader (with a stand-in module), and search over a
small corpus."""
from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from conftest import write_small_manual
from hnswmm.docs import load_passages, page_passages
from hnswmm.vector import Array
from hnswmm.embed import (DEFAULT_ST_MODEL, LsaEmbedder, SentenceTransformerEmbedder, choose_embedder,
                          local_model)
from hnswmm.semantic import ask, format_hits, index_passages

pytest.importorskip("sklearn", reason="LSA needs scikit-learn: apt-get install python3-sklearn")

@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_small_manual(tmp_path)


def test_page_passages(corpus: Path) -> None:
    passages = page_passages(corpus / "cats.html", words=20)
    assert {p.title for p in passages} == {"Cats"} and {p.page for p in passages} == {"cats.html"}
    text = " ".join(p.text for p in passages)
    assert "purr" in text and "grooms" in text
    assert "Prev" not in text and "must not be indexed" not in text and "Home" not in text
    assert [p.section for p in passages][-1] == "Feeding"
    assert all(len(p.text.split()) <= 20 for p in passages)
    assert passages[-1].for_embedding().startswith("Cats: Feeding. ")


def test_load_passages_needs_pages(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="postgresql-doc-N"):
        load_passages(tmp_path)


def test_lsa_embedder(corpus: Path) -> None:
    passages = load_passages(corpus, words=20)
    lsa = LsaEmbedder(dim=64)
    lsa.fit([p.for_embedding() for p in passages])
    assert lsa.dim == len(passages) - 1 or lsa.dim <= 64
    vectors = lsa.embed([p.for_embedding() for p in passages])
    assert vectors.shape == (len(passages), lsa.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, rtol=1e-5)
    with pytest.raises(RuntimeError, match="fit"):
        LsaEmbedder().embed(["x"])
    with pytest.raises(ValueError, match="at least 3"):
        LsaEmbedder().fit(["a", "b"])


def test_search_a_small_corpus(conn: psycopg.Connection[Any], table: str, corpus: Path) -> None:
    passages = load_passages(corpus, words=20)
    lsa = LsaEmbedder(dim=16)
    store = index_passages(conn, table, passages, lsa, progress=False)
    assert store.count() == len(passages)
    for question, page in (("what do cats eat", "cats.html"), ("how is dough kneaded for baking", "bread.html"),
                           ("who steers a vessel through a storm", "ships.html")):
        hits, ms = ask(store, lsa, question, k=2, ef_search=None)
        assert hits[0].metadata is not None and hits[0].metadata["page"] == page, (question, hits)
        text = format_hits(question, hits, ms)
        assert text.startswith(f"\nQ: {question}") and f"({page})" in text


class FakeSentenceTransformer:
    """Stands in for sentence_transformers.SentenceTransformer."""

    loaded: list[tuple[str, Any]] = []

    def __init__(self, model: str, device: Any = None) -> None:
        self.loaded.append((model, device))

    def get_sentence_embedding_dimension(self) -> int:
        return 3

    def encode(self, texts: list[str], **kwargs: Any) -> Array:
        assert kwargs["normalize_embeddings"] and kwargs["convert_to_numpy"]
        return np.array([[len(t), 1.0, 0.0] for t in texts])


@pytest.fixture
def fake_st(monkeypatch: pytest.MonkeyPatch) -> type[FakeSentenceTransformer]:
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = FakeSentenceTransformer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    FakeSentenceTransformer.loaded = []
    return FakeSentenceTransformer


def test_sentence_transformers_loader(fake_st: type[FakeSentenceTransformer], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = SentenceTransformerEmbedder(str(tmp_path), device="cpu")
    assert fake_st.loaded == [(str(tmp_path), "cpu")] and embedder.dim == 3
    vectors = embedder.embed(["ab", "abcd"])
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, rtol=1e-6)
    # the default: a model named in $HNSWMM_ST_MODEL that is on disk, else LSA
    monkeypatch.setenv("HNSWMM_ST_MODEL", str(tmp_path))
    assert isinstance(choose_embedder(), SentenceTransformerEmbedder)
    monkeypatch.setenv("HNSWMM_ST_MODEL", str(tmp_path / "missing"))
    assert isinstance(choose_embedder(), LsaEmbedder)
    assert isinstance(choose_embedder("lsa"), LsaEmbedder)


def test_models_in_the_hugging_face_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    assert local_model(DEFAULT_ST_MODEL) is None
    (tmp_path / "hub" / "models--sentence-transformers--all-MiniLM-L6-v2" / "snapshots").mkdir(parents=True)
    assert local_model(DEFAULT_ST_MODEL) == DEFAULT_ST_MODEL


def test_without_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # type: ignore[misc]
    with pytest.raises(RuntimeError, match="not installed"):
        SentenceTransformerEmbedder("any")
    assert isinstance(choose_embedder(), LsaEmbedder)


def test_question_without_known_words(conn: psycopg.Connection[Any], table: str, corpus: Path) -> None:
    lsa = LsaEmbedder(dim=8)
    store = index_passages(conn, table, load_passages(corpus, words=20), lsa, progress=False)
    hits, ms = ask(store, lsa, "zyxxy qwerty", k=3, ef_search=None)
    assert hits == []
    assert "no passage found" in format_hits("zyxxy qwerty", hits, ms)
