#!/usr/bin/env bash
# `make bench-ooc [BENCH_OOC_ARGS="..."]`: install what is missing, build and
# install hnswmm, start a throwaway cluster with a small
# maintenance_work_mem (a build must not need it), and run
# scripts/bench_ooc.py, which restarts the server inside a memory control
# group of its own with shared_buffers below the group's limit
# (scripts/bench_ooc.py --help).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

export HNSWMM_MWM=${HNSWMM_MWM:-64MB}
start_throwaway_cluster
"$PY" scripts/bench_ooc.py "$@"
