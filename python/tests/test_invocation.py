"""How hnswmm is run: from the repository root next to the PostgreSQL
module hnswmm.so, by an interpreter without numpy or psycopg, and after
`pip install ./python` into a Debian 12 venv."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1]
ROOT_SHIM = PACKAGE_DIR.parent / "hnswmm"  # the repository root's stand-in package
DEBIAN_PYTHON = "/usr/bin/python3"


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


@pytest.fixture
def repo_root(tmp_path: Path) -> Path:
    """Stands for the repository root after `make`: a hnswmm.so (not a
    Python module) next to the python/ directory and the root's stand-in
    package hnswmm/."""
    (tmp_path / "hnswmm.so").write_bytes(b"\x7fELF not a Python extension")
    (tmp_path / "python").symlink_to(PACKAGE_DIR)
    (tmp_path / "hnswmm").mkdir()
    shutil.copy(ROOT_SHIM / "__init__.py", tmp_path / "hnswmm" / "__init__.py")
    return tmp_path


def test_dash_m_from_the_repository_root(repo_root: Path) -> None:
    result = run([sys.executable, "-m", "hnswmm", "--help"], repo_root)
    assert result.returncode == 0, result.stderr
    assert "generate-mock-data" in result.stdout
    result = run([sys.executable, "-c", "import hnswmm; print(hnswmm.VectorStore.__module__)"], repo_root)
    assert result.returncode == 0 and result.stdout.strip() == "hnswmm.store", result.stderr


def test_without_the_stand_in_the_module_shadows_the_package(repo_root: Path) -> None:
    """What the root's hnswmm/ is for: without it, -m finds hnswmm.so."""
    shutil.rmtree(repo_root / "hnswmm")
    result = run([sys.executable, "-m", "hnswmm", "--help"], repo_root)
    assert result.returncode != 0 and "No code object available for hnswmm" in result.stderr


def test_launch_from_the_repository_root(repo_root: Path) -> None:
    result = run([sys.executable, "python/hnswmm", "--help"], repo_root)
    assert result.returncode == 0, result.stderr
    assert "generate-mock-data" in result.stdout and "search" in result.stdout
    result = run([sys.executable, "python/hnswmm", "generate-mock-data", "--out", "v.f32", "--n", "5",
                  "--dim", "3"], repo_root)
    assert result.returncode == 0 and (repo_root / "v.f32").stat().st_size == 60
    if sys.version_info >= (3, 11):  # -P: the current directory is not put on sys.path
        result = run([sys.executable, "-P", "-m", "hnswmm", "--help"], repo_root, PYTHONPATH="python")
        assert result.returncode == 0, result.stderr


def test_without_numpy(tmp_path: Path) -> None:
    (tmp_path / "numpy.py").write_text("raise ImportError('No module named numpy (a stand-in)')\n")
    result = run([sys.executable, "-m", "hnswmm", "benchmark"], PACKAGE_DIR, PYTHONPATH=str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "hnswmm needs numpy, which this Python" in result.stderr
    assert "apt-get install python3-numpy" in result.stderr and DEBIAN_PYTHON in result.stderr
    result = run([sys.executable, "-c", "from hnswmm import VectorStore"], PACKAGE_DIR, PYTHONPATH=str(tmp_path))
    assert "ModuleNotFoundError: hnswmm needs numpy" in result.stderr


def other_python() -> str | None:
    """A python3 on PATH that cannot import numpy or psycopg, if any."""
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        exe = shutil.which("python3", path=directory)
        if exe and run([exe, "-c", "import numpy, psycopg"], PACKAGE_DIR).returncode != 0:
            return exe
    return None


def test_run_by_an_interpreter_without_the_packages() -> None:
    exe = other_python()
    if exe is None:
        pytest.skip("every python3 on PATH has numpy and psycopg")
    result = run([exe, "-m", "hnswmm", "--help"], PACKAGE_DIR)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "python3-numpy" in result.stderr or "python3-psycopg" in result.stderr
    assert f"run the command with {DEBIAN_PYTHON}" in result.stderr


@pytest.mark.skipif(not Path(DEBIAN_PYTHON).exists(), reason="not Debian's python3")
def test_pip_install_into_a_debian_venv(tmp_path: Path) -> None:
    """The README's recipe: a venv that sees Debian's packages, and pip
    without build isolation and without an index (PEP 668, no PyPI)."""
    source = tmp_path / "src"
    shutil.copytree(PACKAGE_DIR, source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info",
                                                                       "__pycache__"))
    venv = tmp_path / "venv"
    assert run([DEBIAN_PYTHON, "-m", "venv", "--system-site-packages", str(venv)], tmp_path).returncode == 0
    result = run([str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-index", str(source)],
                 tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    result = run([str(venv / "bin" / "hnswmm"), "--help"], tmp_path)
    assert result.returncode == 0 and "generate-mock-data" in result.stdout
    result = run([str(venv / "bin" / "python"), "-c", "import hnswmm.store, hnswmm; print(hnswmm.__file__)"],
                 tmp_path)
    assert result.returncode == 0 and str(venv) in result.stdout
    assert (Path(result.stdout.strip()).parent / "py.typed").exists()
