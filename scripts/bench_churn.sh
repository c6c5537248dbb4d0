#!/usr/bin/env bash
# `make bench-churn [BENCH_CHURN_ARGS="..."]`: install what is missing, build
# and install hnswmm, start a throwaway cluster and run scripts/bench_churn.py
# (scripts/bench_churn.py --help lists its arguments).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

start_throwaway_cluster
"$PY" scripts/bench_churn.py "$@"
