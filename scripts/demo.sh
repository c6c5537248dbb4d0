#!/usr/bin/env bash
# `make demo`: install what is missing, build and install hnswmm, start a
# throwaway cluster, load Fashion-MNIST and search it (scripts/demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

start_throwaway_cluster
"$PY" scripts/demo.py
