"""The repository root's stand-in for the Python package in python/hnswmm.

After `make` the root holds the PostgreSQL module hnswmm.so, and
`python3 -m hnswmm` run here would find it first (the current directory
leads sys.path) and fail with "No code object available for hnswmm".
Python looks for a package directory before a module file of the same
name, so it finds this one instead, which hands over to the real package:
its submodules are looked up there, and its __init__ runs here.
"""
import os

__path__ = [os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python", "hnswmm")]
with open(os.path.join(__path__[0], "__init__.py"), encoding="utf-8") as _init:
    exec(compile(_init.read(), _init.name, "exec"))
