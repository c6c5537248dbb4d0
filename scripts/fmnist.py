"""Read the vector data sets of `make demo` and `make bench`.

Fashion-MNIST comes from Debian's dataset-fashion-mnist package as gzipped
IDX files (a big-endian header, then uint8 cells).  Other data sets are raw
little-endian float32 files of N x dim values.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

FMNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = ("T-shirt", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_IDX_UBYTE = 0x08  # IDX type code of unsigned byte cells


def read_idx(path: Path) -> np.ndarray:
    """Return the uint8 array of a gzipped IDX file, in its stored shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, cell_type, ndim = data[0:2], data[2], data[3]
    if zero != b"\0\0" or cell_type != _IDX_UBYTE:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", ndim, 4))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _split_prefix(split: str) -> str:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    return "train" if split == "train" else "t10k"


def load_images(split: str = "train", directory: Path = FMNIST_DIR) -> np.ndarray:
    """Images of a split as float32 rows of 784 pixel values 0..255.

    train: 60,000 x 784, test: 10,000 x 784.
    """
    raw = read_idx(directory / f"{_split_prefix(split)}-images-idx3-ubyte.gz")
    return raw.reshape(raw.shape[0], -1).astype(np.float32)


def load_labels(split: str = "train", directory: Path = FMNIST_DIR) -> np.ndarray:
    """Class labels 0..9 of a split as an int32 vector (see CLASS_NAMES)."""
    return read_idx(directory / f"{_split_prefix(split)}-labels-idx1-ubyte.gz").astype(np.int32)


def read_f32(path: Path | str, dim: int) -> np.ndarray:
    """Rows of a raw little-endian float32 file of N x dim values."""
    flat = np.fromfile(path, dtype="<f4")
    if dim <= 0 or flat.size % dim:
        raise ValueError(f"{path}: {flat.size} floats is not a multiple of dim {dim}")
    return flat.reshape(-1, dim).astype(np.float32, copy=False)
