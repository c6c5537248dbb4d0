"""Postgres side of `make demo` and `make bench`: psycopg adapters that send
numpy arrays as `vector` values, bulk loading by COPY, and the operator and
operator class of each metric.

Connections take their parameters from PGHOST, PGPORT, PGUSER and PGDATABASE,
which scripts/lib.sh `cluster_start` exports.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types import TypeInfo

COPY_CHUNK_ROWS = 5000
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\0" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)


@dataclass(frozen=True)
class Metric:
    """How one distance is spelled in SQL and in hnswlib."""
    operator: str
    opclass: str
    hnswlib_space: str


METRICS: dict[str, Metric] = {
    "l2": Metric("<->", "vector_l2_ops", "l2"),
    "ip": Metric("<#>", "vector_ip_ops", "ip"),
    "cosine": Metric("<=>", "vector_cosine_ops", "cosine"),
}


def vector_text(v: np.ndarray) -> str:
    """The text form of a vector: [1,2.5,3]."""
    return "[" + ",".join(repr(x) for x in np.asarray(v, np.float32).tolist()) + "]"


def vector_binary(v: np.ndarray) -> bytes:
    """The binary (send/recv) form: int16 dim, int16 0, big-endian float4s."""
    a = np.asarray(v, ">f4")
    return struct.pack(">hh", a.size, 0) + a.tobytes()


class _VectorTextDumper(Dumper):
    format = Format.TEXT

    def dump(self, obj: np.ndarray) -> bytes:
        return vector_text(obj).encode()


class _VectorBinaryDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: np.ndarray) -> bytes:
        return vector_binary(obj)


def has_binary_io(conn: psycopg.Connection) -> bool:
    """Whether the `vector` type has binary send and receive functions."""
    row = conn.execute("SELECT typreceive <> 0 AND typsend <> 0 FROM pg_type"
                       " WHERE typname = 'vector'").fetchone()
    return bool(row and row[0])


def register_vector(conn: psycopg.Connection) -> bool:
    """Make numpy arrays bind as `vector` parameters on this connection.

    Binds in binary when the type supports it (returned True), else in text.
    """
    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        raise RuntimeError("type vector does not exist: CREATE EXTENSION hnswmm first")
    binary = has_binary_io(conn)
    dumpers: list[type[Dumper]] = [_VectorTextDumper] + ([_VectorBinaryDumper] if binary else [])
    for base in dumpers:  # the last one registered serves %s
        dumper = type(base.__name__, (base,), {"oid": info.oid})
        conn.adapters.register_dumper(np.ndarray, dumper)
    return binary


def has_index_am(conn: psycopg.Connection, name: str = "hnswmm") -> bool:
    """Whether the index access method exists in this database."""
    return conn.execute("SELECT 1 FROM pg_am WHERE amname = %s", (name,)).fetchone() is not None


def _binary_copy_rows(int_columns: Sequence[np.ndarray], vectors: np.ndarray) -> bytes:
    """COPY BINARY tuples for int4 columns followed by one vector column."""
    n, dim = vectors.shape
    fields: list[tuple] = [("nfields", ">i2")]
    for i in range(len(int_columns)):
        fields += [(f"len{i}", ">i4"), (f"val{i}", ">i4")]
    fields += [("vlen", ">i4"), ("dim", ">i2"), ("unused", ">i2"), ("x", ">f4", (dim,))]
    rows = np.empty(n, np.dtype(fields))  # packed: no alignment padding
    rows["nfields"] = len(int_columns) + 1
    for i, col in enumerate(int_columns):
        rows[f"len{i}"] = 4
        rows[f"val{i}"] = col
    rows["vlen"] = 4 + 4 * dim
    rows["dim"] = dim
    rows["unused"] = 0
    rows["x"] = vectors
    return rows.tobytes()


def _text_copy_rows(int_columns: Sequence[np.ndarray], vectors: np.ndarray) -> bytes:
    lines = []
    for i, v in enumerate(vectors):
        ints = "\t".join(str(int(col[i])) for col in int_columns)
        lines.append(f"{ints}\t{vector_text(v)}\n")
    return "".join(lines).encode()


def copy_vectors(conn: psycopg.Connection, table: str, columns: Sequence[str],
                 int_columns: Sequence[np.ndarray], vectors: np.ndarray,
                 binary: bool = True) -> None:
    """COPY rows of int4 columns plus a last vector column into a table.

    `columns` names the int columns then the vector column.
    """
    fmt = "(FORMAT BINARY)" if binary else ""
    encode = _binary_copy_rows if binary else _text_copy_rows
    with conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN {fmt}") as copy:
            if binary:
                copy.write(_COPY_SIGNATURE)
            for start in range(0, len(vectors), COPY_CHUNK_ROWS):
                stop = start + COPY_CHUNK_ROWS
                copy.write(encode([c[start:stop] for c in int_columns], vectors[start:stop]))
            if binary:
                copy.write(_COPY_TRAILER)


def relation_mb(conn: psycopg.Connection, relation: str) -> float:
    """Total size (with TOAST) of a table, or the size of an index, in MB."""
    row = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (relation,)).fetchone()
    return row[0] / 2**20 if row else 0.0


def ensure_extension(conn: psycopg.Connection) -> None:
    """CREATE EXTENSION hnswmm unless it is there already."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS hnswmm")
