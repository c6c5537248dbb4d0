# Shared shell functions of the set-up commands (demo, test, bench).
# Sourced, never run.  Every function is safe to run as root or as a normal
# user; as root the server runs as the `postgres` user.

# The PostgreSQL major: as the Makefile chooses it (the newest installed,
# 15 where none is: Debian 12), 17 or 18 in the chroots of
# scripts/in_chroot.sh (make ... PG=N)
if [ -z "${PG_MAJOR:-}" ]; then
  PG_MAJOR=$(ls /usr/lib/postgresql/*/bin/pg_config 2>/dev/null | sed -E 's|.*/postgresql/([0-9]+)/.*|\1|' | sort -n | tail -1)
  PG_MAJOR=${PG_MAJOR:-15}
fi
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
export PG_MAJOR PG_CONFIG
PY=/usr/bin/python3
# clang's runtime for the fuzzers: Debian 12 names it by clang's version
CLANG_RT=libclang-rt-dev
grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null && CLANG_RT=libclang-rt-14-dev
DEBIAN_PACKAGES="make gcc postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR
  postgresql-$PG_MAJOR-pgtap postgresql-doc-$PG_MAJOR
  libtap-parser-sourcehandler-pgtap-perl libipc-run-perl python3-psycopg
  python3-numpy python3-pytest python3-hnswlib python3-matplotlib
  python3-venv python3-setuptools python3-pip
  dataset-fashion-mnist libopenblas0-pthread python3-psycopg-pool python3-sklearn
  gdb clang $CLANG_RT"
# (OpenBLAS makes numpy's exact answers, the benchmarks' ground truth, fast.)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install the Debian packages that are missing (apt-get update once first).
ensure_packages() {
  local missing=() p
  for p in $DEBIAN_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})"
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Build and install the extension.  A non-root user needs write access to
# the server's extension directories (or runs `sudo make install` first).
# A failed build stops everything: tests must never run against an older
# installed copy.
build_and_install() {
  log "building hnswmm"
  make -s PG_CONFIG="$PG_CONFIG" >/dev/null || die "the build failed"
  local libdir sharedir
  libdir=$("$PG_CONFIG" --pkglibdir); sharedir=$("$PG_CONFIG" --sharedir)
  if [ -w "$libdir" ] && [ -w "$sharedir/extension" ]; then
    make -s PG_CONFIG="$PG_CONFIG" install >/dev/null || die "make install failed"
  elif ! cmp -s hnswmm.so "$libdir/hnswmm.so"; then
    die "cannot write $libdir: run 'sudo make install' first"
  fi
}

# The pgvector compatibility extension (make install-pgvector-compat), where
# this server has no pgvector of its own and its directory is writable;
# test/tap/030_pgvector_compat.pl says which it found.
install_pgvector_compat() {
  local control; control="$("$PG_CONFIG" --sharedir)/extension/vector.control"
  if [ -e "$control" ] && ! grep -q 'hnswmm pgvector compatibility' "$control"; then
    log "pgvector is installed: its vector extension stays (the compatibility tests skip)"
  elif [ -w "$(dirname "$control")" ]; then
    make -s PG_CONFIG="$PG_CONFIG" install-pgvector-compat >/dev/null \
      || die "make install-pgvector-compat failed"
  fi
}

# Run a command as the server's user: `postgres` when we are root.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Start a throwaway cluster in a fresh temporary directory, listening only on
# a Unix socket there.  Exports PGHOST, PGPORT, PGUSER, PGDATABASE and
# HNSWMM_TMP; cluster_stop removes it all again.
cluster_start() {
  local bindir; bindir=$("$PG_CONFIG" --bindir)
  HNSWMM_TMP=$(mktemp -d /tmp/hnswmm.XXXXXX)
  chmod 755 "$HNSWMM_TMP"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$HNSWMM_TMP"
  export HNSWMM_TMP PGHOST=$HNSWMM_TMP PGPORT PGUSER=postgres PGDATABASE=postgres
  PGPORT=$(free_port)
  as_pg "$bindir/initdb" -D "$HNSWMM_TMP/data" -U postgres -A trust -E UTF8 \
        --locale=C --no-sync >"$HNSWMM_TMP/initdb.log" 2>&1 \
    || { cat "$HNSWMM_TMP/initdb.log" >&2; die "initdb failed"; }
  as_pg "$bindir/pg_ctl" -D "$HNSWMM_TMP/data" -l "$HNSWMM_TMP/server.log" -w \
        -o "-p $PGPORT -k $HNSWMM_TMP -c listen_addresses='' -c fsync=off \
            -c shared_buffers=${HNSWMM_SHARED_BUFFERS:-512MB} \
            -c maintenance_work_mem=${HNSWMM_MWM:-1GB} \
            -c max_parallel_maintenance_workers=1" start >/dev/null \
    || { cat "$HNSWMM_TMP/server.log" >&2; die "server did not start"; }
  log "cluster on port $PGPORT in $HNSWMM_TMP"
}

# The set-up of every command: install what is missing, build, install,
# and start a throwaway cluster that is stopped when the script exits.
start_throwaway_cluster() {
  ensure_packages
  build_and_install
  trap cluster_stop EXIT
  cluster_start
}

cluster_stop() {
  [ -n "${HNSWMM_TMP:-}" ] && [ -d "$HNSWMM_TMP" ] || return 0
  local bindir; bindir=$("$PG_CONFIG" --bindir)
  as_pg "$bindir/pg_ctl" -D "$HNSWMM_TMP/data" -m fast -w stop >/dev/null 2>&1 || true
  if grep -E 'PANIC|server process .* was terminated|TRAP:' "$HNSWMM_TMP/server.log" >&2; then
    log "the server log shows a crash"
    CLUSTER_CRASHED=1
  fi
  rm -rf "$HNSWMM_TMP"
  HNSWMM_TMP=
}
