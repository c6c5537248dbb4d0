"""`python3 -m hnswmm` commands on small sizes, run as a user would."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from conftest import unique_name
from hnswmm import read_f32
from hnswmm.docs import DOCS_DIR
from hnswmm.f32 import sidecar_path, write_mock_f32

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def hnswmm_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "hnswmm", *args], cwd=PACKAGE_DIR,
                            capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def table_rows(output: str) -> dict[str, list[str]]:
    """The markdown table of the benchmark: label -> other cells."""
    rows = [line.strip("|").split("|") for line in output.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


def test_generate_mock_data(tmp_path: Path) -> None:
    out = tmp_path / "v.f32"
    result = hnswmm_cli("generate-mock-data", "--out", str(out), "--n", "2000", "--dim", "24", "--seed", "3")
    assert re.search(r"wrote 2,000 x 24 float32 vectors \(0\.2 MiB, seed 3\) to .*v\.f32", result.stdout)
    assert json.loads((tmp_path / "v.f32.json").read_text()) | {"generator": 0} == {
        "format": "float32 little-endian, rows x dim, no header", "rows": 2000, "dim": 24, "seed": 3,
        "generator": 0}
    write_mock_f32(tmp_path / "same.f32", 2000, 24, seed=3)
    assert out.read_bytes() == (tmp_path / "same.f32").read_bytes()


def test_benchmark(server: None, plain_conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    data = tmp_path / "v.f32"
    write_mock_f32(data, 3000, 24, seed=4)
    table = unique_name("bench")
    result = hnswmm_cli("benchmark", "--data", str(data), "--dim", "24", "--rows", "2000", "--queries", "100",
                        "--ef-search", "10,64", "--table", table, "--no-progress")
    out = result.stdout
    assert "load: 2,000 rows (0..1,999) by binary COPY" in out  # only the rows it indexes
    assert "build: hnswmm index on rows 0..1,999 (m 16, ef_construction 32)" in out
    assert f"plan: ->  Index Scan using {table}_embedding_idx" in out
    rows = table_rows(out)
    assert list(rows) == ["exact scan (SQL)", "hnswmm ef_search 10", "hnswmm ef_search 64"]
    assert float(rows["exact scan (SQL)"][0]) == 1.0
    assert float(rows["hnswmm ef_search 64"][0]) >= 0.95
    assert plain_conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,)  # dropped


def test_benchmark_errors(server: None, tmp_path: Path) -> None:
    data = tmp_path / "v.f32"
    write_mock_f32(data, 100, 8)
    result = hnswmm_cli("benchmark", "--data", str(data), "--dim", "8", check=False)
    assert result.returncode != 0 and "need 20,500" in result.stderr
    with open(data, "ab") as f:
        f.write(b"\0")
    result = hnswmm_cli("benchmark", "--data", str(data), "--dim", "8", check=False)
    assert result.returncode == 1
    assert "error:" in result.stderr and "truncated" in result.stderr and "Traceback" not in result.stderr
    result = hnswmm_cli("benchmark", "--data", str(tmp_path / "none.f32"), check=False)
    assert result.returncode == 1 and "No such file or directory" in result.stderr


def test_wrong_dim_is_an_error(server: None, tmp_path: Path) -> None:
    data = tmp_path / "v.f32"
    write_mock_f32(data, 600, 8)  # 600 x 8 floats: a whole number of 16- or 32-dimension rows too
    assert json.loads(sidecar_path(data).read_text())["dim"] == 8
    for command in ("benchmark", "search"):
        result = hnswmm_cli(command, "--data", str(data), "--dim", "16", "--rows", "100", check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "sidecar v.f32.json says the vectors have 8 dimensions, not 16" in result.stderr
    sidecar_path(data).unlink()  # without a sidecar only the size can tell
    result = hnswmm_cli("search", "--data", str(data), "--dim", "7", "--rows", "100", check=False)
    assert result.returncode == 1 and "not a whole number of 7-dimension" in result.stderr


def neighbours(output: str) -> list[tuple[int, int, float]]:
    """The rank, id, distance lines of `search`."""
    found = re.findall(r"^\s+(\d+)\s+(\d+)\s+([\d.]+)$", output, re.M)
    return [(int(r), int(i), float(d)) for r, i, d in found]


def test_search(server: None, plain_conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    data = tmp_path / "v.f32"
    write_mock_f32(data, 3000, 24, seed=5)
    table = unique_name("search")
    out = hnswmm_cli("search", "--data", str(data), "--rows", "2000", "--k", "5", "--m", "8",
                     "--ef-construction", "32", "--table", table, "--no-progress").stdout
    assert "loaded rows 0..1,999" in out and "(m 8, ef_construction 32, l2)" in out
    assert "query: row 2,000 of" in out and "(not indexed)" in out
    assert re.search(r"rank\s+id\s+l2 distance", out)
    rows = neighbours(out)
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    vectors, query = read_f32(data, 24, 0, 2000), read_f32(data, 24, 2000, 1)[0]
    exact = np.linalg.norm(vectors - query, axis=1)
    assert [r[1] for r in rows] == np.argsort(exact)[:5].tolist()
    np.testing.assert_allclose([r[2] for r in rows], np.sort(exact)[:5], rtol=1e-5)
    assert "exact check: 5 of the 5 true nearest neighbours found" in out
    assert plain_conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,)
    rows = neighbours(hnswmm_cli("search", "--data", str(data), "--rows", "2000", "--query-row", "7",
                                 "--table", table, "--no-progress").stdout)
    assert rows[0] == (1, 7, 0.0)
    out = hnswmm_cli("search", "--data", str(data), "--rows", "500", "--random", "--seed", "3", "--k", "3",
                     "--table", table, "--no-progress").stdout
    assert "query: a random unit vector (seed 3)" in out and len(neighbours(out)) == 3
    result = hnswmm_cli("search", "--data", str(data), "--rows", "500", "--query-row", "3000", check=False)
    assert result.returncode == 1 and "--query-row 3,000 is not a row" in result.stderr


@pytest.mark.skipif(not DOCS_DIR.is_dir(), reason=f"{DOCS_DIR} is missing: apt-get install postgresql-doc-N")
def test_semantic_search_on_the_postgresql_manual(server: None) -> None:
    result = hnswmm_cli("semantic-search", "--model", "lsa", "--k", "3", "--table", unique_name("pgdocs"),
                        "Which isolation level prevents phantom reads?",
                        "How do I build an index without blocking writes?")
    out = result.stdout
    assert re.search(r"corpus: [\d,]+ passages from 1,1\d\d pages", out)
    assert "embedded with LSA (TF-IDF + truncated SVD, 384 dimensions)" in out
    answers = out.split("\nQ: ")[1:]
    assert len(answers) == 2
    assert "(transaction-iso.html)" in answers[0]
    assert "(sql-createindex.html)" in answers[1] and "Concurrently" in answers[1]
    distances = [float(d) for d in re.findall(r"^\s+\d\. \[([\d.]+)\]", answers[0], re.M)]
    assert len(distances) == 3 and distances == sorted(distances) and 0 <= distances[0] < 1


def test_read_back_what_generate_wrote(tmp_path: Path) -> None:
    out = tmp_path / "v.f32"
    hnswmm_cli("generate-mock-data", "--out", str(out), "--n", "10", "--dim", "4")
    data = read_f32(out, 4)
    assert data.shape == (10, 4) and np.allclose(np.linalg.norm(data, axis=1), 1)
