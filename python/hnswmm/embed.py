"""Text embedders for semantic search.

- `LsaEmbedder`: latent semantic analysis, fitted on the corpus itself and
  fully offline: TF-IDF weights of words (sublinear term frequency)
  reduced by a randomized truncated SVD, then scaled to unit length.  It
  needs scikit-learn (Debian's python3-sklearn).
- `SentenceTransformerEmbedder`: a pretrained sentence-transformers model,
  loaded from a local directory or the Hugging Face cache; nothing is
  downloaded (HF_HUB_OFFLINE is respected, and we look for the files first).

Both return float32 rows of unit length, so cosine distance ranks them.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np
from .vector import Array, Floats

DEFAULT_ST_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
ST_MODEL_ENV = "HNSWMM_ST_MODEL"  # a model directory or name to use by default
LSA_DIM = 384
SMALL_CORPUS = 1000  # texts; below this LSA keeps words seen only once
_TOKEN = r"(?u)\b[A-Za-z_][A-Za-z0-9_]+\b"  # keeps identifiers like pg_stat_activity


class Embedder(Protocol):
    name: str
    dim: int

    def fit(self, texts: Sequence[str]) -> None:
        """Learn from the corpus (a pretrained model does nothing)."""

    def embed(self, texts: Sequence[str]) -> Floats:
        """One float32 row of unit length for each text."""


def _unit_rows(x: Array) -> Floats:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


class LsaEmbedder:
    """TF-IDF + truncated SVD (latent semantic analysis) with scikit-learn."""

    def __init__(self, dim: int = LSA_DIM, seed: int = 0) -> None:
        try:
            from sklearn.decomposition import TruncatedSVD
            from sklearn.feature_extraction.text import TfidfVectorizer
        except ImportError as e:
            raise RuntimeError("the LSA embedder needs scikit-learn: apt-get install python3-sklearn") from e
        self.dim, self.seed = dim, seed
        self.name = f"LSA (TF-IDF + truncated SVD, {dim} dimensions)"
        self._tfidf = TfidfVectorizer(token_pattern=_TOKEN, stop_words="english", sublinear_tf=True,
                                      max_df=0.5, dtype=np.float32)
        self._svd_class = TruncatedSVD
        self._svd: Any = None

    def fit(self, texts: Sequence[str]) -> None:
        if len(texts) < 3:
            raise ValueError(f"LSA needs a corpus of at least 3 texts, got {len(texts)}")
        # a word must be in two texts, except in a corpus too small for that
        self._tfidf.set_params(min_df=2 if len(texts) >= SMALL_CORPUS else 1)
        weights = self._tfidf.fit_transform(texts)
        self.dim = min(self.dim, weights.shape[0] - 1, weights.shape[1] - 1)
        self.name = f"LSA (TF-IDF + truncated SVD, {self.dim} dimensions)"
        self._svd = self._svd_class(self.dim, algorithm="randomized", n_iter=5, random_state=self.seed)
        self._svd.fit(weights)

    def embed(self, texts: Sequence[str]) -> Floats:
        if self._svd is None:
            raise RuntimeError("fit the LSA embedder on a corpus first")
        return _unit_rows(self._svd.transform(self._tfidf.transform(texts)))


class SentenceTransformerEmbedder:
    """A pretrained sentence-transformers model, loaded without network."""

    def __init__(self, model: str, device: str | None = None, batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise RuntimeError("the sentence-transformers package is not installed") from e
        self.model = SentenceTransformer(model, device=device)
        self.dim = int(self.model.get_sentence_embedding_dimension())
        self.name = f"sentence-transformers {model} ({self.dim} dimensions)"
        self.batch_size = batch_size

    def fit(self, texts: Sequence[str]) -> None:
        return None

    def embed(self, texts: Sequence[str]) -> Floats:
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=False)
        return _unit_rows(vectors)


def _hf_cache_dirs() -> list[Path]:
    home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    dirs = [Path(os.environ["HF_HUB_CACHE"])] if "HF_HUB_CACHE" in os.environ else []
    st_home = os.environ.get("SENTENCE_TRANSFORMERS_HOME", Path.home() / ".cache" / "torch" / "sentence_transformers")
    return dirs + [home / "hub", Path(st_home)]


def local_model(name: str) -> str | None:
    """name if it is a model directory or is in a local cache, else None."""
    if Path(name).is_dir():
        return name
    hub_entry = "models--" + name.replace("/", "--")
    flat_entry = name.replace("/", "_")
    for cache in _hf_cache_dirs():
        if (cache / hub_entry / "snapshots").is_dir() or (cache / flat_entry).is_dir():
            return name
    return None


def sentence_transformers_installed() -> bool:
    try:
        importlib.import_module("sentence_transformers")
    except ImportError:
        return False
    return True


def choose_embedder(model: str | None = None, lsa_dim: int = LSA_DIM) -> Embedder:
    """The embedder to use.

    model "lsa": LSA.  Any other model: that sentence-transformers model (a
    directory or a name in the local cache).  None: the model in
    $HNSWMM_ST_MODEL or all-MiniLM-L6-v2 when sentence-transformers is
    installed and the model is on disk, else LSA.
    """
    if model == "lsa":
        return LsaEmbedder(lsa_dim)
    if model is not None:
        return SentenceTransformerEmbedder(model)
    wanted = os.environ.get(ST_MODEL_ENV, DEFAULT_ST_MODEL)
    found = local_model(wanted) if sentence_transformers_installed() else None
    if found is None:
        return LsaEmbedder(lsa_dim)
    return SentenceTransformerEmbedder(found)
