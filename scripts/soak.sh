#!/usr/bin/env bash
# Soak test: `scripts/soak.sh [SECONDS]` (default 600).
#
# Starts a throwaway cluster, creates a table of random vector(32) rows with
# a category and an hnswmm index (scripts/soak/setup.sql), and drives it
# with pgbench for SECONDS: 8 clients mixing inserts, deletes, updates of
# the vector, HOT updates of the category, and top-k searches without a
# filter (iterative scan off), with a filter (relaxed_order: must return
# the full LIMIT) and with strict_order (must come out in distance order),
# while one more client runs VACUUM in a loop (scripts/soak/*.sql).  The
# table stays between about 550 and 850 rows.
#
# Afterwards (scripts/soak/check.sql, after a VACUUM): no transaction
# failed, every live row is the first answer of an index scan for its own
# vector at the default ef_search and with ef_search = 1000 > rows (an
# exhaustive scan), no node is unreachable through neighbour lists, one scan
# returns each row exactly once (no dead row), the index agrees with exact
# top-10s, hnswmm_verify passes and counts exactly the live rows, and the
# server log holds no WARNING, ERROR, crash, assertion failure or leak.
# Prints the throughput of each statement kind and `N passed, N failed`;
# exits non-zero on any failure.
#
# SOAK_CLIENTS (8) changes the number of clients.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SECS=${1:-${SOAK_SECONDS:-600}}
case "$SECS" in ''|*[!0-9]*) die "usage: soak.sh [SECONDS]" ;; esac
CLIENTS=${SOAK_CLIENTS:-8}
SQL=scripts/soak

start_throwaway_cluster
BINDIR=$("$PG_CONFIG" --bindir)
PSQL=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1)
OUT=$(mktemp -d /tmp/hnswmm-soak.XXXXXX)

PASSED=0 FAILED=0
check() {   # check NAME OK(0/1) DETAIL
  if [ "$2" = 1 ]; then
    echo "ok - $1${3:+: $3}"; PASSED=$((PASSED + 1))
  else
    echo "not ok - $1${3:+: $3}"; FAILED=$((FAILED + 1))
  fi
}

if "${PSQL[@]}" -f $SQL/setup.sql >"$OUT/setup.log" 2>&1; then
  check "set-up" 1 "700 rows, hnswmm index soak_idx"
else
  cat "$OUT/setup.log"; check "set-up" 0 "see above"
fi

# pgbench FILE...: one run of SECS seconds; writes $OUT/<label>.out/.err
run_pgbench() {
  local label=$1 clients=$2; shift 2
  "$BINDIR/pgbench" -n -c "$clients" -j "$(( clients < 2 ? 1 : 2 ))" -T "$SECS" -r \
    -P "$(( SECS >= 120 ? 60 : SECS ))" "$@" postgres >"$OUT/$label.out" 2>"$OUT/$label.err"
}

# A backend that waits on an LWLock for minutes is stuck for good (an LWLock
# deadlock is invisible to the deadlock detector, and cancel does not reach
# it), and pgbench would wait for it forever.  Wait for pgbench at most
# $2 seconds; then show the stuck backends (with their stacks when gdb can
# attach) and stop the server hard, which ends pgbench.
STUCK=
wait_pgbench() {
  local pid=$1 limit=$2 waited=0 p
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge "$limit" ] && [ -z "$STUCK" ]; then
      STUCK=1
      echo "pgbench has not ended $limit s after it started; backends still busy:"
      timeout 30 "${PSQL[@]}" -c "SELECT pid, backend_type, wait_event_type, wait_event,
          date_trunc('second', now() - query_start) AS running, left(query, 70) AS query
        FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()" 2>&1
      if command -v gdb >/dev/null; then
        for p in $(timeout 30 "${PSQL[@]}" -At -c "SELECT pid FROM pg_stat_activity
            WHERE state = 'active' AND wait_event_type = 'LWLock' AND pid <> pg_backend_pid()"); do
          echo "--- stack of backend $p"
          timeout 60 gdb -q -nx -p "$p" -batch -ex 'bt 15' 2>/dev/null | grep -E '^#' || true
        done
      fi
      echo "stopping the server (immediate)"
      as_pg "$BINDIR/pg_ctl" -D "$HNSWMM_TMP/data" -m immediate -w stop >/dev/null 2>&1
    fi
    sleep 2; waited=$((waited + 2))
  done
  wait "$pid"
}

log "soak: $CLIENTS clients for $SECS s, plus a VACUUM loop"
run_pgbench vacuum 1 -f $SQL/vacuum.sql &
VACUUM_PID=$!
run_pgbench mix "$CLIENTS" \
  -f $SQL/insert.sql@20 -f $SQL/delete.sql@20 -f $SQL/update_emb.sql@15 \
  -f $SQL/update_category.sql@5 -f $SQL/search.sql@20 \
  -f $SQL/search_filter.sql@15 -f $SQL/search_strict.sql@5 &
MIX_PID=$!
wait_pgbench "$MIX_PID" $((SECS + 120))
MIX_RC=$?
wait_pgbench "$VACUUM_PID" 60
VACUUM_RC=$?
if [ -n "$STUCK" ]; then
  check "no backend stuck (pgbench ends on time)" 0 "backends hung on LWLocks: a deadlock; see above"
else
  check "no backend stuck (pgbench ends on time)" 1
fi

# pgbench's verdict: exit status, aborted clients, failed transactions
pgbench_checks() {
  local label=$1 rc=$2 failed
  if [ "$rc" -ne 0 ] || grep -qE 'aborted|Run was aborted' "$OUT/$label.out" "$OUT/$label.err"; then
    grep -E 'ERROR|aborted|DETAIL|CONTEXT' "$OUT/$label.err" | head -20
    check "pgbench $label runs to the end" 0 "exit status $rc"
  else
    check "pgbench $label runs to the end" 1
  fi
  failed=$(grep -oE 'number of failed transactions: [0-9]+' "$OUT/$label.out" | grep -oE '[0-9]+$' | head -1)
  check "pgbench $label: no failed transaction" "$([ "${failed:-x}" = 0 ] && echo 1 || echo 0)" \
    "$(grep -E '^number of (transactions actually processed|failed transactions)' "$OUT/$label.out" | paste -sd',' | sed 's/number of //g')"
}
pgbench_checks mix $MIX_RC
pgbench_checks vacuum $VACUUM_RC

# Throughput of each kind of statement (pgbench -r per script)
echo "--- throughput, $SECS s, $CLIENTS clients (+1 VACUUM loop) ---"
for label in mix vacuum; do
  awk '/^SQL script [0-9]+:/ { name = $4; sub(".*/", "", name); sub("\\.sql$", "", name) }
       /^ - [0-9]+ transactions/ && name != "" {
         match($0, /tps = [0-9.]+/); tps = substr($0, RSTART + 6, RLENGTH - 6)
         printf "  %-16s %10d transactions %10.1f per second\n", name, $2, tps; name = "" }
       /^tps = / { total = $3 }
       /^latency average/ { lat = $4 }
       END { if (total != "") printf "  %-16s %10s            %10.1f per second (latency average %s ms)\n", "(" label " total)", "", total, lat }' \
    label="$label" "$OUT/$label.out"
done
"${PSQL[@]}" -At -F' ' -c "SELECT 'rows: ' || n_tup_ins || ' inserted, ' || n_tup_upd || ' updated (' ||
    n_tup_hot_upd || ' HOT), ' || n_tup_del || ' deleted; ' || n_live_tup || ' live'
  FROM pg_stat_user_tables WHERE relname = 'soak'" 2>/dev/null | sed 's/^/  /'
"${PSQL[@]}" -At -F' ' -c "SELECT 'index: ' || nodes || ' nodes, ' || deleted || ' deleted, ' ||
    pg_size_pretty(graph_bytes + vector_bytes) FROM hnswmm_index_info('soak_idx')" 2>/dev/null | sed 's/^/  /'
echo "--- per-statement latencies (pgbench -r) ---"
sed -n '/^SQL script 1:/,$p' "$OUT/mix.out"
echo "---"

# The checks after the load, one row each: name|ok|detail
if [ -n "$STUCK" ]; then
  check "post-load checks" 0 "not run: the server was stopped"
elif timeout 900 "${PSQL[@]}" -At -F'|' -f $SQL/check.sql >"$OUT/check.out" 2>"$OUT/check.err"; then
  while IFS='|' read -r name ok detail; do
    check "$name" "$([ "$ok" = t ] && echo 1 || echo 0)" "$detail"
  done <"$OUT/check.out"
  [ "$(wc -l <"$OUT/check.out")" -eq 7 ] || check "all post-load checks ran" 0 "$(cat "$OUT/check.out")"
else
  cat "$OUT/check.out" "$OUT/check.err"
  check "post-load checks run without error" 0 "$(head -c 500 "$OUT/check.err")"
fi

# The server log: nothing but LOG lines (and the cancelled autovacuums that
# a manual VACUUM causes, with their CONTEXT)
LOGFILE=$HNSWMM_TMP/server.log
BAD=$(grep -nE 'WARNING|ERROR|FATAL|PANIC|TRAP|terminated by signal|leak' "$LOGFILE" \
      | grep -vE 'ERROR: +canceling autovacuum task' | head -20)
[ -n "$STUCK" ] && BAD=$(echo "$BAD" | grep -vE 'terminating connection because of crash|immediate shutdown' | grep -v '^$')
if [ -z "$BAD" ]; then
  check "server log: no warning, error, crash, assertion or leak" 1
else
  echo "$BAD"
  cp "$LOGFILE" "$OUT/server.log"
  check "server log: no warning, error, crash, assertion or leak" 0 "copy in $OUT/server.log"
fi

cluster_stop
[ -n "${CLUSTER_CRASHED:-}" ] && check "server stops cleanly" 0
[ "$FAILED" -eq 0 ] && rm -rf "$OUT" || echo "pgbench output and logs: $OUT"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
