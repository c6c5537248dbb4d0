#!/usr/bin/env bash
# `make demo`: install what is missing, build and install hnswmm, start a
# throwaway cluster, load Fashion-MNIST and search it (scripts/demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_packages
build_and_install
trap cluster_stop EXIT
cluster_start
"$PY" scripts/demo.py
