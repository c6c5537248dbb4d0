# pg_upgrade from PostgreSQL 15 to the server under test (17 or 18).
#
# An index made on 15 (plain and sq8, with inserts after the build,
# deletes and VACUUM) is carried over by pg_upgrade, which copies its
# file as it is but gives the cluster a new system identifier.  The
# metapage's stamp then names another system, so the new server must
# read vectors through buffers, not the mapping, until a writer restamps
# it.  Afterwards: the same answers as on 15, hnswmm_verify clean, every
# row its own nearest; an insert restamps the index, and from then on its
# vectors are read through the mapping (fewer index blocks a query).
#
# Needs PostgreSQL 15 with hnswmm installed at HNSWMM_OLD_INSTALL (bin/
# and lib/ below it; `make test PG=17` copies this machine's into the
# chroot).  Skips on 15 itself, and where no old server is installed.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $old_install = $ENV{HNSWMM_OLD_INSTALL} // '/usr/lib/postgresql/15';
my $new_major = PostgreSQL::Test::Cluster->new('probe')->pg_version->major;
plan skip_all => "the server under test is PostgreSQL $new_major: nothing to upgrade from"
  if $new_major <= 15;
if (!-x "$old_install/bin/postgres")
{
	die "HNSWMM_OLD_INSTALL=$old_install has no bin/postgres"
	  if defined $ENV{HNSWMM_OLD_INSTALL};
	plan skip_all => "no PostgreSQL 15 at $old_install";
}

my $old = hnswmm_node('old', install_path => $old_install);
is($old->pg_version->major, 15, 'the old server is PostgreSQL 15');
create_tv($old);
$old->safe_psql('postgres', q{
	CREATE TABLE t (id bigint PRIMARY KEY, emb vector(16));
	INSERT INTO t SELECT i, tv(i) FROM generate_series(1, 3000) i;
	CREATE INDEX t_plain ON t USING hnswmm (emb vector_l2_ops) WITH (m = 8, ef_construction = 32);
	CREATE TABLE q (id bigint PRIMARY KEY, emb vector(16));
	INSERT INTO q SELECT i, tv(i) FROM generate_series(1, 3000) i;
	CREATE INDEX q_sq8 ON q USING hnswmm (emb vector_cosine_ops) WITH (quantization = sq8);
	INSERT INTO t SELECT i, tv(i) FROM generate_series(3001, 3500) i;
	INSERT INTO q SELECT i, tv(i) FROM generate_series(3001, 3500) i;
	DELETE FROM t WHERE id % 9 = 0;
	DELETE FROM q WHERE id % 11 = 0;
	VACUUM t; VACUUM q;
});

# Each query's top 10 through the index, one line a query
my @queries = map { $_ * 97 + 13 } 1 .. 30;
sub answers
{
	my ($node, $table, $op) = @_;
	my $qs = join(',', @queries);
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET hnswmm.ef_search = 200;
		SELECT string_agg(ids, E'\\n' ORDER BY q) FROM (
			SELECT q, ARRAY(SELECT id FROM $table ORDER BY emb $op tv(q + 100000) LIMIT 10)::text AS ids
			FROM unnest(ARRAY[$qs]::bigint[]) q) s});
}
my %before = (t => answers($old, 't', '<->'), q => answers($old, 'q', '<=>'));
my $old_flushed = $old->safe_psql('postgres', "SELECT flushed FROM hnswmm_index_info('t_plain')");
cmp_ok($old_flushed, '>', 0, "on 15 the index's vectors are in the file ($old_flushed)");
# PostgreSQL 15.20 keeps an attribute option pg_attver on every column,
# which the new major's pg_dump carries over and its server (17.x and 18.x
# of these Debian releases) rejects: "unrecognized parameter", and
# pg_upgrade fails on any table, with or without hnswmm.  ALTER TABLE ...
# RESET puts it back, so take it out of the catalog of the old cluster's
# own tables, as an operator of such an upgrade would have to.
$old->safe_psql('postgres', q{
	UPDATE pg_attribute SET attoptions = NULLIF(ARRAY(
		SELECT o FROM unnest(attoptions) o WHERE o NOT LIKE 'pg_attver=%'), '{}')
	WHERE attrelid >= 16384 AND attoptions::text LIKE '%pg_attver=%'});
$old->stop;

# pg_upgrade needs both clusters alike in data checksums: off, which is
# 15's default (18's initdb turns them on unless told not to)
my $new = PostgreSQL::Test::Cluster->new('new');
$new->init(no_data_checksums());
$new->append_conf('postgresql.conf', "autovacuum = off\n");
my $dir = tempdir_abs();
command_ok(
	[
		'pg_upgrade', '--no-sync', '--copy',
		'-b', "$old_install/bin", '-B', $new->config_data('--bindir'),
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-s', $dir, '-p', $old->port, '-P', $new->port,
	],
	"pg_upgrade from 15 to $new_major");
$new->start;

is($new->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'hnswmm'"),
	$new->safe_psql('postgres', "SELECT default_version FROM pg_available_extensions WHERE name = 'hnswmm'"),
	'the extension came over at the installed version');

# Index blocks (shared buffer hits and reads) that the queries take
sub blocks_per_query
{
	my ($node, $index, $table, $op) = @_;
	my $qs = join(',', @queries);
	my $res = $node->safe_psql('postgres', qq{
		SELECT pg_stat_force_next_flush();
		SELECT idx_blks_hit + idx_blks_read FROM pg_statio_user_indexes WHERE indexrelname = '$index';
		SET enable_seqscan = off; SET hnswmm.ef_search = 200;
		SELECT count(*) FROM unnest(ARRAY[$qs]::bigint[]) q,
			LATERAL (SELECT id FROM $table ORDER BY emb $op tv(q + 100000) LIMIT 10) s;
		SELECT pg_stat_force_next_flush();
		SELECT idx_blks_hit + idx_blks_read FROM pg_statio_user_indexes WHERE indexrelname = '$index';
	});
	my (undef, $start, undef, undef, $end) = split /\n/, $res;
	return sprintf('%.1f', ($end - $start) / scalar(@queries));
}

my %stale;
for my $case (['t', 't_plain', '<->'], ['q', 'q_sq8', '<=>'])
{
	my ($table, $index, $op) = @$case;
	is(answers($new, $table, $op), $before{$table}, "$index answers as on 15");
	my ($found, $rows) = self_found($new, 'postgres', $table);
	is($found, $rows, "$index: every row of $table is its own nearest ($found of $rows)");
	$stale{$index} = blocks_per_query($new, $index, $table, $op);
	my ($nodes, $live) = split /\|/, $new->safe_psql('postgres',
		"SELECT nodes, live FROM hnswmm_verify('$index')");
	is($live, $new->safe_psql('postgres', "SELECT count(*) FROM $table"),
		"hnswmm_verify passes on $index with a live node a row");
}

# A writer restamps the index for this system; then the vectors are read
# through the mapping again, and the answers stay the same
# (one row, so that the graph stays as it was for the comparison)
$new->safe_psql('postgres', q{
	INSERT INTO t VALUES (3501, tv(3501));
	INSERT INTO q VALUES (3501, tv(3501));
});
for my $case (['t', 't_plain', '<->'], ['q', 'q_sq8', '<=>'])
{
	my ($table, $index, $op) = @$case;
	my $mapped = blocks_per_query($new, $index, $table, $op);
	cmp_ok($mapped, '<', $stale{$index},
		"$index: once restamped, a query reads $mapped index blocks through buffers, "
		  . "against $stale{$index} while the stamp named the old system");
	my ($found, $rows) = self_found($new, 'postgres', $table);
	is($found, $rows, "$index after inserts on $new_major: every row its own nearest");
}
$new->safe_psql('postgres', 'DELETE FROM t WHERE id % 5 = 0; VACUUM t;');
my ($found, $rows) = self_found($new, 'postgres', 't');
is($found, $rows, "after DELETE and VACUUM on $new_major: every row its own nearest");
is($new->safe_psql('postgres', "SELECT live FROM hnswmm_verify('t_plain')"),
	$new->safe_psql('postgres', 'SELECT count(*) FROM t'), 'hnswmm_verify passes at the end');

$new->stop;
done_testing();
