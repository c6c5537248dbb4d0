# Crash safety.  Four sessions insert and delete rows of one table (and
# insert rows in transactions they roll back) while the whole server is
# killed with SIGKILL (the postmaster and all its children, as a power cut
# or the OOM killer would), at a random point, several times: during plain
# writes, right after a REINDEX, during CREATE INDEX and CREATE INDEX
# CONCURRENTLY of another table, and during VACUUM; under wal_level
# minimal (the Cluster default) and replica.  After each restart:
# - exactly the committed rows are there (the statement in flight at the
#   crash may or may not have committed);
# - every row is found by an index scan of its own vector (the table
#   stays below 1,000 graph nodes and ef_search = 1000 makes the scan
#   exhaustive; the ring makes every node reachable), the index's top 10
#   equal the exact top 10, and no rolled-back row is returned;
# - hnswmm_verify passes, before and after a VACUUM;
# - inserts go on and are found.
# An unlogged table's index comes back empty after each crash and takes
# inserts again.
# Random kills rarely land between two WAL records of one insert or one
# VACUUM, so first the same checks follow crashes at exact points: gdb
# (on the machines, see machines/c.md; skipped without it) stops a
# backend at a function of hnswmm or at its n-th GenericXLogFinish, the
# WAL written so far is flushed, and the server is killed.  These points
# name functions of src/ and must follow the code when it changes.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);

srand(20240601);    # the "random" kill points are the same on every run

my $WRITERS = 4;
my $INITIAL = 400;
my $dir = tempdir_abs();
my $node = hnswmm_node('crash');
$node->append_conf('postgresql.conf', "autovacuum = off\nlog_statement = none\n");
$node->restart;
create_tv($node);

$node->safe_psql('postgres', qq{
	CREATE TABLE t (id bigint PRIMARY KEY, emb vector(16));
	CREATE SEQUENCE t_seq START 100001;
	INSERT INTO t SELECT i, tv(i) FROM generate_series(1, $INITIAL) i;
	CREATE INDEX t_idx ON t USING hnswmm (emb vector_l2_ops) WITH (m = 8, ef_construction = 32);
	CREATE UNLOGGED TABLE u (id bigint PRIMARY KEY, emb vector(16));
	INSERT INTO u SELECT i, tv(i) FROM generate_series(1, 100) i;
	CREATE INDEX u_idx ON u USING hnswmm (emb) WITH (m = 8, ef_construction = 32);
	CREATE TABLE b (id bigint, emb vector(16));
	INSERT INTO b SELECT i, tv(i) FROM generate_series(1, 20000) i;
});
is($node->safe_psql('postgres', 'SELECT count(DISTINCT emb) FROM t'), $INITIAL,
	'the test vectors are distinct');
like($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET enable_bitmapscan = off;
	EXPLAIN (COSTS OFF) SELECT i.id FROM t i ORDER BY i.emb <-> tv(1) LIMIT 1}),
	qr/Index Scan using t_idx/, 'the checks scan t_idx');

# What the test knows: ids that must be in t, ids that may be (a delete
# in flight at a crash), and each writer's initial rows it may delete.
my %live = map { $_ => 1 } 1 .. $INITIAL;
my @delete_queue;

# Each writer deletes the oldest live rows whose id is its own modulo
# WRITERS, so no two writers delete the same row.
sub plan_deletes
{
	my @ids = sort { $a <=> $b } keys %live;
	@delete_queue = map { my $w = $_; [ grep { $_ % $WRITERS == $w } @ids ] } 0 .. $WRITERS - 1;
}

# A writer's script: groups of statements that each print one line when
# they are done, so the lines tell which groups committed.
sub writer_script
{
	my ($w, $groups) = @_;
	my (@sql, @plan);
	for my $g (1 .. $groups)
	{
		my $r = rand();
		if ($r < 0.45)
		{
			push @plan, ['I'];
			push @sql, "WITH i AS (INSERT INTO t SELECT n, tv(n) FROM nextval('t_seq') n RETURNING id) SELECT 'I', id FROM i;";
		}
		elsif ($r < 0.9 && @{ $delete_queue[$w] })
		{
			my $id = shift @{ $delete_queue[$w] };
			push @plan, [ 'D', $id ];
			push @sql, "WITH d AS (DELETE FROM t WHERE id = $id RETURNING id) SELECT 'D', count(*) FROM d;";
		}
		else
		{
			push @plan, ['A'];
			push @sql, "BEGIN; INSERT INTO t SELECT -n, tv(-n) FROM nextval('t_seq') n; ROLLBACK; SELECT 'A', 0;";
		}
		push @sql, 'SELECT pg_sleep(0.004) \g /dev/null';
	}
	return (join("\n", @sql) . "\n", \@plan);
}

sub start_writers
{
	my @writers;
	plan_deletes();
	for my $w (0 .. $WRITERS - 1)
	{
		my ($sql, $plan) = writer_script($w, 80);
		my %wr = (plan => $plan, out => '', err => '');
		my $file = "$dir/writer$w.sql";
		open(my $fh, '>', $file) or die "open $file: $!";
		print $fh $sql;
		close($fh);
		$wr{h} = IPC::Run::start(
			[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port,
			  '-d', 'postgres', '-f', $file ],
			'>', \$wr{out}, '2>', \$wr{err});
		push @writers, \%wr;
	}
	return @writers;
}

# Collect what the writers reported; returns (ids that may or may not be
# in t, number of inserts that may have committed unreported).
sub collect_writers
{
	my (@writers) = @_;
	my (%doubt, $unreported);
	$unreported = 0;
	for my $wr (@writers)
	{
		$wr->{h}->finish;
		diag("writer: $wr->{err}") if $ENV{HNSWMM_TEST_DEBUG};
		my @lines = split /\n/, $wr->{out};
		for my $i (0 .. $#lines)
		{
			my ($kind, $val) = split /\|/, $lines[$i];
			die "writer printed '$lines[$i]' for a group of kind $wr->{plan}[$i][0]"
			  unless $kind eq $wr->{plan}[$i][0];
			$live{$val} = 1 if $kind eq 'I';
			delete $live{ $wr->{plan}[$i][1] } if $kind eq 'D';
		}
		my $inflight = $wr->{plan}[ scalar @lines ];
		next unless defined $inflight;
		if ($inflight->[0] eq 'D')
		{
			delete $live{ $inflight->[1] };
			$doubt{ $inflight->[1] } = 1;
		}
		$unreported++ if $inflight->[0] eq 'I';
	}
	return (\%doubt, $unreported);
}

sub verify
{
	my ($index) = @_;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SELECT nodes, live, deleted FROM hnswmm_verify('$index')");
	return $ret == 0 ? "ok $out" : "failed: $err";
}

sub verify_ok
{
	my ($index, $label) = @_;
	my $v = verify($index);
	is($v =~ /^ok/ ? 'ok' : $v, 'ok', $label);
}

sub crash_and_restart
{
	my ($label, %opts) = @_;
	my $killed = hard_crash($node, $opts{on_killed});
	$node->append_conf('postgresql.conf', "wal_level = $opts{wal_level}") if $opts{wal_level};
	my $offset = -s $node->logfile;
	$node->start;
	like(slurp_file($node->logfile, $offset), qr/not properly shut down; automatic recovery in progress/,
		"$label: the server was killed ($killed children) and recovered");
}

# Everything that must hold after a crash.
sub check_after_crash
{
	my ($label, $doubt, $unreported) = @_;

	# the rows: what committed is there, what did not is not
	my %ids = map { $_ => 1 } split /\n/, $node->safe_psql('postgres', 'SELECT id FROM t');
	my @lost = grep { !$ids{$_} } sort { $a <=> $b } keys %live;
	is("@lost", '', "$label: no committed row is lost");
	my @extra = grep { !$live{$_} && !$doubt->{$_} } keys %ids;
	ok(!(grep { $_ <= 0 } @extra) && @extra <= $unreported,
		"$label: besides them only the in-flight inserts may have committed")
	  or diag("unexpected rows: @extra");
	%live = %ids;    # now known

	my $info = $node->safe_psql('postgres', "SELECT nodes - deleted FROM hnswmm_index_info('t_idx')");
	cmp_ok($info, '<', 1000, "$label: $info graph nodes, fewer than ef_search");
	verify_ok('t_idx', "$label: hnswmm_verify passes after the restart");
	my ($found, $total) = self_found($node, 'postgres', 't');
	is($found, $total, "$label: all $total rows find themselves through the index");
	is(index_vs_exact($node, 'postgres', 't', 10, 3, 77, -5, 100003, 999), 5,
		"$label: top 10 of the index equal the exact top 10");
	is($node->safe_psql('postgres', q{
		SET enable_seqscan = off; SET hnswmm.ef_search = 1000;
		SELECT count(*) FROM (SELECT id FROM t ORDER BY emb <-> tv(-100010) LIMIT 1000) s WHERE id <= 0}),
		'0', "$label: no rolled-back row is returned");

	# VACUUM removes the dead and aborted rows' nodes; all still found
	$node->safe_psql('postgres', 'VACUUM t');
	verify_ok('t_idx', "$label: hnswmm_verify passes after VACUUM");
	($found, $total) = self_found($node, 'postgres', 't');
	is($found, $total, "$label: after VACUUM all $total rows find themselves");

	# inserts go on
	my @new = split /\n/, $node->safe_psql('postgres',
		"INSERT INTO t SELECT n, tv(n) FROM nextval('t_seq') n RETURNING id;" x 3);
	$live{$_} = 1 for @new;
	($found, $total) = self_found($node, 'postgres', 't', 'id IN (' . join(',', @new) . ')');
	is("$found/$total", '3/3', "$label: rows inserted after the restart are found");
}

# The unlogged table is reset to empty by a crash; its index too
sub check_unlogged
{
	my ($label, $first) = @_;
	is($node->safe_psql('postgres', 'SELECT count(*) FROM u'), '0', "$label: the unlogged table is empty");
	is($node->safe_psql('postgres', "SELECT nodes FROM hnswmm_index_info('u_idx')"), '0',
		"$label: its index is empty");
	$node->safe_psql('postgres', join('', map {
		"INSERT INTO u SELECT i, tv(i) FROM generate_series($first + $_ * 10, $first + $_ * 10 + 9) i;"
	} 0 .. 14));
	my ($found, $total) = self_found($node, 'postgres', 'u');
	is("$found/$total", '150/150', "$label: inserts into the unlogged table are found");
	verify_ok('u_idx', "$label: hnswmm_verify passes on the unlogged index");
}

sub wait_for
{
	my ($query, $what) = @_;
	for (1 .. 3000)
	{
		my $r = $node->safe_psql('postgres', $query);
		return $r if $r ne '';
		usleep(10_000);
	}
	die "timed out waiting for $what";
}

my $round = 0;

# Rounds 1 and 5: writes, a REINDEX of t_idx, more writes, and a crash a
# random moment later.  wal_level minimal, then replica.
sub round_reindex
{
	my ($label, $wal_level) = @_;
	my @w = start_writers();
	usleep(100_000);
	$node->safe_psql('postgres', 'REINDEX INDEX t_idx');
	usleep(int(rand(300_000)));
	crash_and_restart($label, wal_level => $wal_level);
	check_after_crash($label, collect_writers(@w));
}

# Rounds 2 and 6: writes while CREATE INDEX [CONCURRENTLY] runs on
# another table; the crash comes during the build.
sub round_build
{
	my ($label, $concurrently) = @_;
	my @w = start_writers();
	my ($out, $err) = ('', '');
	my $cc = $concurrently ? 'CONCURRENTLY' : '';
	my $build = IPC::Run::start(
		[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', 'postgres', '-c',
		  "CREATE INDEX $cc b_idx ON b USING hnswmm (emb) WITH (m = 16, ef_construction = 100)" ],
		'>', \$out, '2>', \$err);
	wait_for(q{SELECT phase FROM pg_stat_progress_create_index WHERE phase LIKE 'building index:%'},
		'the build');
	usleep(int(rand(800_000)));
	crash_and_restart($label);
	$build->finish;
	unlike($out, qr/CREATE INDEX/, "$label: the crash came during CREATE INDEX $cc");
	check_after_crash($label, collect_writers(@w));
	if ($concurrently)
	{
		is($node->safe_psql('postgres',
			"SELECT indisvalid FROM pg_index WHERE indexrelid = 'b_idx'::regclass"),
			'f', "$label: the interrupted CREATE INDEX CONCURRENTLY left an invalid index");
		$node->safe_psql('postgres', 'REINDEX INDEX b_idx');
		verify_ok('b_idx', "$label: REINDEX makes it valid and hnswmm_verify passes");
		my ($found, $total) = self_found($node, 'postgres', 'b', 'id % 100 = 0');
		is($found, $total, "$label: $total sampled rows of the rebuilt index find themselves");
		$node->safe_psql('postgres', 'DROP INDEX b_idx');
	}
	else
	{
		is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'b_idx'"),
			'0', "$label: the interrupted index does not exist");
	}
}

# Rounds 3 and 7: VACUUM (slowed down by cost-based delay) removes many
# deleted rows while the writers write; the crash comes while it
# vacuums the index.
sub round_vacuum
{
	my ($label, $wal_level) = @_;
	# 150 of them, or half where fewer rows live (how many of the earlier
	# rounds' in-flight inserts committed varies from run to run)
	my @ids = sort { $a <=> $b } keys %live;
	my $n = @ids >= 300 ? 150 : int(@ids / 2);
	my @victims = @ids[ 0 .. $n - 1 ];
	$node->safe_psql('postgres', 'DELETE FROM t WHERE id IN (' . join(',', @victims) . ')');
	delete $live{$_} for @victims;
	my @w = start_writers();
	my ($out, $err) = ('', '');
	my $vacuum = IPC::Run::start(
		[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
		  '-c', 'SET vacuum_cost_delay = 20', '-c', 'SET vacuum_cost_limit = 1', '-c', 'VACUUM t' ],
		'>', \$out, '2>', \$err);
	wait_for(q{SELECT phase FROM pg_stat_progress_vacuum WHERE phase = 'vacuuming indexes'},
		'VACUUM to reach the index');
	usleep(int(rand(600_000)));
	my $phase = $node->safe_psql('postgres', 'SELECT phase FROM pg_stat_progress_vacuum');
	crash_and_restart($label, wal_level => $wal_level);
	$vacuum->finish;
	is($phase, 'vacuuming indexes', "$label: the crash came while VACUUM vacuumed the index");
	check_after_crash($label, collect_writers(@w));
}

# Round 4 and 8: just writes, crash at a random moment
sub round_plain
{
	my ($label) = @_;
	my @w = start_writers();
	usleep(50_000 + int(rand(400_000)));
	crash_and_restart($label);
	check_after_crash($label, collect_writers(@w));
}

# Exact crash points: gdb stops a backend at a function of hnswmm, WAL up
# to there is flushed (another session commits), and the server is
# killed.  This places a crash between two WAL records of one insert or
# one VACUUM, which random kills rarely hit.
sub exact_point
{
	my ($label, $sql, $location, @commands) = @_;
	my $finish = $location =~ s/^after //;
	my $s = quietly(sub { $node->background_psql('postgres', on_error_stop => 0) });
	# load hnswmm in the backend so that the breakpoint resolves
	my ($pid) = split /\|/, quietly(sub { $s->query_safe('SELECT pg_backend_pid(), tv(1) <-> tv(2)') });
	my $g = gdb_break($pid, $location, @commands);
	$s->{stdin} .= "$sql\n\\echo statement done\n";
	$s->{run}->pump_nb;
	my $gave_up = sub { $s->{run}->pump_nb; $s->{stdout} =~ /statement done/ };
	ok(gdb_wait_hit($g, 30, $gave_up), "$label: the backend stopped at $location")
	  or diag("gdb: $g->{out}\n$g->{err}\nthe crash points name functions of src/: update them when the code changes");
	ok(gdb_finish($g), "$label: the backend stopped again when $location returned")
	  or diag("gdb: $g->{out}\n$g->{err}") if $finish;
	$node->safe_psql('postgres', 'INSERT INTO flush VALUES (1)');
	crash_and_restart($label, on_killed => sub { gdb_end($g) });
	eval { $s->quit };
	check_after_crash($label, {}, 0);
}

sub delete_some
{
	my ($n) = @_;
	my @ids = sort { $a <=> $b } keys %live;
	$n = int(@ids / 2) if $n > @ids / 2;
	my @victims = @ids[ 0 .. $n - 1 ];
	$node->safe_psql('postgres', 'DELETE FROM t WHERE id IN (' . join(',', @victims) . ')');
	delete $live{$_} for @victims;
}

SKIP:
{
	skip 'gdb is not installed', 1 unless have_gdb();
	$node->safe_psql('postgres', q{
		CREATE TABLE flush (x int);
		CREATE TABLE e (id bigint PRIMARY KEY, emb vector(16));
		CREATE INDEX e_idx ON e USING hnswmm (emb) WITH (m = 8, ef_construction = 32);
	});
	my $id = 200001;
	exact_point('insert, before its node is appended',
		"INSERT INTO t VALUES ($id, tv($id));", 'hnswmm_append_node');
	$id++;
	exact_point('insert, right after its node is appended',
		"INSERT INTO t VALUES ($id, tv($id));", 'after hnswmm_append_node');
	$id++;
	exact_point('insert appended, not linked yet',
		"INSERT INTO t VALUES ($id, tv($id));", 'hnswmm_add_links');
	$id++;
	exact_point('insert half linked',
		"INSERT INTO t VALUES ($id, tv($id));", 'hnswmm_replace_neighbors', 'ignore 1 3');
	exact_point('first insert into an empty index, halfway through creating its first extent',
		'INSERT INTO e VALUES (1, tv(1));', 'GenericXLogFinish', 'ignore 1 10');
	exact_point('first insert into an empty index, before its node is appended',
		'INSERT INTO e VALUES (1, tv(1));', 'hnswmm_append_node');
	exact_point('first insert into an empty index, right after its node is appended',
		'INSERT INTO e VALUES (1, tv(1));', 'after hnswmm_append_node');
	verify_ok('e_idx', 'first insert into an empty index: hnswmm_verify passes after the restart');
	$node->safe_psql('postgres', 'INSERT INTO e VALUES (2, tv(2)), (3, tv(3))');
	verify_ok('e_idx', 'first insert into an empty index: hnswmm_verify passes after more inserts');
	my ($found, $total) = self_found($node, 'postgres', 'e');
	is("$found/$total", '2/2', 'first insert into an empty index: later rows are found');

	delete_some(60);
	exact_point('VACUUM marking nodes dead', 'VACUUM t;',
		'after hnswmm_mark_dead');
	delete_some(60);
	exact_point('VACUUM repairing neighbour lists', 'VACUUM t;',
		'hnswmm_replace_neighbors', 'ignore 1 10');
	delete_some(60);
	exact_point('VACUUM taking nodes off the ring', 'VACUUM t;',
		'hnswmm_unlink_from_ring', 'ignore 1 10');
}

round_reindex('crash 1 (minimal, after REINDEX)');
check_unlogged('crash 1', 1000);
round_build('crash 2 (minimal, CREATE INDEX)', 0);
check_unlogged('crash 2', 2000);
round_vacuum('crash 3 (minimal, VACUUM)', 'replica');
round_plain('crash 4 (replica, writes)');
round_reindex('crash 5 (replica, after REINDEX)');
round_build('crash 6 (replica, CREATE INDEX CONCURRENTLY)', 1);
round_vacuum('crash 7 (replica, VACUUM)');
round_plain('crash 8 (replica, writes)');
check_unlogged('crash 8', 3000);

is(server_crashed($node), '', 'no backend died of a signal other than our SIGKILLs');
$node->stop;
done_testing();
