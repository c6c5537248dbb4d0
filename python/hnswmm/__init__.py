"""hnswmm: the Python side of the hnswmm PostgreSQL extension.

- `register_vector(conn)` / `await register_vector_async(aconn)`: psycopg 3
  adapters of the `vector` type (numpy arrays and lists of floats in,
  float32 numpy arrays out, text and binary, `vector[]`, binary COPY).
- `VectorStore` / `AsyncVectorStore`: a table of texts, metadata and
  embeddings with bulk loading by COPY and index search.
- `load_f32(conn, table, path, dim)`: a raw float32 file into a table.
- `python3 -m hnswmm`: generate-mock-data, benchmark, semantic-search.
"""
from .adapters import VectorType, register_vector, register_vector_async
from .f32 import F32FileError, f32_rows, load_f32, load_f32_async, read_f32
from .store import METRICS, AsyncVectorStore, SearchResult, VectorStore
from .vector import InvalidVector

__all__ = [
    "METRICS", "AsyncVectorStore", "F32FileError", "InvalidVector", "SearchResult",
    "VectorStore", "VectorType", "f32_rows", "load_f32", "load_f32_async", "read_f32",
    "register_vector", "register_vector_async",
]
__version__ = "0.1.0"
