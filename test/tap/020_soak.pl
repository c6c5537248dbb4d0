# Soak: scripts/soak.sh in a TAP test, for 30 s (SOAK_SECONDS overrides;
# `make soak` runs it for as long as asked).
# Eight pgbench clients mix inserts, deletes, updates of the vector, HOT
# updates of the category and top-k searches (no filter with the
# iterative scan off; a filter under relaxed_order, which must return the
# full LIMIT; strict_order, whose distances must come out in order), while
# one more client runs VACUUM in a loop.  The workload is
# scripts/soak/*.sql, shared with scripts/soak.sh.  Afterwards: no
# transaction failed, every live row is found by an index scan of its own
# vector (at the default ef_search, and exhaustively), no node is
# unreachable through neighbour lists, one scan returns each row once, the index agrees with exact
# top-10s, hnswmm_verify counts exactly the live rows, and the server log
# holds no warning, error, crash, assertion failure or leak.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $seconds = $ENV{SOAK_SECONDS} // 30;
my $clients = $ENV{SOAK_CLIENTS} // 8;
my $sql = soak_sql_dir($FindBin::Bin);
if (!defined $sql)
{
	fail('the soak workload scripts/soak/*.sql is found (set HNSWMM_SOAK_DIR, '
		  . 'or copy scripts/soak to test/tap/soak)');
	done_testing();
	exit;
}

my $node = hnswmm_node('soak');
quiet_log($node);
my $log_start = log_size($node);

$node->safe_psql('postgres', PostgreSQL::Test::Utils::slurp_file("$sql/setup.sql"));
pass('set-up: 700 rows and the hnswmm index soak_idx');

sub pgbench_start
{
	my ($label, $n, @scripts) = @_;
	my %run = (label => $label, out => '', err => '');
	$run{h} = IPC::Run::start(
		[ 'pgbench', '-n', '-c', $n, '-j', ($n < 2 ? 1 : 2), '-T', $seconds, '-r',
		  '-h', $node->host, '-p', $node->port,
		  (map { ('-f', "$sql/$_") } @scripts), 'postgres' ],
		'>', \$run{out}, '2>', \$run{err},
		IPC::Run::timeout($seconds + 300));
	return \%run;
}

my $vacuum = pgbench_start('vacuum', 1, 'vacuum.sql');
my $mix = pgbench_start('mix', $clients,
	'insert.sql@20', 'delete.sql@20', 'update_emb.sql@15', 'update_category.sql@5',
	'search.sql@20', 'search_filter.sql@15', 'search_strict.sql@5');

# A backend that waits on an LWLock for minutes is stuck for good (an LWLock
# deadlock is invisible to the deadlock detector and deaf to cancel), and
# pgbench would wait for it forever: give pgbench 45 s more than its time
# (its statements take milliseconds), then show the stuck backends (with stacks when gdb is there) and
# stop the server hard, which ends pgbench.
my $stuck = 0;
my $deadline = time() + $seconds + 45;
while (($mix->{h}->pumpable || $vacuum->{h}->pumpable) && !$stuck)
{
	$_->{h}->pump_nb for grep { $_->{h}->pumpable } ($mix, $vacuum);
	if (time() > $deadline)
	{
		$stuck = 1;
		diag('pgbench did not end 45 s after its time; busy backends:');
		diag($node->safe_psql('postgres', q{
			SELECT pid || ' ' || backend_type || ' ' || coalesce(wait_event_type, '-') || '/'
			       || coalesce(wait_event, '-') || ' for ' || date_trunc('second', now() - query_start)
			       || ': ' || left(query, 70)
			FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()},
			timeout => 60));
		if (have_gdb())
		{
			for my $pid (split /\n/, $node->safe_psql('postgres', q{
				SELECT pid FROM pg_stat_activity WHERE state = 'active'
				AND wait_event_type = 'LWLock' AND pid <> pg_backend_pid()}, timeout => 60))
			{
				my $bt = `timeout 60 gdb -q -nx -p $pid -batch -ex 'bt 15' 2>/dev/null`;
				diag("stack of backend $pid:\n" . join("\n", grep { /^#/ } split /\n/, $bt));
			}
		}
		$node->stop('immediate');
	}
	sleep(1);
}
ok(!$stuck, 'no backend stuck: pgbench ends on time (a hang here is an LWLock deadlock)');

for my $run ($mix, $vacuum)
{
	my $ok = eval { $run->{h}->finish };
	ok($ok && $run->{err} !~ /aborted/ && $run->{out} !~ /aborted/,
		"pgbench $run->{label} runs $seconds s to the end")
	  or diag(substr($run->{err}, 0, 3000));
	like($run->{out}, qr/^number of failed transactions: 0 /m,
		"pgbench $run->{label}: no transaction failed");
}
if ($stuck)
{
	done_testing();
	exit;
}

# Throughput of each kind of statement
for my $run ($mix, $vacuum)
{
	my $name = $run->{label} eq 'vacuum' ? 'vacuum' : undef;
	for my $line (split /\n/, $run->{out})
	{
		if ($line =~ m{^SQL script \d+: .*/(\w+)\.sql})
		{
			$name = $1;
		}
		elsif ($line =~ /^ - (\d+) transactions .*tps = ([\d.]+)/ && defined $name)
		{
			note(sprintf('%-16s %8d transactions %8.1f per second', $name, $1, $2));
		}
		elsif ($line =~ /^number of transactions actually processed: (\d+)/)
		{
			my $n = $1;
			my ($tps) = $run->{out} =~ /^tps = ([\d.]+)/m;
			note(sprintf('%-16s %8d transactions %8.1f per second',
				"($run->{label} total)", $n, $tps // 0));
		}
	}
}
note($node->safe_psql('postgres', q{
	SELECT n_tup_ins || ' inserted, ' || n_tup_upd || ' updated (' || n_tup_hot_upd
	       || ' HOT), ' || n_tup_del || ' deleted, ' || n_live_tup || ' live'
	FROM pg_stat_user_tables WHERE relname = 'soak'}));

# The checks of scripts/soak/check.sql: name|ok|detail
my ($rc, $out, $err) = $node->psql('postgres',
	PostgreSQL::Test::Utils::slurp_file("$sql/check.sql"),
	extra_params => [ '-F', '|', '-v', 'ON_ERROR_STOP=1' ]);
is($rc, 0, 'post-load checks run') or diag($err);
my @rows = grep { /\|/ } split /\n/, $out;
is(scalar(@rows), 7, 'seven post-load checks');
for my $row (@rows)
{
	my ($name, $ok, $detail) = split /\|/, $row, 3;
	is($ok, 't', "$name: $detail");
}

my @problems = log_problems($node, from => $log_start,
	allow => [qr/ERROR:  canceling autovacuum task/]);
is(scalar(@problems), 0, 'server log: no warning, error, crash, assertion or leak')
  or diag(join("\n", @problems[0 .. ($#problems < 20 ? $#problems : 19)]));

$node->stop;
is(server_crashed($node), '', 'no crash');
done_testing();
