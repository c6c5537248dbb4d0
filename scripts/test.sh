#!/usr/bin/env bash
# `make test`: install what is missing, build, install, run every suite
# against throwaway clusters, stop them, and print `N passed, N failed`.
#   pg_regress  sql/*.sql vs expected/*.out   (make installcheck)
#   pgTAP       test/pgtap/*.sql              (pg_prove)
#   Perl TAP    test/tap/*.pl                 (prove; they start their own clusters)
#   pytest      python/tests
#   fuzz        test/fuzz harnesses, a fixed number of runs (scripts/fuzz.sh)
# HNSWMM_SUITES="regress pgtap tap pytest fuzz" picks suites.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

# A 20 MB tmpfs for the full-disk checks of test/tap/022_limits.pl (root
# only; they skip without it).
small_fs_start() {
  [ "$(id -u)" -eq 0 ] || return 0
  local d; d=$(mktemp -d /tmp/hnswmm-smallfs.XXXXXX)
  if mount -t tmpfs -o size=20m,mode=1777 hnswmm-smallfs "$d" 2>/dev/null; then
    export HNSWMM_SMALL_FS=$d
  else
    rmdir "$d"; log "no tmpfs: the full-disk checks will skip"
  fi
}
small_fs_stop() {
  [ -n "${HNSWMM_SMALL_FS:-}" ] && umount "$HNSWMM_SMALL_FS" && rmdir "$HNSWMM_SMALL_FS"
  HNSWMM_SMALL_FS=
  return 0
}

# A memory control group for test/tap/033_build_under_memory_limit.pl (root
# only; it skips without one): made here, given to the server's user, with
# a member "tests" that the TAP tests run in, so that they may move a
# server into a member of their own (cgroup v2 lets a process move only
# within a group whose cgroup.procs it may write).
memcg_start() {
  [ "$(id -u)" -eq 0 ] || return 0
  local root=/sys/fs/cgroup path
  if grep -qw memory "$root/cgroup.controllers" 2>/dev/null; then
    path=$root/hnswmm-tap-$$
    echo +memory >"$root/cgroup.subtree_control" && mkdir "$path" &&
      echo +memory >"$path/cgroup.subtree_control" || path=
  elif [ -f "$root/memory/memory.limit_in_bytes" ]; then
    path=$root/memory/hnswmm-tap-$$
    mkdir "$path" || path=
  fi
  if [ -n "${path:-}" ] && mkdir "$path/tests" && chown -R postgres "$path"; then
    export HNSWMM_TAP_MEMCG=$path
  else
    log "no memory control group: the build under a memory limit will skip"
  fi
}
memcg_stop() {
  [ -n "${HNSWMM_TAP_MEMCG:-}" ] || return 0
  rmdir "$HNSWMM_TAP_MEMCG"/*/ "$HNSWMM_TAP_MEMCG" 2>/dev/null
  HNSWMM_TAP_MEMCG=
  return 0
}

ensure_packages
build_and_install
install_pgvector_compat
trap 'cluster_stop; small_fs_stop; memcg_stop' EXIT
cluster_start
small_fs_start
memcg_start

SUITES=${HNSWMM_SUITES:-regress pgtap tap pytest fuzz}
PASSED=0 FAILED=0
LOGDIR=$(mktemp -d /tmp/hnswmm-test-logs.XXXXXX)
count() { PASSED=$((PASSED + $1)); FAILED=$((FAILED + $2)); }

run_regress() {
  log "pg_regress"
  make -s PG_CONFIG="$PG_CONFIG" REGRESS_OUT="$LOGDIR/regress" installcheck >"$LOGDIR/regress.log" 2>&1
  local rc=$?
  cat "$LOGDIR/regress.log"
  local ok bad
  ok=$(grep -cE '\.\.\. ok' "$LOGDIR/regress.log")
  bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$LOGDIR/regress.log")
  [ -f "$LOGDIR/regress/regression.diffs" ] && head -c 20000 "$LOGDIR/regress/regression.diffs"
  [ $rc -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
  count "$ok" "$bad"
}

# Count TAP assertions of a verbose prove run; a script that died counts as
# one more failure.
count_tap() {
  local file=$1 ok bad
  ok=$(grep -cE '^\s*ok [0-9]+' "$file")
  bad=$(grep -cE '^\s*not ok [0-9]+' "$file")
  if ! grep -q '^Result: PASS' "$file" && [ "$bad" -eq 0 ]; then bad=1; fi
  count "$ok" "$bad"
}

run_pgtap() {
  compgen -G 'test/pgtap/*.sql' >/dev/null || return 0
  log "pgTAP"
  psql -qX -c 'CREATE EXTENSION IF NOT EXISTS pgtap' >/dev/null
  pg_prove -v --dbname postgres test/pgtap/*.sql >"$LOGDIR/pgtap.log" 2>&1
  grep -vE '^\s*ok [0-9]+' "$LOGDIR/pgtap.log"
  count_tap "$LOGDIR/pgtap.log"
}

# Perl TAP tests create clusters themselves, so they run as the server's
# user from a copy of test/tap that it can read and write.
run_tap() {
  compgen -G 'test/tap/*.pl' >/dev/null || return 0
  log "Perl TAP"
  local dir="$HNSWMM_TMP/tap" bindir pgxsdir
  bindir=$("$PG_CONFIG" --bindir); pgxsdir=$(dirname "$("$PG_CONFIG" --pgxs)")/../..
  mkdir -p "$dir" && cp -r test/tap/. "$dir/" && cp -r scripts/soak "$dir/soak" &&
    chmod -R a+rwX "$dir"
  (
    [ -n "${HNSWMM_TAP_MEMCG:-}" ] && echo "$BASHPID" >"$HNSWMM_TAP_MEMCG/tests/cgroup.procs"
    as_pg env PATH="$bindir:$PATH" PERL5LIB="$pgxsdir/src/test/perl" \
      TESTDIR="$dir" PG_TEST_PORT_DIR="$dir" \
      PG_REGRESS="$pgxsdir/src/test/regress/pg_regress" \
      HNSWMM_FMNIST=/usr/share/datasets/fashion-mnist HNSWMM_SOAK_DIR="$dir/soak" \
      ${HNSWMM_OLD_INSTALL:+HNSWMM_OLD_INSTALL="$HNSWMM_OLD_INSTALL"} \
      ${HNSWMM_TAP_MEMCG:+HNSWMM_TAP_MEMCG="$HNSWMM_TAP_MEMCG"} \
      bash -c "cd '$dir' && prove -v ${HNSWMM_TAP_TESTS:-*.pl}"
  ) >"$LOGDIR/tap.log" 2>&1
  grep -vE '^\s*ok [0-9]+' "$LOGDIR/tap.log"; grep -E '^\s*ok [0-9]+ .*recall' "$LOGDIR/tap.log"
  count_tap "$LOGDIR/tap.log"
  # a script that died says why only in its own log (the test framework
  # sends STDERR there: tmp_check/log before PostgreSQL 17, log/ from 17)
  local t logs=$dir/tmp_check/log
  [ -d "$logs" ] || logs=$dir/log
  for t in $(sed -nE 's/^([0-9A-Za-z_]+)\.pl +\(Wstat.*/\1/p' "$LOGDIR/tap.log"); do
    log "the end of $logs/regress_log_$t"
    tail -n 40 "$logs/regress_log_$t" 2>/dev/null
  done
  [ -d "$logs" ] && grep -lE 'TRAP:|PANIC' "$logs"/*.log 2>/dev/null
}

run_pytest() {
  [ -d python/tests ] || return 0
  # the USE-lite embedder's npm packages, where node and npm are here (its
  # tests skip without them)
  if command -v npm >/dev/null && [ ! -d embedders/use-lite/node_modules ]; then
    log "make embedders"
    make -s embedders >"$LOGDIR/embedders.log" 2>&1 || { log "make embedders failed:"; tail -5 "$LOGDIR/embedders.log"; }
  fi
  log "pytest"
  (cd python && "$PY" -m pytest -q -p no:cacheprovider tests) >"$LOGDIR/pytest.log" 2>&1
  local rc=$?
  cat "$LOGDIR/pytest.log"
  local ok bad
  ok=$(grep -oE '[0-9]+ passed' "$LOGDIR/pytest.log" | tail -1 | grep -oE '[0-9]+')
  bad=$(grep -oE '[0-9]+ (failed|error)' "$LOGDIR/pytest.log" | awk '{s+=$1} END {print s+0}')
  [ $rc -ne 0 ] && [ $rc -ne 5 ] && [ "${bad:-0}" -eq 0 ] && bad=1
  count "${ok:-0}" "${bad:-0}"
}

# libFuzzer harnesses of the type's input functions, outside the server
run_fuzz() {
  log "fuzz"
  bash scripts/fuzz.sh >"$LOGDIR/fuzz.log" 2>&1
  local rc=$? line
  tail -n 20 "$LOGDIR/fuzz.log"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOGDIR/fuzz.log" | tail -1)
  if [ -n "$line" ]; then
    count "$(echo "$line" | cut -d' ' -f1)" "$(echo "$line" | cut -d' ' -f3)"
  else
    count 0 1
  fi
  [ $rc -ne 0 ] && [ -n "$line" ] && [ "$(echo "$line" | cut -d' ' -f3)" = 0 ] && count 0 1
  return 0
}

for suite in $SUITES; do "run_$suite"; done
cluster_stop
[ -n "${CLUSTER_CRASHED:-}" ] && count 0 1
rm -rf "$LOGDIR"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
