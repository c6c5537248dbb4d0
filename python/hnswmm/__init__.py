"""hnswmm: the Python side of the hnswmm PostgreSQL extension.

- `register_vector(conn)` / `await register_vector_async(aconn)`: psycopg 3
  adapters of the `vector` type (numpy arrays and lists of floats in,
  float32 numpy arrays out, text and binary, `vector[]`, binary COPY).
- `VectorStore` / `AsyncVectorStore`: a table of texts, metadata and
  embeddings with bulk loading by COPY and index search.
- `load_f32(conn, table, path, dim)`: a raw float32 file into a table.
- `python3 -m hnswmm`: generate-mock-data, search, benchmark, ingest, ask,
  evaluate, semantic-search.

The names are imported on first use, so that `python3 -m hnswmm` can say
clearly what is missing when numpy or psycopg is not installed.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._deps import missing_message, missing_modules

_EXPORTS = {
    "VectorType": "adapters", "register_vector": "adapters", "register_vector_async": "adapters",
    "F32FileError": "f32", "f32_rows": "f32", "load_f32": "f32", "load_f32_async": "f32", "read_f32": "f32",
    "METRICS": "store", "AsyncVectorStore": "store", "SearchResult": "store", "StoreMismatch": "store",
    "VectorStore": "store", "InvalidVector": "vector",
}
__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hnswmm' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(f".{module}", __name__), name)
    except ImportError as e:
        missing = missing_modules()
        if missing:
            raise ModuleNotFoundError(missing_message(missing), name=missing[0]) from e
        raise


if TYPE_CHECKING:
    from .adapters import VectorType, register_vector, register_vector_async
    from .f32 import F32FileError, f32_rows, load_f32, load_f32_async, read_f32
    from .store import METRICS, AsyncVectorStore, SearchResult, StoreMismatch, VectorStore
    from .vector import InvalidVector
