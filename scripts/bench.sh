#!/usr/bin/env bash
# `make bench [BENCH_ARGS="..."]`: install what is missing, build and install
# hnswmm, start a throwaway cluster and run scripts/bench.py with the
# arguments given (scripts/bench.py --help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

case " $* " in
  *" --data words "* | *" --data=words "*) ensure_packages npm ;;  # scripts/words.py installs its data
esac
start_throwaway_cluster
"$PY" scripts/bench.py "$@"
