"""`python3 -m hnswmm`, and `python3 python/hnswmm` from the repository
root, where the PostgreSQL module hnswmm.so would shadow the package for
`-m` (the current directory comes first on sys.path)."""
import os
import sys


def _launch() -> int:
    if not __package__:  # run as a directory: sys.path[0] is this one, not its parent
        sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    from hnswmm._deps import missing_message, missing_modules
    missing = missing_modules()
    if missing:
        print(missing_message(missing), file=sys.stderr)
        return 1
    from hnswmm.cli import main
    return main()


sys.exit(_launch())
