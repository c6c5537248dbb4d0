"""Raw float32 files: mock data, load_f32, and files that are bad."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg import sql

import hnswmm.f32
from hnswmm import F32FileError, InvalidVector, f32_rows, load_f32, read_f32
from hnswmm.vector import Array
from hnswmm.f32 import mock_vectors, write_mock_f32

N, DIM = 3000, 16


@pytest.fixture
def f32_file(tmp_path: Path) -> Path:
    path = tmp_path / "mock.f32"
    write_mock_f32(path, N, DIM, seed=1)
    return path


def table_exists(conn: psycopg.Connection[Any], table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (sql.Identifier(table).as_string(conn),)).fetchone() == (True,)


def fetch(conn: psycopg.Connection[Any], table: str) -> tuple[Array, Array]:
    rows = conn.cursor(binary=True).execute(
        sql.SQL("SELECT id, embedding FROM {} ORDER BY id").format(sql.Identifier(table))).fetchall()
    return np.array([r[0] for r in rows]), np.stack([r[1] for r in rows])


def test_mock_data_is_deterministic_and_unit_length(f32_file: Path) -> None:
    assert f32_file.stat().st_size == N * DIM * 4
    data = read_f32(f32_file, DIM)
    np.testing.assert_array_equal(data, np.concatenate(list(mock_vectors(N, DIM, seed=1))))
    np.testing.assert_allclose(np.linalg.norm(data, axis=1), 1.0, rtol=1e-5)
    assert not np.array_equal(data[:10], next(mock_vectors(10, DIM, seed=2)))
    with pytest.raises(ValueError):
        write_mock_f32(f32_file, 0, DIM)


def test_load_f32(conn: psycopg.Connection[Any], table: str, f32_file: Path,
                  capsys: pytest.CaptureFixture[str]) -> None:
    assert load_f32(conn, table, f32_file, DIM) == N
    ids, vectors = fetch(conn, table)
    np.testing.assert_array_equal(ids, np.arange(N))
    np.testing.assert_array_equal(vectors, read_f32(f32_file, DIM))
    assert "100.0% 3,000/3,000 rows" in capsys.readouterr().err
    pkey = conn.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass AND indisprimary",
                        (table,)).fetchone()
    assert pkey == (1,)


def test_load_a_range_into_an_existing_table(conn: psycopg.Connection[Any], table: str, f32_file: Path) -> None:
    assert load_f32(conn, table, f32_file, DIM, start=100, count=50, progress=False) == 50
    assert load_f32(conn, table, f32_file, DIM, start=2990, create=False, progress=False) == 10
    ids, vectors = fetch(conn, table)
    np.testing.assert_array_equal(ids, np.r_[100:150, 2990:3000])
    np.testing.assert_array_equal(vectors, read_f32(f32_file, DIM)[ids])
    with pytest.raises(ValueError, match="has 3,000 vectors"):
        load_f32(conn, table, f32_file, DIM, start=2999, count=2, create=False)


def test_truncated_file(conn: psycopg.Connection[Any], table: str, f32_file: Path) -> None:
    with open(f32_file, "ab") as f:
        f.write(b"\0\0")
    with pytest.raises(F32FileError, match="not a whole number of 16-dimension float32 vectors"):
        load_f32(conn, table, f32_file, DIM)
    with pytest.raises(F32FileError):
        load_f32(conn, table, f32_file, 15)  # the wrong dimension
    assert not table_exists(conn, table)


def test_empty_and_unreadable_files(conn: psycopg.Connection[Any], table: str, tmp_path: Path) -> None:
    (tmp_path / "empty.f32").touch()
    with pytest.raises(F32FileError):
        load_f32(conn, table, tmp_path / "empty.f32", DIM)
    with pytest.raises(FileNotFoundError):
        load_f32(conn, table, tmp_path / "missing.f32", DIM)
    with pytest.raises(IsADirectoryError):
        load_f32(conn, table, tmp_path, DIM)
    assert not table_exists(conn, table)


def test_file_that_ends_while_loading(conn: psycopg.Connection[Any], table: str, f32_file: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The file shrinks after it was checked: the COPY stops, nothing stays."""
    monkeypatch.setattr(hnswmm.f32, "f32_rows", lambda path, dim: N + 5)
    with pytest.raises(F32FileError, match="ended early"):
        load_f32(conn, table, f32_file, DIM, progress=False)
    assert not table_exists(conn, table)


def test_nan_in_file(conn: psycopg.Connection[Any], table: str, tmp_path: Path) -> None:
    data = np.ones((100, 4), "<f4")
    data[42, 1] = np.nan
    path = tmp_path / "nan.f32"
    data.tofile(path)
    with pytest.raises(InvalidVector, match="vector 42 holds NaN"):
        load_f32(conn, table, path, 4, progress=False)
    assert not table_exists(conn, table)


def test_f32_rows_checks_dim(f32_file: Path) -> None:
    assert f32_rows(f32_file, DIM) == N
    with pytest.raises(ValueError, match="dim must be"):
        f32_rows(f32_file, 0)
