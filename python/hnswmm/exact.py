"""Exact k nearest neighbours with numpy (the ground truth of recall).

Distances follow the SQL operators: l2 is the Euclidean distance (<->), ip
the negative inner product (<#>), cosine 1 - cos (<=>) and l1 the taxicab
distance (<+>).  Candidates come from batched float32 matrix products and
are re-ranked in float64, so near-ties come out in the server's order.
"""
from __future__ import annotations

import numpy as np
from .vector import Array

SCORE_CELLS = 16 * 2**20  # query x row scores held at once (64 MB)
EXTRA_CANDIDATES = 32


def distances(metric: str, q: Array, rows: Array) -> Array:
    """Exact (float64) distances from one query to some rows."""
    q64, r64 = q.astype(np.float64), rows.astype(np.float64)
    if metric == "l2":
        return np.sqrt(((r64 - q64) ** 2).sum(axis=-1))
    if metric == "l1":
        return np.abs(r64 - q64).sum(axis=-1)
    if metric == "ip":
        return -(r64 @ q64)
    if metric == "cosine":
        norms = np.linalg.norm(r64, axis=-1) * np.linalg.norm(q64)
        return 1.0 - (r64 @ q64) / np.where(norms == 0, 1.0, norms)
    raise ValueError(f"unknown metric {metric!r}")


def _scores(metric: str, base: Array, base_sq: Array, queries: Array) -> Array:
    """Float32 scores that order like the distances (smaller is nearer)."""
    if metric == "l1":
        return np.stack([np.abs(base - q).sum(axis=1) for q in queries])
    dots = queries @ base.T
    if metric == "l2":
        return base_sq[None, :] - 2.0 * dots
    if metric == "ip":
        return -dots
    qn = np.linalg.norm(queries, axis=1, keepdims=True)
    return -dots / np.maximum(qn * np.sqrt(base_sq)[None, :], 1e-30)


def exact_knn(metric: str, base: Array, queries: Array, k: int) -> tuple[Array, Array]:
    """Row numbers in base and distances of the k nearest rows of each query."""
    k = min(k, len(base))
    pool = min(len(base), k + EXTRA_CANDIDATES)
    base_sq = (base.astype(np.float32) ** 2).sum(axis=1)
    ids = np.empty((len(queries), k), np.int64)
    dist = np.empty((len(queries), k), np.float64)
    batch = max(1, SCORE_CELLS // max(len(base), 1))
    for start in range(0, len(queries), batch):
        scores = _scores(metric, base, base_sq, queries[start:start + batch])
        cand = np.argpartition(scores, pool - 1, axis=1)[:, :pool]
        for j, q in enumerate(queries[start:start + batch]):
            d = distances(metric, q, base[cand[j]])
            order = np.argsort(d, kind="stable")[:k]
            ids[start + j], dist[start + j] = cand[j][order], d[order]
    return ids, dist


def recall_at_k(metric: str, base: Array, queries: Array,
                found: Array, true_dist: Array) -> float:
    """Fraction of the k results that are true k nearest neighbours.

    A result counts when its exact distance is within the k-th true
    distance, so ties at the k-th place are no misses.  found holds row
    numbers of base, -1 for a missing result.
    """
    k = true_dist.shape[1]
    hits = 0
    for q, row, td in zip(queries, found, true_dist):
        ids = np.unique(row[:k][row[:k] >= 0])
        if len(ids):
            d = distances(metric, q, base[ids])
            hits += int((d <= td[-1] + 1e-9 * max(1.0, abs(td[-1]))).sum())
    return hits / (k * len(queries))
