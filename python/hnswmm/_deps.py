"""What hnswmm needs from the interpreter that runs it, checked with the
standard library only, so that a missing package is one clear message
rather than a traceback."""
from __future__ import annotations

import importlib
import sys

# module -> the Debian 12 package that provides it for /usr/bin/python3
REQUIRED = {"numpy": "python3-numpy", "psycopg": "python3-psycopg"}
DEBIAN_PYTHON = "/usr/bin/python3"


def missing_modules() -> list[str]:
    """The required modules this interpreter cannot import."""
    missing = []
    for module in REQUIRED:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    return missing


def missing_message(missing: list[str]) -> str:
    """What to do about missing modules, for this interpreter."""
    debs = " ".join(REQUIRED[m] for m in missing)
    version = ".".join(map(str, sys.version_info[:3]))
    return (f"hnswmm needs {' and '.join(missing)}, which this Python ({sys.executable}, {version})"
            f" cannot import.\n"
            f"  On Debian: apt-get install {debs}, and run the command with {DEBIAN_PYTHON}"
            f" (e.g. {DEBIAN_PYTHON} -m hnswmm ...);\n"
            f"  or install hnswmm with its dependencies into a venv of this Python"
            f" (see 'Install' in python/README.md).")
