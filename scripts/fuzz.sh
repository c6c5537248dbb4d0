#!/usr/bin/env bash
# Fuzz the input functions of the vector, sparsevec and halfvec types
# outside the server.
#
#   scripts/fuzz.sh                 10,000 executions of each harness (make test)
#   scripts/fuzz.sh RUNS            RUNS executions of each harness
#   scripts/fuzz.sh --seconds N     N seconds of each harness
#
# It builds the harnesses test/fuzz/fuzz_vector_in.c, fuzz_vector_recv.c,
# fuzz_sparsevec_in.c, fuzz_sparsevec_recv.c and fuzz_halfvec_in.c with
# clang -fsanitize=fuzzer,address,undefined from src/vector.c, halfvec.c,
# sparsevec.c and bit.c themselves plus test/fuzz/pg_stubs.c (what they
# need from the server) into a temporary directory, runs each from a copy
# of its seed corpus (test/fuzz/corpus/<harness>/) with its dictionary
# (test/fuzz/<harness>.dict) if any, and prints `N passed, N failed`, one
# check per harness.  Runs by count use a fixed seed, so they are
# repeatable.  A failing harness leaves its crash input and log in a kept
# directory, with the command that replays it.
#
# Needs clang and its runtime (the libFuzzer runtime: libclang-rt-14-dev
# on Debian 12, libclang-rt-dev later) and postgresql-server-dev-N
# (headers, libpgcommon.a, libpgport.a).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

RUNS=10000 SECONDS_EACH=
case "${1:-}" in
  --seconds) SECONDS_EACH=${2:?usage: fuzz.sh --seconds N} ;;
  --seconds=*) SECONDS_EACH=${1#--seconds=} ;;
  -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
  '') ;;
  *[!0-9]*) die "usage: fuzz.sh [RUNS | --seconds N]" ;;
  *) RUNS=$1 ;;
esac

DEBIAN_PACKAGES="make clang $CLANG_RT postgresql-server-dev-$PG_MAJOR" ensure_packages

CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || die "$CC not found (apt-get install clang $CLANG_RT)"
INCLUDE=$("$PG_CONFIG" --includedir-server)
LIBS=
for lib in libpgcommon.a libpgport.a; do
  found=
  for d in "$("$PG_CONFIG" --pkglibdir)" "$("$PG_CONFIG" --libdir)"; do
    [ -f "$d/$lib" ] && { found=$d/$lib; break; }
  done
  [ -n "$found" ] || die "$lib not found (apt-get install postgresql-server-dev-$PG_MAJOR)"
  LIBS="$LIBS $found"
done

WORK=$(mktemp -d /tmp/hnswmm-fuzz.XXXXXX)
KEEP=
cleanup() { [ -n "$KEEP" ] || rm -rf "$WORK"; }
trap cleanup EXIT

CFLAGS="-g -O1 -fno-omit-frame-pointer -Wall -Wno-ignored-attributes -I$INCLUDE -Isrc -Itest/fuzz"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
log "building the fuzz harnesses in $WORK"
# the types' sources get coverage instrumentation; the stubs only the
# sanitizers.  halfvec.c and sparsevec.c call into vector.c and each other,
# and halfvec.c into bit.c (binary_quantize): every harness links all four.
OBJS=
for src in vector halfvec sparsevec bit; do
  "$CC" $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "src/$src.c" -o "$WORK/$src.o" \
    || die "cannot compile src/$src.c"
  OBJS="$OBJS $WORK/$src.o"
done
"$CC" $CFLAGS $SAN -c test/fuzz/pg_stubs.c -o "$WORK/pg_stubs.o" \
  || die "cannot compile test/fuzz/pg_stubs.c"

PASSED=0 FAILED=0
for h in vector_in vector_recv sparsevec_in sparsevec_recv halfvec_in; do
  if ! "$CC" $CFLAGS $SAN -fsanitize=fuzzer "test/fuzz/fuzz_$h.c" $OBJS \
        "$WORK/pg_stubs.o" $LIBS -lm -o "$WORK/fuzz_$h" 2>"$WORK/$h.build.log"; then
    cat "$WORK/$h.build.log" >&2
    echo "not ok - fuzz_$h does not build"
    FAILED=$((FAILED + 1)); KEEP=1
    continue
  fi
  mkdir -p "$WORK/corpus_$h" "$WORK/crash_$h"
  cp test/fuzz/corpus/$h/* "$WORK/corpus_$h/"
  args=(-max_len=4096 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1
        "-artifact_prefix=$WORK/crash_$h/")
  [ -f "test/fuzz/$h.dict" ] && args+=("-dict=test/fuzz/$h.dict")
  if [ -n "$SECONDS_EACH" ]; then
    args+=("-max_total_time=$SECONDS_EACH"); what="$SECONDS_EACH s"
  else
    args+=("-runs=$RUNS" -seed=1); what="$RUNS runs"
  fi
  log "fuzz_$h: $what"
  start=$(date +%s)
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    "$WORK/fuzz_$h" "${args[@]}" "$WORK/corpus_$h" >"$WORK/$h.log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$WORK/$h.log" | grep -oE '[0-9]+$')
  cov=$(grep -oE 'cov: [0-9]+' "$WORK/$h.log" | tail -1)
  corpus=$(ls "$WORK/corpus_$h" | wc -l)
  if [ $rc -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|hnswmm fuzz harness:' "$WORK/$h.log"; then
    echo "ok - fuzz_$h: ${execs:-?} executions in ${secs}s, $cov, corpus $corpus inputs"
    PASSED=$((PASSED + 1))
  else
    KEEP=1
    grep -E 'hnswmm fuzz harness:|ERROR:|runtime error:|SUMMARY:|^    #[0-9]+ ' "$WORK/$h.log" | head -40
    echo "not ok - fuzz_$h (exit $rc): log $WORK/$h.log, inputs in $WORK/crash_$h/"
    for f in "$WORK"/crash_$h/*; do
      [ -f "$f" ] && echo "  replay: $WORK/fuzz_$h $f"
    done
    FAILED=$((FAILED + 1))
  fi
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
