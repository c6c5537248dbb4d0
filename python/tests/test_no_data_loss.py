"""No command and no store method drops or overwrites what it did not
create in the same run, unless told to with --replace / replace=True."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

import psycopg
import pytest
from psycopg import sql

from conftest import write_small_manual
from hnswmm import AsyncVectorStore, StoreMismatch, VectorStore
from hnswmm.f32 import write_mock_f32
from test_cli import hnswmm_cli


def make_precious(conn: psycopg.Connection[Any], name: str) -> None:
    """A user's table with one row that must survive."""
    conn.execute(sql.SQL("CREATE TABLE {} (id bigint, note text)").format(sql.Identifier(name)))
    conn.execute(sql.SQL("INSERT INTO {} VALUES (1, 'keep me')").format(sql.Identifier(name)))


def precious_rows(conn: psycopg.Connection[Any], name: str) -> list[tuple[Any, ...]]:
    return conn.execute(sql.SQL("SELECT id, note FROM {}").format(sql.Identifier(name))).fetchall()


def exists(conn: psycopg.Connection[Any], name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (sql.Identifier(name).as_string(conn),)).fetchone()
    return row is not None and row[0] is not None


def assert_refused(result: Any, name: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert f'"{name}" already exists' in result.stderr and "--replace" in result.stderr
    assert "Traceback" not in result.stderr


def test_benchmark_refuses_an_existing_table(plain_conn: psycopg.Connection[Any], table: str,
                                             tmp_path: Path) -> None:
    data = tmp_path / "v.f32"
    write_mock_f32(data, 700, 8, seed=1)
    make_precious(plain_conn, table)
    args = ("benchmark", "--data", str(data), "--dim", "8", "--rows", "500", "--queries", "50",
            "--ef-search", "20", "--table", table, "--no-progress")
    assert_refused(hnswmm_cli(*args, check=False), table)
    assert precious_rows(plain_conn, table) == [(1, "keep me")]
    result = hnswmm_cli(*args, "--replace")  # asked for: dropped, then the run's own table is dropped
    assert "load: 700 rows" in result.stdout or "load: 500 rows" in result.stdout
    assert not exists(plain_conn, table)


def test_benchmark_failing_drops_only_its_own_table(plain_conn: psycopg.Connection[Any],
                                                    new_table: Callable[[], str], tmp_path: Path) -> None:
    data = tmp_path / "v.f32"
    write_mock_f32(data, 700, 8, seed=1)
    mine, other = new_table(), new_table()
    make_precious(plain_conn, other)  # holds the index name the benchmark wants
    plain_conn.execute(sql.SQL("CREATE INDEX {} ON {} (id)").format(
        sql.Identifier(f"{mine}_embedding_idx"), sql.Identifier(other)))
    result = hnswmm_cli("benchmark", "--data", str(data), "--dim", "8", "--rows", "500", "--queries", "50",
                        "--table", mine, "--no-progress", check=False)
    assert result.returncode == 1 and "already exists" in result.stderr
    assert not exists(plain_conn, mine)
    assert exists(plain_conn, f"{mine}_embedding_idx") and precious_rows(plain_conn, other) == [(1, "keep me")]


def test_semantic_search_refuses_an_existing_table(plain_conn: psycopg.Connection[Any], table: str,
                                                   tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    docs = write_small_manual(tmp_path)
    make_precious(plain_conn, table)
    args = ("semantic-search", "--docs", str(docs), "--model", "lsa", "--table", table, "--no-progress",
            "what do cats eat")
    assert_refused(hnswmm_cli(*args, check=False), table)
    assert precious_rows(plain_conn, table) == [(1, "keep me")]
    result = hnswmm_cli(*args, "--replace", "--keep")
    assert "(cats.html)" in result.stdout
    assert plain_conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone() != (1,)


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "mine.f32"
    out.write_bytes(b"precious")
    result = hnswmm_cli("generate-mock-data", "--out", str(out), "--n", "10", "--dim", "4", check=False)
    assert result.returncode == 1 and "already exists" in result.stderr and "--replace" in result.stderr
    assert out.read_bytes() == b"precious"
    hnswmm_cli("generate-mock-data", "--out", str(out), "--n", "10", "--dim", "4", "--replace")
    assert out.stat().st_size == 10 * 4 * 4


def test_store_does_not_adopt_a_foreign_table(conn: psycopg.Connection[Any], new_table: Callable[[], str]) -> None:
    foreign, other_dim = new_table(), new_table()
    make_precious(conn, foreign)
    with pytest.raises(StoreMismatch, match="is not a vector store"):
        VectorStore(conn, foreign, 4).create(exist_ok=True)
    assert precious_rows(conn, foreign) == [(1, "keep me")]
    VectorStore(conn, other_dim, 8).create()
    with pytest.raises(StoreMismatch, match="vectors of 8 dimensions, not 4"):
        VectorStore(conn, other_dim, 4).create(exist_ok=True)
    VectorStore(conn, other_dim, 8).create(exist_ok=True)  # the same shape: fine

    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(autocommit=True) as aconn:
            with pytest.raises(StoreMismatch, match="is not a vector store"):
                await AsyncVectorStore(aconn, foreign, 4).create(exist_ok=True)
    asyncio.run(main())
    assert precious_rows(conn, foreign) == [(1, "keep me")]
