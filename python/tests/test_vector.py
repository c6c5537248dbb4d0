"""The vector value on the client: checks and wire formats, no server."""
from __future__ import annotations

import numpy as np
import psycopg
import pytest

from hnswmm.adapters import is_float_list
from hnswmm.vector import InvalidVector, as_matrix, as_vector, from_binary, from_text, to_binary, to_text


@pytest.mark.parametrize("value", [
    np.array([1, 2, 3.5], np.float32),
    np.array([1, 2, 3.5], np.float64),
    np.array([1, 2, 3], np.int64),
    np.arange(12, dtype=np.float64)[::4],
    np.arange(6, dtype=np.float32).reshape(2, 3)[:, 1],
    [1.0, 2, 3.5],
    (0.5, 1.5),
])
def test_as_vector_accepts(value: object) -> None:
    vec = as_vector(value)
    assert vec.dtype == np.float32 and vec.ndim == 1 and vec.flags.c_contiguous
    np.testing.assert_array_equal(vec, np.asarray(value, np.float32))


@pytest.mark.parametrize("value, message", [
    (np.zeros((2, 3)), "one-dimensional"),
    (np.zeros(0), "1 to 16000 dimensions"),
    (np.zeros(16001), "1 to 16000 dimensions"),
    ([1.0, float("nan")], "NaN or infinity"),
    (np.array([1.0, np.inf]), "NaN or infinity"),
    (np.array([1.0, 1e39]), "out of the float4 range"),
    (["1", "2"], "numbers"),
    ([True, False], "numbers"),
    ([[1.0, 2.0], [3.0]], "not an array of numbers"),
    ([1.0, None], "numbers"),
])
def test_as_vector_rejects(value: object, message: str) -> None:
    with pytest.raises(InvalidVector, match=message):
        as_vector(value)


def test_invalid_vector_is_value_error_and_psycopg_error() -> None:
    with pytest.raises(ValueError):
        as_vector([float("nan")])
    with pytest.raises(psycopg.DataError):
        as_vector([float("nan")])


def test_as_matrix_checks_shape_and_dimension() -> None:
    assert as_matrix(np.ones((4, 3)), 3).shape == (4, 3)
    with pytest.raises(InvalidVector, match="expected vectors of 4 dimensions, got 3"):
        as_matrix(np.ones((4, 3)), 4)
    with pytest.raises(InvalidVector, match="2-D"):
        as_matrix(np.ones(3), 3)
    with pytest.raises(InvalidVector, match=r"NaN or infinity: nan at \(1, 2\)"):
        as_matrix([[1, 2, 3], [4, 5, float("nan")]], 3)


def test_text_and_binary_round_trip_exactly(rng: np.random.Generator) -> None:
    vec = (rng.standard_normal(1000) * 10.0 ** rng.integers(-30, 30, 1000)).astype(np.float32)
    vec[:3] = [0.0, -0.0, np.finfo(np.float32).max]
    np.testing.assert_array_equal(from_text(to_text(vec)), vec)
    np.testing.assert_array_equal(from_binary(to_binary(vec)), vec)


def test_wire_formats() -> None:
    vec = as_vector([1, 2.5, -3])
    assert to_text(vec) == b"[1.0,2.5,-3.0]"
    assert to_binary(vec) == b"\x00\x03\x00\x00" + np.array([1, 2.5, -3], ">f4").tobytes()
    np.testing.assert_array_equal(from_text(b"[1, 2.5 ,-3]"), vec)
    with pytest.raises(psycopg.DataError):
        from_binary(to_binary(vec)[:-1])
    with pytest.raises(psycopg.DataError):
        from_text(b"1,2")


@pytest.mark.parametrize("value, expected", [
    ([1.0, 2.0], True), ([1, 2.5], True), ([np.float32(1), np.float64(2)], True),
    ([1, 2, 3], False), ([], False), ([True, 1.0], False), ([1.0, None], False),
    ([[1.0], [2.0]], False), (["a"], False),
])
def test_which_lists_are_vectors(value: list[object], expected: bool) -> None:
    assert is_float_list(value) is expected
