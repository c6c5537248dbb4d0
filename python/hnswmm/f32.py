"""Raw float32 vector files: N x dim little-endian float32 values, no header
(the format of many ANN benchmark sets and of `generate-mock-data`).

`load_f32` streams such a file into a table by binary COPY in one
transaction: a file that cannot be read, is truncated, or holds NaN stops
with an exception and leaves no table behind.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import numpy as np
import psycopg
from psycopg import sql

from .adapters import VectorType, register_vector, register_vector_async
from .binary_copy import SIGNATURE, TRAILER, client_errors_first, id_vector_rows
from .progress import Progress
from .vector import Floats, InvalidVector, MAX_DIM

BLOCK_BYTES = 8 * 2**20  # read and sent per COPY write
MOCK_CLUSTERS = 64
MOCK_LATENT_DIM = 32


class F32FileError(ValueError):
    """A raw float32 file that does not hold whole vectors of the given
    dimension (truncated, empty, or the wrong --dim)."""


def f32_rows(path: str | os.PathLike[str], dim: int) -> int:
    """The number of dim-dimension vectors in a raw float32 file.

    Raises OSError when it cannot be read and F32FileError when its size is
    not a positive multiple of dim * 4 bytes.
    """
    if not 1 <= dim <= MAX_DIM:
        raise ValueError(f"dim must be 1 to {MAX_DIM}, not {dim}")
    with open(path, "rb") as f:  # fails here when unreadable
        size = os.fstat(f.fileno()).st_size
    row_bytes = 4 * dim
    if size == 0 or size % row_bytes:
        raise F32FileError(
            f"{path}: {size:,} bytes is not a whole number of {dim}-dimension float32 vectors"
            f" ({row_bytes:,} bytes each): the file is truncated or the dimension is wrong")
    return size // row_bytes


def read_f32(path: str | os.PathLike[str], dim: int, start: int = 0,
             count: int | None = None) -> Floats:
    """Rows [start, start + count) of a raw float32 file as a float32 array."""
    total = f32_rows(path, dim)
    count = _check_range(total, start, count, path)
    data = np.fromfile(path, dtype="<f4", count=count * dim, offset=start * dim * 4)
    return data.reshape(count, dim).astype(np.float32, copy=False)


def _check_range(total: int, start: int, count: int | None, path: Any) -> int:
    count = total - start if count is None else count
    if start < 0 or count < 1 or start + count > total:
        raise ValueError(f"{path} has {total:,} vectors: rows {start:,} to {start + count:,} are not in it")
    return count


@dataclass
class _F32Copy:
    """The COPY data of rows [start, start + count) of a file, block by block."""

    path: Path
    dim: int
    start: int
    count: int

    def chunks(self, progress: Progress) -> Iterator[bytes]:
        yield SIGNATURE
        rows_per_block = max(1, BLOCK_BYTES // (4 * self.dim))
        with open(self.path, "rb", buffering=0) as f:
            f.seek(self.start * self.dim * 4)
            for first in range(0, self.count, rows_per_block):
                block = self._read_block(f, min(rows_per_block, self.count - first), first)
                yield id_vector_rows(self.start + first, block)
                progress.update(len(block))
        yield TRAILER

    def _read_block(self, f: BinaryIO, rows: int, first: int) -> Floats:
        buf = bytearray(rows * self.dim * 4)
        view, got = memoryview(buf), 0
        while got < len(buf):
            n = f.readinto(view[got:])  # type: ignore[attr-defined]
            if not n:
                raise F32FileError(f"{self.path}: the file ended early, at byte"
                                   f" {(self.start + first) * self.dim * 4 + got:,}")
            got += n
        block = np.frombuffer(buf, "<f4").reshape(rows, self.dim)
        finite = np.isfinite(block).all(axis=1)
        if not finite.all():
            row = self.start + first + int(np.argmin(finite))
            raise InvalidVector(f"{self.path}: vector {row:,} holds NaN or infinity")
        return block


def _statements(table: str, dim: int, vtype: VectorType, create: bool,
                freeze: bool) -> tuple[sql.Composed | None, sql.Composed, sql.Composed | None]:
    """CREATE TABLE (or None), COPY, and ADD PRIMARY KEY (or None)."""
    ident = sql.Identifier(table)
    new = sql.SQL("CREATE TABLE {} (id bigint NOT NULL, embedding {}({}))").format(
        ident, sql.Identifier(vtype.schema, "vector"), sql.Literal(dim))
    copy = sql.SQL("COPY {} (id, embedding) FROM STDIN (FORMAT BINARY{})").format(
        ident, sql.SQL(", FREEZE" if freeze else ""))
    key = sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (id)").format(ident)
    return (new, copy, key) if create else (None, copy, None)


def _plan(path: str | os.PathLike[str], dim: int, start: int, count: int | None) -> _F32Copy:
    total = f32_rows(path, dim)
    return _F32Copy(Path(path), dim, start, _check_range(total, start, count, path))


def load_f32(conn: psycopg.Connection[Any], table: str, path: str | os.PathLike[str], dim: int, *,
             start: int = 0, count: int | None = None, create: bool = True,
             progress: bool = True) -> int:
    """Load vectors [start, start + count) of a raw float32 file into `table`
    by binary COPY, with ids equal to their row numbers in the file.

    With create=True (the default) the table `(id bigint PRIMARY KEY,
    embedding vector(dim))` is created; otherwise it must exist with those
    columns.  Everything happens in one transaction (a savepoint when one
    is open), so on any error no table or row is left behind.  The file is
    checked before anything is sent.  Returns the number of rows loaded.
    """
    plan = _plan(path, dim, start, count)
    freeze = create and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    create_sql, copy_sql, key_sql = _statements(table, dim, register_vector(conn), create, freeze)
    with conn.transaction(), conn.cursor() as cur:
        if create_sql is not None:
            cur.execute(create_sql)
        with Progress(plan.count, f"load {Path(path).name}", enabled=progress) as bar, \
                client_errors_first(), cur.copy(copy_sql) as copy:
            for chunk in plan.chunks(bar):
                copy.write(chunk)
        if key_sql is not None:
            cur.execute(key_sql)
    return plan.count


async def load_f32_async(conn: psycopg.AsyncConnection[Any], table: str, path: str | os.PathLike[str],
                         dim: int, *, start: int = 0, count: int | None = None, create: bool = True,
                         progress: bool = True) -> int:
    """`load_f32` for an AsyncConnection (the file is read synchronously)."""
    plan = _plan(path, dim, start, count)
    freeze = create and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    create_sql, copy_sql, key_sql = _statements(table, dim, await register_vector_async(conn), create, freeze)
    async with conn.transaction(), conn.cursor() as cur:
        if create_sql is not None:
            await cur.execute(create_sql)
        with Progress(plan.count, f"load {Path(path).name}", enabled=progress) as bar, client_errors_first():
            async with cur.copy(copy_sql) as copy:
                for chunk in plan.chunks(bar):
                    await copy.write(chunk)
        if key_sql is not None:
            await cur.execute(key_sql)
    return plan.count


def mock_vectors(n: int, dim: int, seed: int = 0, block: int = 10000) -> Iterator[Floats]:
    """n random vectors shaped like text embeddings, in blocks: unit length,
    in 64 clusters, with most of their variance in 32 directions."""
    rng = np.random.default_rng(seed)
    latent = min(dim, MOCK_LATENT_DIM)
    basis = rng.standard_normal((latent, dim)).astype(np.float32)
    centers = rng.standard_normal((MOCK_CLUSTERS, latent)).astype(np.float32)
    for first in range(0, n, block):
        size = min(block, n - first)
        z = centers[rng.integers(0, MOCK_CLUSTERS, size)]
        z += 0.7 * rng.standard_normal((size, latent), dtype=np.float32)
        x = z @ basis + 0.3 * rng.standard_normal((size, dim), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        yield x


def write_mock_f32(path: str | os.PathLike[str], n: int, dim: int, seed: int = 0) -> float:
    """Write n mock vectors to a raw float32 file; return the seconds taken."""
    if n < 1 or not 1 <= dim <= MAX_DIM:
        raise ValueError(f"need n >= 1 and 1 <= dim <= {MAX_DIM}, got n={n}, dim={dim}")
    start = time.perf_counter()
    with open(path, "wb") as f:
        for block in mock_vectors(n, dim, seed):
            f.write(block.astype("<f4").tobytes())
    return time.perf_counter() - start
