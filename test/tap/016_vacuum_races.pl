# VACUUM against the scans and inserts that run beside it.
#
# - Index-only scans never return a row deleted before their snapshot.
#   The rows are frozen (their pages all-visible), five of a query's ten
#   nearest are deleted, a cursor fetches the first row of the query, and
#   VACUUM runs in another session: it removes the dead TIDs from the
#   index and sets the heap pages all-visible again, so the executor no
#   longer looks at the heap for those rows.  The cursor's other rows must
#   still be exactly the live ones.  A scan hands out each row from its
#   record as it is then, with its graph page pinned until the next row,
#   and VACUUM marks nodes dead under a cleanup lock (the interlock of
#   nbtree's pins).  The same for an iterative scan past its first batch,
#   and for sq8 and binary indexes, whose candidates are re-ranked.
# - VACUUM that removes every node it started with, while rows are
#   inserted, keeps an entry point among the new rows (gdb stops VACUUM
#   between its passes while the rows go in): they stay findable, and
#   hnswmm_verify passes.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = hnswmm_node('vacuum_races');
$node->append_conf('postgresql.conf', "autovacuum = off\nlog_statement = none\n");
$node->restart;

my $q = '[0.3,0.7,0.1,0.9]';
my $settings = 'SET enable_seqscan = off; SET enable_bitmapscan = off;';

# The ids of the table's rows in exact order of distance to $q
sub exact_ids
{
	my ($limit) = @_;
	return split /\n/, $node->safe_psql('postgres',
		"SELECT id FROM t ORDER BY (emb <-> '$q') + 0, id LIMIT $limit");
}

# One case: index options, scan settings, the query's LIMIT and which
# ranks of the exact order to delete
sub index_only_case
{
	my ($label, $with, $scan_settings, $limit, @ranks) = @_;
	$node->safe_psql('postgres', qq{
		DROP TABLE IF EXISTS t;
		CREATE TABLE t (id int PRIMARY KEY, emb vector(4)) WITH (autovacuum_enabled = off);
		INSERT INTO t SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7), cos(i * 0.3)]::real[]
		FROM generate_series(1, 3000) i;
		CREATE INDEX t_idx ON t USING hnswmm (emb) INCLUDE (id) $with;
		VACUUM (FREEZE) t;
	});
	my @order = exact_ids($limit);
	my %victim = map { $order[$_] => 1 } @ranks;
	$node->safe_psql('postgres', 'DELETE FROM t WHERE id IN (' . join(',', keys %victim) . ')');
	my @live = exact_ids($limit);
	my $query = "SELECT id FROM t ORDER BY emb <-> '$q' LIMIT $limit";
	like($node->safe_psql('postgres', "$settings $scan_settings EXPLAIN (COSTS OFF) $query"),
		qr/Index Only Scan using t_idx/, "$label: the query is an index-only scan");

	my ($reader, $vacuum);
	my @got;
	quietly(sub {
		$reader = $node->background_psql('postgres');
		$reader->query_safe("$settings $scan_settings BEGIN; DECLARE c CURSOR FOR $query;");
		push @got, split /\n/, $reader->query_safe('FETCH 1 FROM c');
		$vacuum = $node->background_psql('postgres');
		$vacuum->query_until(qr/sent/, "\\echo sent\nVACUUM t;\n\\echo vacuum done\n");
	});
	# VACUUM either finishes or waits for the cursor's pinned page
	my $vacuum_pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE query = 'VACUUM t;'");
	$node->poll_query_until('postgres', qq{
		SELECT coalesce(bool_or(wait_event = 'BufferPin'), true) FROM pg_stat_activity
		WHERE pid = 0$vacuum_pid AND state = 'active'});
	push @got, split /\n/, quietly(sub { $reader->query_safe('FETCH ALL FROM c') });
	quietly(sub { $reader->query_safe('COMMIT'); $reader->quit });
	quietly(sub { $vacuum->query_until(qr/vacuum done/, ''); $vacuum->quit });

	my @returned_dead = grep { $victim{$_} } @got;
	is("@returned_dead", '', "$label: no deleted row comes back after VACUUM")
	  or diag('returned: ' . join(',', @got));
	is(join(',', sort { $a <=> $b } @got), join(',', sort { $a <=> $b } @live),
		"$label: the rows returned are the exact top $limit of the live rows");
	is($node->safe_psql('postgres', q{
		SELECT (SELECT count(*) FROM t) = live FROM hnswmm_verify('t_idx')}),
		't', "$label: hnswmm_verify counts exactly the live rows afterwards");
}

index_only_case('plain', '', '', 10, 1, 2, 4, 6, 9);
index_only_case('iterative scan past its first batch', '',
	'SET hnswmm.ef_search = 10; SET hnswmm.iterative_scan = relaxed_order;', 40,
	1, 5, 12, 15, 22, 31, 38);
index_only_case('sq8 codes, re-ranked', 'WITH (quantization = sq8)', '', 10, 0, 3, 5, 7, 8);
index_only_case('binary codes, re-ranked', 'WITH (quantization = binary)', '', 10, 1, 2, 3, 6, 9);

# ---------------------------------------------------------------------
# VACUUM removes every node it started with while rows are inserted
# ---------------------------------------------------------------------
SKIP:
{
	skip 'gdb is not installed', 5 unless have_gdb();
	$node->safe_psql('postgres', q{
		CREATE TABLE queue (id int PRIMARY KEY, emb vector(4)) WITH (autovacuum_enabled = off);
		INSERT INTO queue SELECT i, ARRAY[sin(i), cos(i), sin(2 * i), cos(2 * i)]::real[]
		FROM generate_series(1, 300) i;
		CREATE INDEX queue_idx ON queue USING hnswmm (emb) WITH (m = 4, ef_construction = 16);
		DELETE FROM queue;
	});
	my $vac = quietly(sub { $node->background_psql('postgres', on_error_stop => 0) });
	my $pid = quietly(sub { $vac->query_safe("LOAD 'hnswmm'; SELECT pg_backend_pid()") });
	# between pass 1 (which marks every node dead) and the move of the entry point
	my $g = gdb_break($pid, 'fix_entry_point');
	$vac->{stdin} .= "VACUUM queue;\n\\echo vacuum done\n";
	$vac->{run}->pump_nb;
	my $done = sub { $vac->{run}->pump_nb; $vac->{stdout} =~ /vacuum done/ };
	ok(gdb_wait_hit($g, 60, $done), 'VACUUM stopped before it moves the entry point')
	  or diag("gdb: $g->{out}\n$g->{err}");
	$node->safe_psql('postgres', q{
		INSERT INTO queue SELECT i, ARRAY[sin(i), cos(i), sin(2 * i), cos(2 * i)]::real[]
		FROM generate_series(1001, 1020) i;
	});
	gdb_end($g);
	quietly(sub { $vac->query_until(qr/vacuum done/, ''); $vac->quit });
	my ($rc, $out, $err) = $node->psql('postgres',
		"SELECT live, deleted FROM hnswmm_verify('queue_idx')");
	is($rc == 0 ? $out : $err, '20|300', 'hnswmm_verify passes: 20 live nodes, 300 deleted');
	$node->safe_psql('postgres', q{
		INSERT INTO queue SELECT i, ARRAY[sin(i), cos(i), sin(2 * i), cos(2 * i)]::real[]
		FROM generate_series(1021, 1040) i;
	});
	my ($found, $total) = self_found($node, 'postgres', 'queue');
	is("$found/$total", '40/40', 'rows inserted during and after VACUUM all find themselves');
	isnt($node->safe_psql('postgres', "SELECT max_level FROM hnswmm_index_info('queue_idx')"),
		'-1', 'the index has an entry point');
	($rc, $out, $err) = $node->psql('postgres', "SELECT live FROM hnswmm_verify('queue_idx')");
	is($rc == 0 ? $out : $err, '40', 'hnswmm_verify passes after more inserts');
}

is(server_crashed($node), '', 'no crash');
$node->stop;
done_testing();
