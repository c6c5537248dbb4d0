"""psycopg adapters against the server: every input, both formats, NULLs,
vector[], binary COPY, errors, and the type in another schema."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import psycopg
import pytest
from psycopg import sql

from conftest import connect
from hnswmm import InvalidVector, VectorStore, register_vector

INPUTS = {
    "float32": np.array([1, -2.5, 3e-7], np.float32),
    "float64": np.array([1, -2.5, 3e-7], np.float64),
    "int64": np.array([1, -2, 3], np.int64),
    "strided": np.arange(9, dtype=np.float64)[::4],
    "reversed": np.arange(3, dtype=np.float32)[::-1],
    "fortran column": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(3, 2))[:, 1],
    "float list": [1.0, -2.5, 3e-7],
    "mixed list": [1, 2.5, np.float32(3)],
}


@pytest.mark.parametrize("placeholder", ["%s", "%t", "%b"])
@pytest.mark.parametrize("binary_results", [False, True], ids=["text out", "binary out"])
@pytest.mark.parametrize("name", INPUTS)
def test_round_trip(conn: psycopg.Connection[Any], name: str, placeholder: str,
                    binary_results: bool) -> None:
    value = INPUTS[name]
    cur = conn.cursor(binary=binary_results)
    got, typ = cur.execute(f"SELECT {placeholder}, pg_typeof({placeholder})::text",
                           (value, value)).fetchone()  # type: ignore[misc]
    assert typ == "vector"
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    np.testing.assert_array_equal(got, np.asarray(value, np.float32))


@pytest.mark.parametrize("binary_results", [False, True])
def test_float4_values_round_trip_exactly(conn: psycopg.Connection[Any], rng: np.random.Generator,
                                          binary_results: bool) -> None:
    vec = (rng.standard_normal(2000) * 10.0 ** rng.integers(-30, 30, 2000)).astype(np.float32)
    for placeholder in ("%t", "%b"):
        got = conn.cursor(binary=binary_results).execute(f"SELECT {placeholder}", (vec,)).fetchone()[0]  # type: ignore[index]
        np.testing.assert_array_equal(got, vec)


def test_server_side_values_load(conn: psycopg.Connection[Any]) -> None:
    for binary in (False, True):
        cur = conn.cursor(binary=binary)
        got = cur.execute("SELECT '[1,2,3]'::vector + '[0.5,0.5,0.5]', NULL::vector").fetchone()
        assert got is not None
        np.testing.assert_array_equal(got[0], [1.5, 2.5, 3.5])
        assert got[1] is None


def test_nulls(conn: psycopg.Connection[Any], table: str) -> None:
    t = sql.Identifier(table)
    conn.execute(sql.SQL("CREATE TABLE {} (id int, v vector(2))").format(t))
    conn.execute(sql.SQL("INSERT INTO {} VALUES (1, %s), (2, %s), (3, %b)").format(t), ([1.0, 2.0], None, None))
    for binary in (False, True):
        rows = conn.cursor(binary=binary).execute(sql.SQL("SELECT v FROM {} ORDER BY id").format(t)).fetchall()
        np.testing.assert_array_equal(rows[0][0], [1, 2])
        assert rows[1][0] is None and rows[2][0] is None


@pytest.mark.parametrize("placeholder", ["%s", "%t", "%b"])
@pytest.mark.parametrize("binary_results", [False, True])
def test_vector_array(conn: psycopg.Connection[Any], placeholder: str, binary_results: bool) -> None:
    value = [np.array([1.0, 2.0]), np.array([3, 4], np.float32), None]
    cur = conn.cursor(binary=binary_results)
    got, typ = cur.execute(f"SELECT {placeholder}, pg_typeof({placeholder})::text", (value, value)).fetchone()  # type: ignore[misc]
    assert typ == "vector[]"
    assert len(got) == 3 and got[2] is None
    np.testing.assert_array_equal(got[0], [1, 2])
    np.testing.assert_array_equal(got[1], [3, 4])


def test_other_lists_stay_arrays(conn: psycopg.Connection[Any], plain_conn: psycopg.Connection[Any]) -> None:
    assert conn.execute("SELECT 2 = ANY(%s), pg_typeof(%s)::text", ([1, 2, 3], [1, 2])).fetchone() == (True, "smallint[]")
    assert conn.execute("SELECT %s::text[]", (["a", "b"],)).fetchone() == (["a", "b"],)
    register_vector(plain_conn, lists=False)
    assert plain_conn.execute("SELECT pg_typeof(%s)::text", ([1.5, 2.5],)).fetchone() == ("double precision[]",)
    assert plain_conn.execute("SELECT pg_typeof(%s)::text", (np.ones(2),)).fetchone() == ("vector",)


def test_insert_and_distance_operators(conn: psycopg.Connection[Any]) -> None:
    a, b = np.array([1.0, 2.0, 3.0]), [3.0, 2.0, 1.0]
    row = conn.execute("SELECT %s <-> %s, %s <#> %s, %s <+> %s", (a, b) * 3).fetchone()
    assert row == pytest.approx((np.sqrt(8), -10.0, 4.0))


def test_dimension_errors_carry_the_server_sqlstate(conn: psycopg.Connection[Any], table: str) -> None:
    conn.execute(sql.SQL("CREATE TABLE {} (v vector(3))").format(sql.Identifier(table)))
    with pytest.raises(psycopg.errors.DataException) as e:
        conn.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(sql.Identifier(table)), (np.ones(4),))
    assert e.value.sqlstate == "22000"
    with pytest.raises(psycopg.errors.DataException) as e:
        conn.execute("SELECT %s <-> %s", (np.ones(3), np.ones(2)))
    assert e.value.sqlstate == "22000"
    with pytest.raises(psycopg.errors.DataException) as e:
        conn.execute("SELECT %t::vector(2)", (np.ones(3),))
    assert e.value.sqlstate == "22000"


@pytest.mark.parametrize("value", [np.array([1.0, np.nan]), np.ones((2, 2)), [float("inf")], np.zeros(0)])
def test_bad_values_fail_before_sending(conn: psycopg.Connection[Any], value: Any) -> None:
    with pytest.raises(InvalidVector):
        conn.execute("SELECT %s", (value,))
    assert conn.execute("SELECT 1").fetchone() == (1,)  # the connection is fine


def test_binary_copy_in_and_out(conn: psycopg.Connection[Any], table: str, rng: np.random.Generator) -> None:
    t = sql.Identifier(table)
    vtype = register_vector(conn)
    conn.execute(sql.SQL("CREATE TABLE {} (id int, v vector(8), vs vector[])").format(t))
    rows: list[tuple[int, Any, Any]] = [(i, rng.standard_normal(8).astype(np.float32), [rng.standard_normal(8)])
                                        for i in range(50)]
    rows.append((50, None, None))
    with conn.cursor() as cur:
        with cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(t)) as copy:
            copy.set_types(["int4", vtype.oid, vtype.array_oid])
            for row in rows:
                copy.write_row(row)
        with cur.copy(sql.SQL("COPY (SELECT * FROM {} ORDER BY id) TO STDOUT (FORMAT BINARY)").format(t)) as copy:
            copy.set_types(["int4", vtype.oid, vtype.array_oid])
            out = list(copy.rows())
    assert len(out) == 51 and out[50] == (50, None, None)
    for (i, v, vs), (j, w, ws) in zip(rows[:50], out):
        assert i == j
        np.testing.assert_array_equal(v, w)
        np.testing.assert_array_equal(np.asarray(vs[0], np.float32), ws[0])


def test_registering_keeps_the_transaction_state(server: None) -> None:
    with connect(autocommit=False) as c:
        register_vector(c)
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        c.execute("SELECT 1")
        register_vector(c)
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS


def test_extension_in_another_schema(new_database: Callable[[], str], rng: np.random.Generator) -> None:
    dbname = new_database()
    with connect(dbname=dbname) as c:
        with pytest.raises(psycopg.ProgrammingError, match="CREATE EXTENSION hnswmm"):
            register_vector(c)
        c.execute("CREATE SCHEMA ext; CREATE EXTENSION hnswmm SCHEMA ext")
        vtype = register_vector(c)
        assert (vtype.schema, vtype.extension) == ("ext", "hnswmm")
        assert c.execute("SHOW search_path").fetchone() == ('"$user", public',)
        got = c.cursor(binary=True).execute("SELECT %s", ([1.0, 2.0],)).fetchone()
        np.testing.assert_array_equal(got[0], [1, 2])  # type: ignore[index]
        store = VectorStore(c, "docs", 4, metric="cosine")
        store.create()
        vectors = rng.standard_normal((300, 4))
        store.add(vectors)
        store.create_index()
        hit = store.search(vectors[7], k=1)[0]
        assert hit.id == 7 and hit.distance == pytest.approx(0, abs=1e-6)  # ids from 0, like load_f32
