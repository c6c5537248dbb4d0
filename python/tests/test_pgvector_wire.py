"""pgvector-python's binary encodings of `halfvec`, `sparsevec` and `bit`
(its `HalfVector`, `SparseVector` and `Bit` classes' to_binary and
from_binary, written out here since PyPI is not reachable) work against
hnswmm as they do against pgvector: values sent in binary are stored as
sent, values read in binary decode to what was stored, and a binary query
parameter is served by the index."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import psycopg
import pytest
from psycopg import sql
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format


@dataclass(frozen=True)
class Half:
    """A halfvec value, as pgvector-python's HalfVector holds it."""
    values: tuple[float, ...]


@dataclass(frozen=True)
class Sparse:
    """A sparsevec value: dimensions, 0-based indices and their values."""
    dim: int
    elements: dict[int, float]


@dataclass(frozen=True)
class Bits:
    """A bit string, as pgvector-python's Bit holds it."""
    bits: str


def half_to_binary(v: Half) -> bytes:
    return struct.pack(">HH", len(v.values), 0) + np.array(v.values, dtype=">f2").tobytes()


def half_from_binary(data: bytes) -> Half:
    dim, unused = struct.unpack_from(">HH", data)
    assert unused == 0
    return Half(tuple(float(x) for x in np.frombuffer(data, dtype=">f2", count=dim, offset=4)))


def sparse_to_binary(v: Sparse) -> bytes:
    indices = sorted(v.elements)
    nnz = len(indices)
    return (struct.pack(">iii", v.dim, nnz, 0) + struct.pack(f">{nnz}i", *indices)
            + struct.pack(f">{nnz}f", *(v.elements[i] for i in indices)))


def sparse_from_binary(data: bytes) -> Sparse:
    dim, nnz, unused = struct.unpack_from(">iii", data)
    assert unused == 0
    indices = struct.unpack_from(f">{nnz}i", data, 12)
    values = struct.unpack_from(f">{nnz}f", data, 12 + 4 * nnz)
    return Sparse(dim, dict(zip(indices, values)))


def bits_to_binary(v: Bits) -> bytes:
    packed = np.packbits(np.array([c == "1" for c in v.bits], dtype=bool)).tobytes()
    return struct.pack(">i", len(v.bits)) + packed


def bits_from_binary(data: bytes) -> Bits:
    (length,) = struct.unpack_from(">i", data)
    unpacked = np.unpackbits(np.frombuffer(data, dtype=np.uint8, offset=4))[:length]
    return Bits("".join("1" if b else "0" for b in unpacked))


CODECS: dict[str, tuple[type, Callable[[Any], bytes], Callable[[bytes], Any]]] = {
    "halfvec": (Half, half_to_binary, half_from_binary),
    "sparsevec": (Sparse, sparse_to_binary, sparse_from_binary),
    "bit": (Bits, bits_to_binary, bits_from_binary),
}


def register_binary(conn: psycopg.Connection[Any]) -> None:
    """Binary dumpers and loaders for the three types, by their OIDs."""
    for name, (cls, encode, decode) in CODECS.items():
        oid = conn.execute("SELECT %s::regtype::oid", [name]).fetchone()[0]  # type: ignore[index]

        class TypeDumper(Dumper):
            format = Format.BINARY

            def dump(self, obj: Any, _encode: Callable[[Any], bytes] = encode) -> bytes:
                return _encode(obj)

        class TypeLoader(Loader):
            format = Format.BINARY

            def load(self, data: Any, _decode: Callable[[bytes], Any] = decode) -> Any:
                return _decode(bytes(data))

        TypeDumper.oid = oid
        conn.adapters.register_dumper(cls, TypeDumper)
        conn.adapters.register_loader(oid, TypeLoader)


@pytest.fixture
def wire_conn(plain_conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    register_binary(plain_conn)
    return plain_conn


HALVES = [
    Half((1.5, -2.25, 65504.0)),
    Half((-65504.0, 5.960464477539063e-08, 0.0)),
    Half((0.0999755859375, 3.0, -0.5)),
]
SPARSES = [
    Sparse(100000, {1: 3.5, 99999: -1.0}),
    Sparse(6, {}),
    Sparse(6, {0: 1e-30, 5: 3.4e38}),
]
BITS = [Bits("10110010"), Bits("00000000"), Bits("11111111")]


def test_values_sent_in_binary_are_stored_as_sent(wire_conn: psycopg.Connection[Any],
                                                  new_table: Callable[[], str]) -> None:
    t = sql.Identifier(new_table())
    wire_conn.execute(sql.SQL("CREATE TABLE {} (id int, h halfvec, s sparsevec, b bit(8))").format(t))
    with wire_conn.cursor(binary=True) as cur:
        for i, row in enumerate(zip(HALVES, SPARSES, BITS)):
            cur.execute(sql.SQL("INSERT INTO {} VALUES (%s, %b, %b, %b)").format(t), [i, *row])
    text = wire_conn.execute(sql.SQL("SELECT h::text, s::text, b::text FROM {} ORDER BY id").format(t)).fetchall()
    assert text == [
        ("[1.5,-2.25,65504]", "{2:3.5,100000:-1}/100000", "10110010"),
        ("[-65504,5.9604645e-08,0]", "{}/6", "00000000"),
        ("[0.099975586,3,-0.5]", "{1:1e-30,6:3.4e+38}/6", "11111111"),
    ]
    with wire_conn.cursor(binary=True) as cur:
        back = cur.execute(sql.SQL("SELECT h, s, b FROM {} ORDER BY id").format(t)).fetchall()
    assert [r[0] for r in back] == HALVES
    assert [r[1].dim for r in back] == [s.dim for s in SPARSES]
    assert [sorted(r[1].elements) for r in back] == [sorted(s.elements) for s in SPARSES]
    assert [r[2] for r in back] == BITS


def test_binary_query_parameters_use_the_indexes(wire_conn: psycopg.Connection[Any],
                                                 new_table: Callable[[], str]) -> None:
    t = sql.Identifier(new_table())
    wire_conn.execute(sql.SQL("""
        CREATE TABLE {t} (id int, h halfvec(3), b bit(8));
        INSERT INTO {t} SELECT i, ARRAY[i % 17, i % 5, 0.25 * i]::real[], (i % 256)::bit(8)
        FROM generate_series(1, 2000) i;
        CREATE INDEX ON {t} USING hnswmm (h halfvec_l2_ops);
        CREATE INDEX ON {t} USING hnswmm (b bit_hamming_ops);
        ANALYZE {t}""").format(t=t))
    with wire_conn.cursor(binary=True) as cur:
        cur.execute("SET enable_seqscan = off")
        plan = cur.execute(sql.SQL("EXPLAIN (COSTS OFF) SELECT id FROM {} ORDER BY h <-> %b LIMIT 1").format(t),
                           [Half((3.0, 4.0, 25.0))]).fetchall()
        assert "Index Scan" in " ".join(r[0] for r in plan)
        nearest = cur.execute(sql.SQL("SELECT id, h FROM {} ORDER BY h <-> %b LIMIT 1").format(t),
                              [Half((3.0, 4.0, 25.0))]).fetchone()
        cur.execute("SET enable_seqscan = on")
        cur.execute("SET enable_indexscan = off")
        exact = cur.execute(sql.SQL("SELECT id, h FROM {} ORDER BY h <-> '[3,4,25]' LIMIT 1").format(t)).fetchone()
        assert nearest == exact == (104, Half((2.0, 4.0, 26.0)))
        cur.execute("RESET enable_indexscan")
        cur.execute("SET enable_seqscan = off")
        ham = cur.execute(sql.SQL("SELECT b <~> %b FROM {} ORDER BY b <~> %b LIMIT 1").format(t),
                          [Bits("00000111"), Bits("00000111")]).fetchone()
        assert ham == (0.0,)
