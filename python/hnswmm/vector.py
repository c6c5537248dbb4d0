"""`vector` values in Python: checking them and their two wire formats.

Text is `[1,2.5,3]`. Binary (send/recv) is an int16 number of dimensions,
an int16 that is always 0, then the values as big-endian float4.  Both are
pgvector's, so these functions work with either extension.
"""
from __future__ import annotations

import struct
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

Floats = npt.NDArray[np.float32]  # a vector, or vectors as rows
Array = npt.NDArray[Any]
MAX_DIM = 16000
_HEADER = struct.Struct(">hh")  # dimensions, unused (0)
_NUMBER_KINDS = "iuf"  # numpy kinds that convert to float4: ints and floats


class InvalidVector(psycopg.DataError, ValueError):
    """A value that cannot be a `vector`: not one-dimensional, empty, too
    long, not numbers, or not finite float4 values.

    It is raised on the client before anything is sent, and is both a
    `ValueError` and a `psycopg.DataError`.
    """


def as_vector(obj: Any) -> Floats:
    """`obj` (a numpy array or a sequence of numbers) as a contiguous 1-D
    float32 array, checked the way the server checks a vector."""
    if isinstance(obj, np.ndarray) and obj.dtype == np.float32 and obj.ndim == 1:
        raw = vec = np.ascontiguousarray(obj)  # float32 already: nothing to overflow
    else:
        raw = _numbers(obj)
        if raw.ndim != 1:
            raise InvalidVector(f"a vector must be one-dimensional, got an array of shape {raw.shape}")
        with np.errstate(over="ignore"):
            vec = np.ascontiguousarray(raw, dtype=np.float32)
    if not 1 <= vec.size <= MAX_DIM:
        raise InvalidVector(f"a vector has 1 to {MAX_DIM} dimensions, got {vec.size}")
    check_finite(vec, raw)
    return vec


def as_matrix(obj: Any, dim: int | None = None) -> Floats:
    """`obj` as a C-contiguous 2-D float32 array of vectors (one a row),
    checked like `as_vector`; with `dim`, every row must have that many
    dimensions."""
    raw = _numbers(obj)
    if raw.ndim != 2:
        raise InvalidVector(f"expected a 2-D array of vectors (one a row), got shape {raw.shape}")
    if dim is not None and raw.shape[1] != dim:
        raise InvalidVector(f"expected vectors of {dim} dimensions, got {raw.shape[1]}")
    if not 1 <= raw.shape[1] <= MAX_DIM:
        raise InvalidVector(f"a vector has 1 to {MAX_DIM} dimensions, got {raw.shape[1]}")
    with np.errstate(over="ignore"):
        mat = np.ascontiguousarray(raw, dtype=np.float32)
    check_finite(mat, raw)
    return mat


def _numbers(obj: Any) -> Array:
    """obj as a numpy array of ints or floats (no copy when it is one)."""
    try:
        raw = np.asarray(obj)
    except ValueError as e:  # ragged nested sequences
        raise InvalidVector(f"not an array of numbers: {e}") from None
    if raw.dtype.kind not in _NUMBER_KINDS:
        raise InvalidVector(f"vectors hold numbers, not {raw.dtype} values")
    return raw


def check_finite(values: Array, original: Array | None = None) -> None:
    """Raise InvalidVector naming the first value that is NaN, infinite, or
    (given the original array) out of the float4 range."""
    finite = np.isfinite(values)
    if finite.all():
        return
    where = tuple(int(i) for i in np.argwhere(~finite)[0])
    position = where[0] if len(where) == 1 else where
    value = original[where] if original is not None else values[where]
    if np.isfinite(value):
        raise InvalidVector(f"value {value} at {position} is out of the float4 range")
    raise InvalidVector(f"vectors must not contain NaN or infinity: {value} at {position}")


def to_binary(vec: Array) -> bytes:
    """The binary form of a checked vector (see `as_vector`)."""
    return _HEADER.pack(vec.size, 0) + vec.astype(">f4").tobytes()


def to_text(vec: Array) -> bytes:
    """The text form of a checked vector, each value the shortest text that
    reads back as the same float4."""
    return ("[" + ",".join(map(str, vec)) + "]").encode()


def from_binary(data: Any) -> Floats:
    """A float32 array from the binary form."""
    dim, _ = _HEADER.unpack_from(data)
    if dim < 1 or len(data) != _HEADER.size + 4 * dim:
        raise psycopg.DataError(f"bad binary vector: {len(data)} bytes for {dim} dimensions")
    return np.frombuffer(data, ">f4", dim, _HEADER.size).astype(np.float32)


def from_text(data: Any) -> Floats:
    """A float32 array from the text form."""
    text = bytes(data).decode("ascii").strip()
    if len(text) < 3 or text[0] != "[" or text[-1] != "]":
        raise psycopg.DataError(f"bad vector text: {text[:40]!r}")
    return np.array(text[1:-1].split(","), dtype=np.float32)
