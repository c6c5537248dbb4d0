"""Raw float32 vector files: N x dim little-endian float32 values, no header
(the format of many ANN benchmark sets and of `generate-mock-data`).

`load_f32` streams such a file into a table by binary COPY in one
transaction: a file that cannot be read, is truncated, or holds NaN stops
with an exception and leaves no table behind.
"""
from __future__ import annotations

import json
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

SIDECAR_SUFFIX = ".json"  # mock.f32 -> mock.f32.json, written by write_mock_f32
BLOCK_BYTES = 8 * 2**20  # read and sent per COPY write
MOCK_CLUSTERS = 64
MOCK_LATENT_DIM = 32


class F32FileError(ValueError):
    """A raw float32 file that does not hold whole vectors of the given
    dimension (truncated, empty, or the wrong --dim)."""


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """Where the description of a raw float32 file is: the file's name
    followed by .json (mock.f32.json)."""
    return Path(os.fspath(path) + SIDECAR_SUFFIX)


def sidecar_dim(path: str | os.PathLike[str]) -> int | None:
    """The dimension named by the file's sidecar, or None without one.

    Raises F32FileError when the sidecar is there but unreadable as one.
    """
    side = sidecar_path(path)
    try:
        text = side.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        dim = json.loads(text)["dim"]
    except (ValueError, KeyError, TypeError) as e:
        raise F32FileError(f"{side}: not a description of {path} ({e.__class__.__name__}: {e})") from None
    if not isinstance(dim, int) or not 1 <= dim <= MAX_DIM:
        raise F32FileError(f"{side}: dim must be an integer from 1 to {MAX_DIM}, not {dim!r}")
    return dim


def write_sidecar(path: str | os.PathLike[str], rows: int, dim: int, replace: bool = False,
                  **extra: Any) -> Path:
    """Write the description of a raw float32 file next to it."""
    side = sidecar_path(path)
    body = {"format": "float32 little-endian, rows x dim, no header", "rows": rows, "dim": dim, **extra}
    with open(side, "w" if replace else "x", encoding="utf-8") as f:
        json.dump(body, f, indent=1)
        f.write("\n")
    return side


def f32_rows(path: str | os.PathLike[str], dim: int) -> int:
    """The number of dim-dimension vectors in a raw float32 file.

    Raises OSError when it cannot be read and F32FileError when its size is
    not a positive multiple of dim * 4 bytes, or when its sidecar
    (`sidecar_path`) names another dimension.
    """
    if not 1 <= dim <= MAX_DIM:
        raise ValueError(f"dim must be 1 to {MAX_DIM}, not {dim}")
    with open(path, "rb") as f:  # fails here when unreadable
        size = os.fstat(f.fileno()).st_size
    named = sidecar_dim(path)
    if named is not None and named != dim:
        raise F32FileError(f"{path}: its sidecar {sidecar_path(path).name} says the vectors have {named}"
                           f" dimensions, not {dim}: give --dim {named} (or no --dim)")
    row_bytes = 4 * dim
    if size == 0 or size % row_bytes:
        raise F32FileError(
            f"{path}: {size:,} bytes is not a whole number of {dim}-dimension float32 vectors"
            f" ({row_bytes:,} bytes each): the file is truncated or the dimension is wrong")
    return size // row_bytes


def resolve_dim(path: str | os.PathLike[str], dim: int | None, default: int) -> int:
    """The dimension to read a file with: the one given, else its
    sidecar's, else the default."""
    if dim is not None:
        return dim
    named = sidecar_dim(path)
    return named if named is not None else default


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


def advance_ids_sql(table: sql.Composable) -> sql.Composed:
    """After rows with ids of their own: move the table's id sequence (an
    identity or serial column, if it has one) past the largest id, never
    backwards, so ids the sequence hands out later do not collide.  One
    parameter: %(t)s, the table's name as text."""
    return sql.SQL(
        "SELECT setval(s, greatest(m, coalesce(pg_sequence_last_value(s), m))) FROM"
        " (SELECT pg_get_serial_sequence(%(t)s, 'id')::regclass AS s, (SELECT max(id) FROM {}) AS m) x"
        " WHERE s IS NOT NULL AND m >= 0").format(table)


@dataclass(frozen=True)
class _LoadSql:
    create: sql.Composed | None
    copy: sql.Composed
    key: sql.Composed | None
    advance: sql.Composed | None  # with the table's name as %(t)s
    name: str


def _statements(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], table: str, schema: str | None,
                dim: int, vtype: VectorType, create: bool, freeze: bool) -> _LoadSql:
    """CREATE TABLE and ADD PRIMARY KEY for a new table, or the sequence
    update for an existing one, and the COPY."""
    ident = sql.Identifier(schema, table) if schema else sql.Identifier(table)
    new = sql.SQL("CREATE TABLE {} (id bigint NOT NULL, embedding {}({}))").format(
        ident, sql.Identifier(vtype.schema, "vector"), sql.Literal(dim))
    copy = sql.SQL("COPY {} (id, embedding) FROM STDIN (FORMAT BINARY{})").format(
        ident, sql.SQL(", FREEZE" if freeze else ""))
    key = sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (id)").format(ident)
    name = ident.as_string(conn)
    if create:
        return _LoadSql(new, copy, key, None, name)
    return _LoadSql(None, copy, None, advance_ids_sql(ident), name)


def _plan(path: str | os.PathLike[str], dim: int, start: int, count: int | None) -> _F32Copy:
    total = f32_rows(path, dim)
    return _F32Copy(Path(path), dim, start, _check_range(total, start, count, path))


def load_f32(conn: psycopg.Connection[Any], table: str, path: str | os.PathLike[str], dim: int, *,
             start: int = 0, count: int | None = None, create: bool = True,
             progress: bool = True, schema: str | None = None) -> int:
    """Load vectors [start, start + count) of a raw float32 file into `table`
    by binary COPY, with ids equal to their row numbers in the file.

    With create=True (the default) the table `(id bigint PRIMARY KEY,
    embedding vector(dim))` is created; otherwise it must exist with those
    columns (and may have others, such as a VectorStore's), and when its id
    comes from a sequence (identity or serial), the sequence is moved past
    the largest id.  Everything happens in one transaction (a savepoint
    when one is open), so on any error no table or row is left behind.
    The file is checked before anything is sent.  Returns the number of
    rows loaded.
    """
    plan = _plan(path, dim, start, count)
    freeze = create and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    q = _statements(conn, table, schema, dim, register_vector(conn), create, freeze)
    with conn.transaction(), conn.cursor() as cur:
        if q.create is not None:
            cur.execute(q.create)
        with Progress(plan.count, f"load {Path(path).name}", enabled=progress) as bar, \
                client_errors_first(), cur.copy(q.copy) as copy:
            for chunk in plan.chunks(bar):
                copy.write(chunk)
        if q.key is not None:
            cur.execute(q.key)
        if q.advance is not None:
            cur.execute(q.advance, {"t": q.name})
    return plan.count


async def load_f32_async(conn: psycopg.AsyncConnection[Any], table: str, path: str | os.PathLike[str],
                         dim: int, *, start: int = 0, count: int | None = None, create: bool = True,
                         progress: bool = True, schema: str | None = None) -> int:
    """`load_f32` for an AsyncConnection (the file is read synchronously)."""
    plan = _plan(path, dim, start, count)
    freeze = create and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    q = _statements(conn, table, schema, dim, await register_vector_async(conn), create, freeze)
    async with conn.transaction(), conn.cursor() as cur:
        if q.create is not None:
            await cur.execute(q.create)
        with Progress(plan.count, f"load {Path(path).name}", enabled=progress) as bar, client_errors_first():
            async with cur.copy(q.copy) as copy:
                for chunk in plan.chunks(bar):
                    await copy.write(chunk)
        if q.key is not None:
            await cur.execute(q.key)
        if q.advance is not None:
            await cur.execute(q.advance, {"t": q.name})
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


def write_mock_f32(path: str | os.PathLike[str], n: int, dim: int, seed: int = 0,
                   replace: bool = False) -> float:
    """Write n mock vectors to a raw float32 file, and its sidecar (the
    dimension, `sidecar_path`); return the seconds taken.

    An existing file or sidecar is an error (FileExistsError) unless
    replace=True.  Files this call created are removed again when writing
    them fails.
    """
    if n < 1 or not 1 <= dim <= MAX_DIM:
        raise ValueError(f"need n >= 1 and 1 <= dim <= {MAX_DIM}, got n={n}, dim={dim}")
    start = time.perf_counter()
    for target in (Path(path), sidecar_path(path)):
        if not replace and target.exists():
            raise FileExistsError(f"{target} already exists and was left untouched:"
                                  " choose another --out, or pass --replace to overwrite it")
    created: list[Path] = []
    try:
        with open(path, "wb" if replace else "xb") as f:
            created.append(Path(path))
            for block in mock_vectors(n, dim, seed):
                f.write(block.astype("<f4").tobytes())
        created.append(write_sidecar(path, n, dim, replace, seed=seed, generator="hnswmm generate-mock-data"))
    except BaseException:
        for target in created:
            target.unlink(missing_ok=True)
        raise
    return time.perf_counter() - start
