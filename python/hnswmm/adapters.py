"""psycopg 3 adapters of the `vector` type.

`register_vector(conn)` (or `await register_vector_async(aconn)`) looks up
the type in the connection's database and registers, on that connection
only:

- dumpers that send numpy arrays (any real dtype, contiguous or not) and
  lists of floats as `vector`, in binary for `%s` and `%b`, in text for
  `%t`; lists of `vector` values (numpy arrays) go as `vector[]`;
- loaders that return `vector` values, text or binary, as float32 numpy
  arrays, and `vector[]` values as lists of them;
- the type's oids, so binary COPY can `set_types([..., oid])`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import Dumper, Loader, PyFormat
from psycopg.pq import Format
from psycopg.types import TypeInfo
from psycopg.types.array import ListBinaryDumper, ListDumper

from .vector import Floats, as_vector, from_binary, from_text, to_binary, to_text

# The `vector` type of hnswmm, else pgvector's (same name and formats).
_FIND_TYPE = """
SELECT t.oid, t.typarray, n.nspname, e.extname
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid
WHERE t.typname = 'vector' AND e.extname IN ('hnswmm', 'vector')
ORDER BY e.extname = 'hnswmm' DESC
LIMIT 1
"""
_LIST_AS_VECTOR = (list, "vector")  # the dumper cache key of lists of floats
_NUMBER_TYPES = (int, float, np.integer, np.floating)
_FLOAT_TYPES = (float, np.floating)


@dataclass(frozen=True)
class VectorType:
    """Where the `vector` type is in one database."""

    oid: int
    array_oid: int
    schema: str
    extension: str  # "hnswmm", or "vector" for pgvector


class VectorTextDumper(Dumper):
    """A numpy array or a sequence of numbers as a `vector`, in text."""

    format = Format.TEXT

    def dump(self, obj: Any) -> Buffer:
        return to_text(as_vector(obj))


class VectorBinaryDumper(Dumper):
    """A numpy array or a sequence of numbers as a `vector`, in binary."""

    format = Format.BINARY

    def dump(self, obj: Any) -> Buffer:
        return to_binary(as_vector(obj))


class VectorTextLoader(Loader):
    format = Format.TEXT

    def load(self, data: Buffer) -> Floats:
        return from_text(data)


class VectorBinaryLoader(Loader):
    format = Format.BINARY

    def load(self, data: Buffer) -> Floats:
        return from_binary(data)


def is_float_list(obj: list[Any]) -> bool:
    """Whether a list goes as a `vector`: numbers only (no bools, None or
    nested lists), at least one of them a float.  Lists of ints stay
    arrays, so `id = ANY(%s)` keeps working."""
    types = set(map(type, obj))
    return (any(issubclass(t, _FLOAT_TYPES) for t in types)
            and all(issubclass(t, _NUMBER_TYPES) and not issubclass(t, bool) for t in types))


class _VectorListMixin:
    """Part of a list dumper: lists of floats become vectors, any other list
    is dumped as psycopg dumps it (an array)."""

    vector_dumpers: dict[Format, type[Dumper]]  # set on the subclass of each connection
    _tx: Any

    def get_key(self, obj: list[Any], format: PyFormat) -> Any:
        if is_float_list(obj):
            return _LIST_AS_VECTOR
        return super().get_key(obj, format)  # type: ignore[misc]

    def upgrade(self, obj: list[Any], format: PyFormat) -> Any:  # a Dumper
        if is_float_list(obj):
            fmt = Format.TEXT if format == PyFormat.TEXT else Format.BINARY
            return self.vector_dumpers[fmt](list, self._tx)
        return super().upgrade(obj, format)  # type: ignore[misc]


class _VectorListDumper(_VectorListMixin, ListDumper):
    pass


class _VectorListBinaryDumper(_VectorListMixin, ListBinaryDumper):
    pass


def _find_type(cur: psycopg.Cursor[Any]) -> VectorType:
    row = cur.execute(_FIND_TYPE).fetchone()
    return _type_from_row(row)


def _type_from_row(row: tuple[Any, ...] | None) -> VectorType:
    if row is None:
        raise psycopg.ProgrammingError(
            "type vector not found in this database: run CREATE EXTENSION hnswmm")
    return VectorType(*row)


def register_types(context: AdaptContext, vtype: VectorType, lists: bool = True) -> None:
    """Register the adapters of a `vector` type found earlier on a connection
    or cursor (or anything with `adapters`)."""
    adapters = context.adapters
    TypeInfo("vector", vtype.oid, vtype.array_oid).register(context)  # vector[]
    dumpers = {base.format: type(base.__name__, (base,), {"oid": vtype.oid})
               for base in (VectorTextDumper, VectorBinaryDumper)}
    adapters.register_dumper(np.ndarray, dumpers[Format.TEXT])
    adapters.register_dumper(np.ndarray, dumpers[Format.BINARY])  # the last one registered serves %s
    adapters.register_loader(vtype.oid, VectorTextLoader)
    adapters.register_loader(vtype.oid, VectorBinaryLoader)
    if lists:
        # Text last, as psycopg does, so other lists are dumped as before;
        # lists of floats are still sent in binary for %s.
        for base in (_VectorListBinaryDumper, _VectorListDumper):
            adapters.register_dumper(list, type(base.__name__, (base,), {"vector_dumpers": dumpers}))


def register_vector(conn: psycopg.Connection[Any], lists: bool = True) -> VectorType:
    """Register the `vector` adapters on a connection and return where the
    type is.  The connection is left in the transaction state it was in, so
    this is a valid `configure` callback of a psycopg_pool pool.

    With `lists=False`, Python lists keep psycopg's adaptation (arrays).
    """
    with conn.transaction(), conn.cursor() as cur:
        vtype = _find_type(cur)
    register_types(conn, vtype, lists)
    return vtype


async def register_vector_async(conn: psycopg.AsyncConnection[Any], lists: bool = True) -> VectorType:
    """`register_vector` for an AsyncConnection."""
    async with conn.transaction(), conn.cursor() as cur:
        await cur.execute(_FIND_TYPE)
        vtype = _type_from_row(await cur.fetchone())
    register_types(conn, vtype, lists)
    return vtype
