"""The binary COPY format for rows of (bigint id, vector), built with numpy
in one pass per block of rows instead of one Python call per value."""
from __future__ import annotations

import struct
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import psycopg
from .vector import Array

SIGNATURE = b"PGCOPY\n\xff\r\n\0" + struct.pack(">ii", 0, 0)  # flags, header extension
TRAILER = struct.pack(">h", -1)


def _row_dtype(dim: int) -> np.dtype[np.void]:
    return np.dtype([  # packed: no alignment padding, as COPY wants it
        ("nfields", ">i2"),
        ("id_len", ">i4"), ("id", ">i8"),
        ("vec_len", ">i4"), ("dim", ">i2"), ("unused", ">i2"), ("values", ">f4", (dim,)),
    ])


def id_vector_rows(first_id: int, vectors: Array) -> bytes:
    """COPY BINARY tuples (first_id + i, vectors[i]) for each row i of a 2-D
    array of checked float values."""
    n, dim = vectors.shape
    rows = np.empty(n, _row_dtype(dim))
    rows["nfields"] = 2
    rows["id_len"] = 8
    rows["id"] = np.arange(first_id, first_id + n, dtype=np.int64)
    rows["vec_len"] = 4 + 4 * dim
    rows["dim"] = dim
    rows["unused"] = 0
    rows["values"] = vectors
    return rows.tobytes()


@contextmanager
def client_errors_first() -> Iterator[None]:
    """Around a `cursor.copy()` block: when Python code inside it fails,
    psycopg cancels the COPY and raises the server's answer to that
    (QueryCanceled, "COPY from stdin failed: error from Python"; or, when
    part of a binary row had been sent, ProtocolViolation, "insufficient
    data left in message", as PostgreSQL 17 answers); raise the Python
    exception instead."""
    try:
        yield
    except (psycopg.errors.QueryCanceled, psycopg.errors.ProtocolViolation) as e:
        cause = e.__context__
        if cause is not None and not (isinstance(cause, psycopg.Error) and cause.sqlstate):
            raise cause from None
        raise
