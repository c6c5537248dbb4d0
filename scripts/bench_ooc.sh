#!/usr/bin/env bash
# `make bench-ooc [BENCH_OOC_ARGS="..."]`: install what is missing, build and
# install hnswmm, start a throwaway cluster with small shared_buffers and
# maintenance_work_mem, and run scripts/bench_ooc.py, which moves the server
# into a memory control group of its own (scripts/bench_ooc.py --help).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

export HNSWMM_SHARED_BUFFERS=${HNSWMM_SHARED_BUFFERS:-128MB} HNSWMM_MWM=${HNSWMM_MWM:-64MB}
start_throwaway_cluster
"$PY" scripts/bench_ooc.py "$@"
