# The pgvector compatibility extension: an extension named `vector` whose
# objects are hnswmm's plus the `hnsw` and `ivfflat` access methods
# (compat/pgvector.sql), for servers that do not have pgvector.
#
#   make install-pgvector-compat      install it (after make install)
#   make uninstall-pgvector-compat
#
# HNSWMM_SQL_PARTS names hnswmm's install-script parts (the Makefile's
# SQL_PARTS without the guard against an installed `vector`), and
# HNSWMM_VERSION their version: where the database has the hnswmm extension,
# it must be that version.
#
# The install script creates hnswmm's objects only where the database does
# not have the hnswmm extension already; where it does, `vector` adds just
# the access methods, on hnswmm's objects.  It never installs over a
# vector.control that is not its own (pgvector's).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

MARKER='# hnswmm pgvector compatibility'
VERSION=$(sed -n "s/^default_version = '\(.*\)'/\1/p" compat/vector.control)

write_sql() {
  {
    echo '\echo Use "CREATE EXTENSION vector" to load this file. \quit'
    echo
    echo "-- hnswmm's pgvector compatibility, version $VERSION: written by"
    echo "-- scripts/pgvector_compat.sh from $HNSWMM_SQL_PARTS and compat/pgvector.sql"
    echo
    echo '-- hnswmm'"'"'s objects, unless the hnswmm extension has them here already'
    echo 'DO $hnswmm_compat$'
    echo 'BEGIN'
    echo "  IF EXISTS (SELECT FROM pg_extension WHERE extname = 'hnswmm' AND extversion <> '$HNSWMM_VERSION') THEN"
    echo "    RAISE EXCEPTION 'the hnswmm extension in this database is not version $HNSWMM_VERSION'"
    echo "      USING ERRCODE = 'object_not_in_prerequisite_state',"
    echo "      HINT = 'Run ALTER EXTENSION hnswmm UPDATE first: the access methods of vector are made for its objects.';"
    echo '  END IF;'
    echo "  IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'hnswmm') THEN"
    echo '    EXECUTE $hnswmm_objects$'
    sed '/^\\echo/d' $HNSWMM_SQL_PARTS
    echo '$hnswmm_objects$;'
    echo '  END IF;'
    echo 'END'
    echo '$hnswmm_compat$;'
    echo
    cat compat/pgvector.sql
  } > "$1"
}

extension_dir() { echo "$("$PG_CONFIG" --sharedir)/extension"; }

# pgvector's own control file in the way: refuse, and say what to do
refuse_foreign_control() {
  local control; control="$(extension_dir)/vector.control"
  if [ -e "$control" ] && ! grep -qF "$MARKER" "$control"; then
    die "$control is pgvector's: this server has pgvector, whose own \`vector\` extension CREATE EXTENSION vector installs.
Use pgvector there, or hnswmm beside it in other databases (CREATE EXTENSION hnswmm; USING hnswmm).
The compatibility extension is for servers without pgvector: remove pgvector's package first to use it."
  fi
}

case "${1:-}" in
  install)
    : "${HNSWMM_SQL_PARTS:?run it as make install-pgvector-compat}" "${HNSWMM_VERSION:?}"
    refuse_foreign_control
    write_sql "compat/vector--$VERSION.sql"
    install -m 644 compat/vector.control "compat/vector--$VERSION.sql" "$(extension_dir)/"
    log "installed the pgvector compatibility extension \`vector\` $VERSION in $(extension_dir)"
    ;;
  uninstall)
    refuse_foreign_control
    rm -f "$(extension_dir)/vector.control" "$(extension_dir)"/vector--*.sql
    ;;
  *) die "usage: $0 install | uninstall (make install-pgvector-compat)" ;;
esac
