# DDL while other sessions scan, and hnswmm_verify while others write.
# - A cursor open on an index scan: DROP INDEX, REINDEX and DROP INDEX
#   CONCURRENTLY wait for it, REINDEX CONCURRENTLY builds meanwhile and
#   waits to swap; the cursor keeps fetching the right rows.
# - Sessions scanning in a loop (simple and prepared statements) while
#   another session runs REINDEX, REINDEX CONCURRENTLY, DROP INDEX and
#   CREATE INDEX, ALTER INDEX ... SET TABLESPACE and VACUUM FULL: no scan
#   fails, no backend dies (a scan reads vectors through a mapping of the
#   index's file, which these commands replace), and the answers are right
#   afterwards.
# - hnswmm_verify called while other sessions insert, and while VACUUM
#   runs, passes: it must not report a healthy index as corrupted (it may
#   wait for the writers, as amcheck's parent check does).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);

my $node = hnswmm_node('ddl');
$node->append_conf('postgresql.conf', "autovacuum = off\nlog_statement = none\n");
$node->restart;
create_tv($node);
my $dir = tempdir_abs();
my $tsdir = tempdir_abs();
my $create_index =
  'CREATE INDEX t_idx ON t USING hnswmm (emb vector_l2_ops) WITH (m = 8, ef_construction = 32)';
$node->safe_psql('postgres', qq{
	CREATE TABLE t (id bigint PRIMARY KEY, emb vector(16));
	CREATE SEQUENCE t_seq START 100001;
	INSERT INTO t SELECT i, tv(i) FROM generate_series(1, 500) i;
	$create_index;
	CREATE TABLESPACE ts1 LOCATION '$tsdir';
});

# the exact order of all rows by distance to tv(7)
sub exact_order
{
	return $node->safe_psql('postgres',
		'SELECT string_agg(id::text, \',\' ORDER BY (emb <-> tv(7)), id) FROM t');
}

sub wait_until_blocked
{
	my ($pid, $what) = @_;
	ok($node->poll_query_until('postgres',
		"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $pid"),
		"$what waits for the open cursor");
}

# --- a cursor open on an index scan, and DDL from another session
for my $ddl ('DROP INDEX t_idx', 'REINDEX INDEX t_idx', 'DROP INDEX CONCURRENTLY t_idx',
	'REINDEX INDEX CONCURRENTLY t_idx')
{
	my $want = exact_order();
	my ($reader, $ddler, $pid, @got);
	quietly(sub {
		$reader = $node->background_psql('postgres');
		$reader->query_safe(q{
			SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnswmm.ef_search = 1000;
			BEGIN;
			DECLARE c CURSOR FOR SELECT id FROM t ORDER BY emb <-> tv(7) LIMIT 1000;
		});
		@got = split /\n/, $reader->query_safe('FETCH 100 FROM c');
		$ddler = $node->background_psql('postgres', on_error_stop => 0);
		$pid = $ddler->query_safe('SELECT pg_backend_pid()');
		$ddler->query_until(qr/sent/, "\\echo sent\n$ddl;\n");
	});
	if ($ddl =~ /REINDEX INDEX CONCURRENTLY/)
	{
		# builds the new index while the cursor is open, then waits for it
		ok($node->poll_query_until('postgres',
			"SELECT wait_event_type = 'Lock' AND query LIKE 'REINDEX%' FROM pg_stat_activity WHERE pid = $pid"),
			"$ddl waits for the open cursor");
	}
	else
	{
		wait_until_blocked($pid, $ddl);
	}
	quietly(sub {
		push @got, split /\n/, $reader->query_safe('FETCH 200 FROM c');
		push @got, split /\n/, $reader->query_safe('FETCH ALL FROM c');
		$reader->query_safe('COMMIT');
	});
	is(join(',', @got), $want, "$ddl: the cursor returns every row in exact order meanwhile");
	quietly(sub { $ddler->query('SELECT 1') });
	unlike($ddler->{stderr}, qr/ERROR|FATAL/, "$ddl: completes once the cursor is closed");
	$reader->quit;
	$ddler->quit;
	$node->safe_psql('postgres', $create_index) if $ddl =~ /DROP/;
	my ($found, $total) = self_found($node, 'postgres', 't');
	is($found, $total, "after $ddl: all $total rows find themselves");
}

# --- scans in a loop while the index is replaced over and over
sub script { return sql_file($dir, @_); }
my $search = script('search', <<'SQL');
\set q random(1, 600)
SET enable_seqscan = off;
SET hnswmm.ef_search = 100;
SELECT id FROM t ORDER BY emb <-> tv(:q) LIMIT 10;
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM t ORDER BY emb <-> tv(:q + 1) LIMIT 50;
FETCH 20 FROM c;
FETCH 20 FROM c;
COMMIT;
SQL

sub start_pgbench
{
	my ($mode, $limit, $clients, $file) = @_;
	my %p = (out => '', err => '');
	$p{h} = IPC::Run::start(
		[ 'pgbench', '-n', '-M', $mode, '-c', $clients, '-j', $clients, split(/ /, $limit),
		  '-h', $node->host, '-p', $node->port, '-f', $file, 'postgres' ],
		'>', \$p{out}, '2>', \$p{err});
	return \%p;
}

my @benches = (start_pgbench('simple', '-T 6', 2, $search), start_pgbench('prepared', '-T 6', 2, $search));
my @ddl = (
	'REINDEX INDEX t_idx',
	'REINDEX INDEX CONCURRENTLY t_idx',
	"DROP INDEX t_idx; $create_index",
	'ALTER INDEX t_idx SET TABLESPACE ts1',
	'ALTER INDEX t_idx SET TABLESPACE pg_default',
	'VACUUM FULL t',
	'CLUSTER t USING t_pkey',
);
my ($rounds, $ddl_failed) = (0, 0);
my $start = time;
while (time - $start < 4.5)
{
	my $cmd = $ddl[ $rounds++ % @ddl ];
	my ($ret, $out, $err) = $node->psql('postgres', $cmd);
	if ($ret != 0)
	{
		$ddl_failed++;
		diag("$cmd: $err");
	}
	usleep(50_000);
}
for my $b (@benches)
{
	$b->{h}->finish;
	like($b->{out}, qr/number of failed transactions: 0 /, 'scans in a loop: no scan failed')
	  or diag($b->{out} . $b->{err});
	unlike($b->{err}, qr/aborted|terminat|server closed/i, 'scans in a loop: no client lost its connection')
	  or diag($b->{err});
	like($b->{out}, qr/number of transactions actually processed: [1-9]/, 'scans in a loop ran');
}
cmp_ok($rounds, '>=', @ddl, "$rounds DDL commands ran meanwhile");
is($ddl_failed, 0, 'no DDL command failed');
is(server_crashed($node), '', 'no backend died of a signal (no SIGBUS or SIGSEGV from a stale mapping)');
my ($found, $total) = self_found($node, 'postgres', 't');
is($found, $total, "afterwards all $total rows find themselves");
is(index_vs_exact($node, 'postgres', 't', 10, 1 .. 10), 10, 'afterwards top 10 equal the exact top 10');

# --- hnswmm_verify while others write
my $insert = script('insert',
	"INSERT INTO t SELECT n, tv(n) FROM nextval('t_seq') n;\n\\sleep 10 ms\n");
my $bench = start_pgbench('simple', '-t 100', 3, $insert);
my $verifier = quietly(sub { $node->background_psql('postgres', on_error_stop => 0) });

# One hnswmm_verify in the verifier session: (passed, error)
sub verify_once
{
	$verifier->{stderr} = '';
	my ($out, $failed) = quietly(sub { $verifier->query("SELECT nodes FROM hnswmm_verify('t_idx')") });
	usleep(20_000);
	return ($failed ? 0 : 1, $verifier->{stderr});
}

my ($checks, $passed, $first_error) = (0, 0, undef);
while ($bench->{h}->pumpable)
{
	my ($ok, $err) = verify_once();
	$checks++;
	if ($ok) { $passed++ }
	else { $first_error //= $err }
	$bench->{h}->pump_nb;
}
$bench->{h}->finish;
like($bench->{out}, qr/number of failed transactions: 0 /, 'rows were inserted meanwhile');
cmp_ok($checks, '>=', 5, "hnswmm_verify ran $checks times during the inserts");
is($passed, $checks, 'hnswmm_verify passes while other sessions insert') or diag($first_error);

# --- hnswmm_verify while VACUUM runs (slowed down by cost-based delay)
$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 3 = 0');
my ($vout, $verr) = ('', '');
my $vacuum = IPC::Run::start(
	[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
	  '-c', 'SET vacuum_cost_delay = 20', '-c', 'SET vacuum_cost_limit = 1', '-c', 'VACUUM t' ],
	'>', \$vout, '2>', \$verr);
($checks, $passed, $first_error) = (0, 0, undef);
while ($vacuum->pumpable)
{
	my ($ok, $err) = verify_once();
	$checks++;
	if ($ok) { $passed++ }
	else { $first_error //= $err }
	$vacuum->pump_nb;
}
$vacuum->finish;
$verifier->quit;
is($verr, '', 'VACUUM ran');
cmp_ok($checks, '>=', 1, "hnswmm_verify was called $checks times during VACUUM");
is($passed, $checks, 'hnswmm_verify called while VACUUM runs passes') or diag($first_error);

($found, $total) = self_found($node, 'postgres', 't');
is($found, $total, "at the end all $total rows find themselves");
is(server_crashed($node), '', 'no backend died of a signal');
$node->stop;
done_testing();
