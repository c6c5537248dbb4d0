#!/usr/bin/env bash
# `make TARGET PG=N`: run a make target (demo, test, bench, ...) against
# PostgreSQL N.  15 is this machine's own (Debian 12); 17 and 18 run in a
# Debian chroot of the release that ships them (13 "trixie": 17; unstable
# "sid": 18), made with debootstrap from the mirror this machine's apt
# sources name, and kept in $HNSWMM_CHROOTS (default /var/cache/hnswmm)
# between runs.  The source tree is copied into the chroot, /proc, /dev
# and /dev/shm are mounted there for the servers the target starts, and
# the same make target runs inside, which installs what it needs with
# apt-get as on a fresh machine.  Root only (debootstrap, chroot, mount).
#
#   scripts/in_chroot.sh 17 test
#   scripts/in_chroot.sh 17 prepare     (only make the chroot; .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

PG=${1:?usage: in_chroot.sh PG_MAJOR TARGET [VAR=value ...]}
shift
TARGET=${1:?usage: in_chroot.sh PG_MAJOR TARGET [VAR=value ...]}
shift

case "$PG" in
  15) exec make "$TARGET" PG_MAJOR=15 "$@" ;;
  17) SUITE=trixie ;;
  18) SUITE=sid ;;
  *) die "PostgreSQL $PG is not supported here: use PG=15, 17 or 18" ;;
esac
[ "$(id -u)" -eq 0 ] || die "make $TARGET PG=$PG needs root (debootstrap, chroot, mount)"

CHROOTS=${HNSWMM_CHROOTS:-/var/cache/hnswmm}
ROOT=$CHROOTS/pg$PG
SRC=/src/hnswmm

# The Debian mirror of this machine's apt sources
mirror() {
  local uri
  uri=$(grep -hoE '^URIs: *\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1 | awk '{print $2}')
  [ -n "$uri" ] || uri=$(grep -hoE '^deb +\S+' /etc/apt/sources.list 2>/dev/null | grep -v security | head -1 | awk '{print $2}')
  echo "${uri:-http://deb.debian.org/debian}"
}

# Make the chroot once; a half-made one (no marker) is made again
make_chroot() {
  [ -f "$ROOT/.hnswmm-ready" ] && return 0
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  log "making a Debian $SUITE chroot for PostgreSQL $PG in $ROOT (once; about 3 minutes)"
  rm -rf "$ROOT.tmp"
  mkdir -p "$CHROOTS"
  debootstrap --variant=minbase --include="postgresql-$PG,postgresql-server-dev-$PG,make,gcc" \
    "$SUITE" "$ROOT.tmp" "$(mirror)" >"$CHROOTS/debootstrap-pg$PG.log" 2>&1 \
    || { tail -20 "$CHROOTS/debootstrap-pg$PG.log" >&2; die "debootstrap of $SUITE failed"; }
  rm -rf "$ROOT"
  mv "$ROOT.tmp" "$ROOT"
  touch "$ROOT/.hnswmm-ready"
}

# PostgreSQL 15 with hnswmm, from this machine, for the pg_upgrade test
# (test/tap/027_pg_upgrade.pl): its installation is copied into the
# chroot at the same paths, with the few shared libraries of Debian 12
# whose versions the chroot's release does not have (ICU, LDAP; their
# sonames differ from the chroot's own, so nothing of the chroot is
# replaced).
provide_pg15() {
  DEBIAN_PACKAGES="make gcc postgresql-15 postgresql-server-dev-15" ensure_packages
  log "installing hnswmm for PostgreSQL 15 here, to copy into the chroot"
  make -s PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config install >/dev/null
  mkdir -p "$ROOT/usr/lib/postgresql" "$ROOT/usr/share/postgresql"
  rm -rf "$ROOT/usr/lib/postgresql/15" "$ROOT/usr/share/postgresql/15"
  cp -a /usr/lib/postgresql/15 "$ROOT/usr/lib/postgresql/"
  cp -a /usr/share/postgresql/15 "$ROOT/usr/share/postgresql/"
  local lib name
  for lib in $(ldd /usr/lib/postgresql/15/bin/* /usr/lib/postgresql/15/lib/*.so 2>/dev/null |
               awk '/=> \//{print $3}' | sort -u); do
    name=$(basename "$lib")
    [ -e "$ROOT/lib/x86_64-linux-gnu/$name" ] || [ -e "$ROOT/usr/lib/x86_64-linux-gnu/$name" ] ||
      cp -L "$lib" "$ROOT/usr/lib/x86_64-linux-gnu/$name"
  done
  chroot "$ROOT" /sbin/ldconfig
}

MOUNTED=()
unmount_all() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTED[$i]}" 2>/dev/null || umount -l "${MOUNTED[$i]}" 2>/dev/null || true
  done
  MOUNTED=()
}

mount_into() {   # mount_into TARGET_IN_CHROOT MOUNT_ARGS...
  local at="$ROOT$1"; shift
  mkdir -p "$at"
  mountpoint -q "$at" && return 0
  mount "$@" "$at"
  MOUNTED+=("$at")
}

make_chroot
[ "$TARGET" = prepare ] && exit 0
trap unmount_all EXIT
mount_into /proc -t proc proc
mount_into /dev --bind /dev
mount_into /dev/pts --bind /dev/pts
mount_into /dev/shm -t tmpfs -o mode=1777 shm
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# the archive this machine reaches may serve a suite's Release file past
# its validity date (seen for sid): use it anyway
echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99hnswmm"

# The tree as it is here (uncommitted changes too), without build products
rm -rf "$ROOT$SRC"
mkdir -p "$ROOT$SRC"
tar -C . --exclude=.git --exclude='*.o' --exclude='*.bc' --exclude='*.so' \
    --exclude=./results --exclude=./bench -cf - . | tar -C "$ROOT$SRC" -xf -

provide_pg15

# the commands' own settings (HNSWMM_SUITES, HNSWMM_TAP_TESTS, ...) go in
PASS=(HNSWMM_OLD_INSTALL=/usr/lib/postgresql/15)
while IFS='=' read -r name _; do
  [[ $name == HNSWMM_* && $name != HNSWMM_CHROOTS ]] && PASS+=("$name=${!name}")
done < <(env)

log "make $TARGET with PostgreSQL $PG in the $SUITE chroot"
chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  TERM="${TERM:-dumb}" "${PASS[@]}" bash -c "cd $SRC && make $TARGET PG_MAJOR=$PG $(printf '%q ' "$@")"
