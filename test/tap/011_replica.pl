# Replication and backups, on clusters with data checksums.
# - A streaming hot standby of a primary that builds the index, inserts,
#   deletes and VACUUMs: after catching up it answers the same top 10 as
#   the primary, finds every row, and hnswmm_verify passes on it; while
#   the primary writes, every answer on the standby equals the exact
#   answer of the same snapshot (a standby reads through buffers), and
#   hnswmm_verify on the standby passes while replay adds nodes, links
#   them and replays VACUUM under it.
# - The standby promoted: correct answers at once, inserts are found,
#   hnswmm_verify passes, and the flushed watermark, stamped by the old
#   primary, is restamped and advances.
# - pg_basebackup of the primary, taken quietly and during writes,
#   restored and started: the same answers as the primary, every row
#   found, inserts go on.
# - pg_checksums --check passes on every stopped cluster.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dir = tempdir_abs();
my $primary = hnswmm_node('primary', allows_streaming => 1, extra => ['--data-checksums']);
$primary->append_conf('postgresql.conf', "autovacuum = off\nlog_statement = none\n");
$primary->restart;
create_tv($primary);
is($primary->safe_psql('postgres', 'SHOW data_checksums'), 'on', 'data checksums are on');

$primary->backup('before_index');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'before_index', has_streaming => 1);
$standby->start;

# the index is built on the primary after the standby started
$primary->safe_psql('postgres', q{
	CREATE TABLE t (id bigint PRIMARY KEY, emb vector(16));
	CREATE SEQUENCE t_seq START 100001;
	INSERT INTO t SELECT i, tv(i) FROM generate_series(1, 400) i;
	CREATE INDEX t_idx ON t USING hnswmm (emb vector_l2_ops) WITH (m = 8, ef_construction = 32);
});
$primary->safe_psql('postgres', join('', map { "INSERT INTO t VALUES ($_, tv($_));\n" } 401 .. 600));
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id % 5 = 0; VACUUM t;');
catch_up($primary, $standby);

my @queries = map { $_ * 37 + 5 } 1 .. 20;

# top 10 of each query at the default ef_search, as one string
sub answers
{
	my ($node) = @_;
	my $qs = join(',', @queries);
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET enable_bitmapscan = off;
		SELECT q, ARRAY(SELECT id FROM t ORDER BY emb <-> tv(q) LIMIT 10)
		FROM unnest(ARRAY[$qs]::bigint[]) q ORDER BY q});
}

sub verify
{
	my ($node, $label) = @_;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SELECT nodes, live, deleted FROM hnswmm_verify('t_idx')");
	is($ret == 0 ? 'ok' : $err, 'ok', "$label: hnswmm_verify passes");
}

sub all_found
{
	my ($node, $label) = @_;
	my ($found, $total) = self_found($node, 'postgres', 't');
	is($found, $total, "$label: all $total rows find themselves through the index");
	is(index_vs_exact($node, 'postgres', 't', 10, @queries[0 .. 9]), 10,
		"$label: top 10 of the index equal the exact top 10");
}

sub info
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT nodes, deleted, flushed FROM hnswmm_index_info('t_idx')");
}

# --- the hot standby after catching up
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
like($standby->safe_psql('postgres', q{
	SET enable_seqscan = off; SET enable_bitmapscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY emb <-> tv(1) LIMIT 10}),
	qr/Index Scan using t_idx/, 'the standby scans the index');
is(info($standby), info($primary), 'the standby has the same index state');
my $primary_answers = answers($primary);
is(answers($standby), $primary_answers, 'the standby answers the same top 10 as the primary');
all_found($standby, 'standby');
verify($standby, 'standby');

# --- reads on the standby while the primary writes
sub script { return sql_file($dir, @_); }
my $insert = script('insert',
	"INSERT INTO t SELECT n, tv(n) FROM nextval('t_seq') n;\n\\sleep 20 ms\n");
my $delete = script('delete',
	"DELETE FROM t WHERE id = (SELECT min(id) FROM t WHERE id > 600);\n\\sleep 20 ms\n");
my $vacuum = script('vacuum', "VACUUM t;\n\\sleep 100 ms\n");

sub start_pgbench
{
	my ($node, $transactions) = @_;
	my %p = (out => '', err => '');
	$p{h} = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '3', '-j', '3', '-t', $transactions, '-h', $node->host,
		  '-p', $node->port, '-f', "$insert\@4", '-f', "$delete\@2", '-f', "$vacuum\@1", 'postgres' ],
		'>', \$p{out}, '2>', \$p{err});
	return \%p;
}

my $bench = start_pgbench($primary, 150);
my ($rounds, $exact, $verified) = (0, 0, 0);
my @verify_errors;
while ($bench->{h}->pumpable)
{
	$rounds++;
	$exact++ if index_vs_exact($standby, 'postgres', 't', 10, map { $_ * 101 + $rounds } 1 .. 5) == 5;
	for (1 .. 5)
	{
		my ($ret, $out, $err) = $standby->psql('postgres', "SELECT nodes FROM hnswmm_verify('t_idx')");
		$ret == 0 ? $verified++ : push @verify_errors, $err;
	}
	$bench->{h}->pump_nb;
}
$bench->{h}->finish;
like($bench->{out}, qr/number of failed transactions: 0/, 'the primary wrote rows meanwhile');
cmp_ok($rounds, '>=', 2, "the standby answered $rounds rounds of queries meanwhile");
is($exact, $rounds, 'every answer on the standby during replay was the exact answer');
is(scalar(@verify_errors), 0, "hnswmm_verify on the standby passed all $verified times during replay")
  or diag(join("\n", @verify_errors[0 .. ($#verify_errors < 4 ? $#verify_errors : 4)]));

$primary->safe_psql('postgres', 'VACUUM t');
catch_up($primary, $standby);
$primary_answers = answers($primary);
is(answers($standby), $primary_answers, 'after more writes and VACUUM the standby answers as the primary');
all_found($standby, 'standby after more writes');
all_found($primary, 'primary');

# --- a base backup taken quietly, restored
$primary->backup('quiet');
my $restored = PostgreSQL::Test::Cluster->new('restored');
$restored->init_from_backup($primary, 'quiet');
$restored->start;
is(answers($restored), $primary_answers, 'a restored base backup answers as the primary');
all_found($restored, 'restored backup');
verify($restored, 'restored backup');

# --- a base backup taken while the primary writes, restored
$bench = start_pgbench($primary, 40);
$primary->backup('busy');
$bench->{h}->finish;
my $restored2 = PostgreSQL::Test::Cluster->new('restored2');
$restored2->init_from_backup($primary, 'busy');
$restored2->start;
all_found($restored2, 'backup taken during writes');
verify($restored2, 'backup taken during writes');
$restored2->safe_psql('postgres', join('', map { "INSERT INTO t VALUES ($_, tv($_));\n" } 700001 .. 700020));
all_found($restored2, 'backup taken during writes, after inserts');
verify($restored2, 'backup taken during writes, after inserts');

# --- promotion
$primary->safe_psql('postgres', 'VACUUM t');
catch_up($primary, $standby);
$primary_answers = answers($primary);
my (undef, undef, $flushed_before) = split /\|/, info($primary);
$primary->stop;
$standby->promote;
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 'f', 'the standby is promoted');
is(answers($standby), $primary_answers, 'right after promotion it answers as the old primary');
all_found($standby, 'promoted, before any write');
$standby->safe_psql('postgres', join('', map { "INSERT INTO t VALUES ($_, tv($_));\n" } 800001 .. 800030));
all_found($standby, 'promoted, after inserts');
my ($found, $total) = self_found($standby, 'postgres', 't', 'id > 800000');
is("$found/$total", '30/30', 'rows inserted after promotion are found');
verify($standby, 'promoted');
ok($standby->poll_query_until('postgres',
	"SELECT flushed > $flushed_before FROM hnswmm_index_info('t_idx')"),
	"the flushed watermark advances on the new primary (it was $flushed_before)");
my ($nodes, undef, $flushed) = split /\|/, info($standby);
cmp_ok($flushed, '<=', $nodes, "flushed ($flushed) stays within the nodes ($nodes)");
# the scans now read the mapped file the new primary wrote
all_found($standby, 'promoted, restamped');
$standby->safe_psql('postgres', 'DELETE FROM t WHERE id % 7 = 0; VACUUM t');
all_found($standby, 'promoted, after DELETE and VACUUM');
verify($standby, 'promoted, after DELETE and VACUUM');

# --- checksums of every cluster, stopped
is(server_crashed($_), '', $_->name . ': no backend died of a signal')
  for ($primary, $standby, $restored, $restored2);
for my $node ($primary, $standby, $restored, $restored2)
{
	$node->stop;
	command_ok([ 'pg_checksums', '--check', '-D', $node->data_dir ],
		'pg_checksums --check passes on ' . $node->name);
}

done_testing();
