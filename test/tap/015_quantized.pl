# Quantized indexes (sq8 and binary codes in the graph records, the binary
# codes' centers in their pages) survive what every index must survive:
#   - a hot standby that replayed the build, inserts, DELETE and VACUUM
#     answers like the primary: every row finds itself, the top 10 equal
#     the exact top 10, hnswmm_verify passes, and a narrow search (which
#     goes where the codes lead it) returns exactly the primary's rows;
#   - a SIGKILL of the primary after committed inserts: after recovery the
#     same holds, the narrow search answers as before the crash, and
#     inserts go on;
#   - a promoted standby takes writes and still answers exactly;
#   - a binary index with several centers (one per 1,000 rows) and an
#     INCLUDE column reaches the standby whole: same centers, same narrow
#     answers from an index-only scan, hnswmm_verify passes.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = hnswmm_node('primary', allows_streaming => 1, extra => ['--data-checksums']);
$primary->append_conf('postgresql.conf', "autovacuum = off\n");
$primary->restart;
create_tv($primary);
$primary->backup('before_index');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'before_index', has_streaming => 1);
$standby->start;

my %tables = (tq_sq8 => 'sq8', tq_bin => 'binary');
for my $t (sort keys %tables)
{
	$primary->safe_psql('postgres', qq{
		CREATE TABLE $t (id bigint PRIMARY KEY, emb vector(64));
		INSERT INTO $t SELECT i, tv(i, 64) FROM generate_series(1, 500) i;
		CREATE INDEX ${t}_idx ON $t USING hnswmm (emb vector_l2_ops)
			WITH (m = 8, ef_construction = 32, quantization = '$tables{$t}');
	});
	$primary->safe_psql('postgres',
		join('', map { "INSERT INTO $t VALUES ($_, tv($_, 64));\n" } 501 .. 700));
	$primary->safe_psql('postgres', "DELETE FROM $t WHERE id % 7 = 0; VACUUM $t;");
}
catch_up($primary, $standby);

my @queries = map { $_ * 31 + 3 } 1 .. 10;

# Every row finds itself, and the top 10 of ten queries equal the exact
# top 10, for both tables; hnswmm_verify passes.
sub check
{
	my ($node, $label) = @_;
	my $qs = join(',', @queries);
	for my $t (sort keys %tables)
	{
		my $res = $node->safe_psql('postgres', qq{
			SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnswmm.ef_search = 1000;
			SELECT count(*) FILTER (WHERE (SELECT i.id FROM $t i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id),
				   count(*)
			FROM $t o});
		my ($found, $total) = split /\|/, $res;
		is($found, $total, "$label, $tables{$t}: all $total rows find themselves");
		is($node->safe_psql('postgres', qq{
			SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnswmm.ef_search = 1000;
			SELECT count(*) FILTER (WHERE
				ARRAY(SELECT id FROM $t ORDER BY emb <-> tv(q, 64) LIMIT 10) =
				ARRAY(SELECT id FROM $t ORDER BY (emb <-> tv(q, 64)) + 0, id LIMIT 10))
			FROM unnest(ARRAY[$qs]::bigint[]) q}), 10,
			"$label, $tables{$t}: top 10 equal the exact top 10, in order");
		my ($ret, $out, $err) = $node->psql('postgres', "SELECT live FROM hnswmm_verify('${t}_idx')");
		is($ret == 0 ? 'ok' : $err, 'ok', "$label, $tables{$t}: hnswmm_verify passes");
	}
}

# A narrow search (ef_search and re-ranking 10): its answers depend on the
# codes, so equal answers mean equal codes and centers.
sub narrow
{
	my ($node, @tables) = @_;
	@tables = sort keys %tables unless @tables;
	my $qs = join(',', @queries);
	return join("\n", map {
		$node->safe_psql('postgres', qq{
			SET enable_seqscan = off; SET hnswmm.ef_search = 10; SET hnswmm.rerank = 10;
			SELECT q, ARRAY(SELECT id FROM $_ ORDER BY emb <-> tv(q, 64) LIMIT 10)
			FROM unnest(ARRAY[$qs]::bigint[]) q ORDER BY q})
	} @tables);
}

check($primary, 'primary');
check($standby, 'standby');
is(narrow($standby), narrow($primary), 'a narrow search on the standby answers like the primary');
is($standby->safe_psql('postgres',
		"SELECT quantization FROM hnswmm_index_info('tq_bin_idx')"), 'binary',
	'the standby sees the quantization');

# Several centers: their pages are WAL-logged with the build; so are the
# INCLUDE values.  A standby plans no index-only scan (replay of VACUUM
# takes no cleanup lock, so the interlock that keeps a deleted row from
# being returned by one does not hold there): an index scan reads them
$primary->safe_psql('postgres', q{
	CREATE TABLE tq_centers (id bigint PRIMARY KEY, emb vector(64));
	INSERT INTO tq_centers SELECT i, tv(i, 64) FROM generate_series(1, 2500) i;
	CREATE INDEX tq_centers_idx ON tq_centers USING hnswmm (emb vector_l2_ops)
		INCLUDE (id) WITH (m = 8, ef_construction = 32, quantization = 'binary');
	INSERT INTO tq_centers SELECT i, tv(i, 64) FROM generate_series(2501, 2600) i;
	VACUUM tq_centers;
});
catch_up($primary, $standby);
like($standby->safe_psql('postgres', q{
		SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT id FROM tq_centers ORDER BY emb <-> tv(1, 64) LIMIT 10}),
	qr/Index Scan using tq_centers_idx/, 'the standby scans the index, not index-only');
is($standby->safe_psql('postgres',
		"SELECT centers, nodes FROM hnswmm_index_info('tq_centers_idx')"), '2|2600',
	'the standby sees the two centers');
is(narrow($standby, 'tq_centers'), narrow($primary, 'tq_centers'),
	'with two centers, a narrow search on the standby answers like the primary');
is($standby->safe_psql('postgres', "SELECT live FROM hnswmm_verify('tq_centers_idx')"),
	'2600', 'with two centers, hnswmm_verify passes on the standby');

# Committed inserts survive a SIGKILL of the primary
for my $t (sort keys %tables)
{
	$primary->safe_psql('postgres',
		join('', map { "INSERT INTO $t VALUES ($_, tv($_, 64));\n" } 701 .. 800));
}
my $before = narrow($primary);
hard_crash($primary);
$primary->start;
check($primary, 'after a crash');
is(narrow($primary), $before, 'after a crash, a narrow search answers as before it');
for my $t (sort keys %tables)
{
	$primary->safe_psql('postgres', "INSERT INTO $t VALUES (801, tv(801, 64))");
	is($primary->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET hnswmm.ef_search = 100;
		SELECT id FROM $t ORDER BY emb <-> tv(801, 64) LIMIT 1}), '801',
		"after a crash, $tables{$t}: a new row is found");
}

# The promoted standby takes writes
catch_up($primary, $standby);
$primary->stop;
$standby->promote;
for my $t (sort keys %tables)
{
	$standby->safe_psql('postgres',
		join('', map { "INSERT INTO $t VALUES ($_, tv($_, 64));\n" } 802 .. 850));
}
check($standby, 'promoted standby');

$standby->stop;
done_testing();
