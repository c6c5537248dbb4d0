# Limits and cancellation.
#
#   - statement_timeout and pg_cancel_backend stop a long CREATE INDEX
#     (120,000 x 64 dimensions), a VACUUM of a large index (in its index
#     phase) and a long scan (ef_search = 1000, an iterative scan with a
#     high max_scan_tuples and a filter that never matches) within a few
#     seconds.  Nothing stays behind: no index, no relation file, no
#     mapping of a removed file in the backend, and the next statements
#     work; a cancelled VACUUM leaves an index that hnswmm_verify passes.
#   - A full disk during CREATE INDEX and INSERT (a tablespace on a small
#     filesystem, given in HNSWMM_SMALL_FS; skipped without it): a clean
#     ERROR 53100, nothing left behind, the index still sound.
#   - ef_search = 1000 works; m = 100 with 16,000 dimensions works;
#     maintenance_work_mem at its minimum (1MB) builds or fails cleanly.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# "Promptly": seconds from the cancel (or the timeout) to the error
my $PROMPT = $ENV{HNSWMM_PROMPT_SECONDS} // 5;

my $node = hnswmm_node('limits');
quiet_log($node);
my $log_start = log_size($node);
$node->safe_psql('postgres', 'ALTER DATABASE postgres SET jit = off');

my $random64 = 'ARRAY(SELECT random() FROM generate_series(1, 64) WHERE g > 0)::real[]::vector';
$node->safe_psql('postgres', qq{
	CREATE TABLE big (id int, category int, emb vector(64));
	INSERT INTO big SELECT g, g % 10, $random64 FROM generate_series(1, 120000) g;
	CREATE TABLE big2 (id int, category int, emb vector(64));
	INSERT INTO big2 SELECT * FROM big;
	VACUUM ANALYZE big;
	VACUUM ANALYZE big2;
});

# Run $sql in a session of its own in the background, named $app
sub bg_start
{
	my ($app, $sql) = @_;
	my %b = (out => '', err => '', app => $app);
	local $ENV{PGAPPNAME} = $app;
	$b{h} = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
		  '-c', 'SET jit = off', '-c', $sql ],
		'>', \$b{out}, '2>', \$b{err},
		IPC::Run::timeout(600));
	return \%b;
}

# Poll $sql until it returns a row with true; returns its pid column or undef
sub wait_for
{
	my ($sql, $seconds) = @_;
	my $deadline = time() + ($seconds // 120);
	while (time() < $deadline)
	{
		my $res = $node->safe_psql('postgres', $sql);
		return $res if $res ne '';
		usleep(20_000);
	}
	return undef;
}

# Cancel the backend of a background session; returns (seconds to stop, stderr)
sub cancel_and_wait
{
	my ($b, $pid) = @_;
	my $t0 = time();
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	eval { $b->{h}->finish };
	return (time() - $t0, $b->{err});
}

# Run $sql with a statement_timeout of $ms; returns (seconds past the
# timeout, stderr)
sub timed_out
{
	my ($sql, $ms, $session_sql) = @_;
	my $t0 = time();
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET statement_timeout = '${ms}ms';\n$sql;\n" . ($session_sql // ''),
		on_error_stop => 0);
	return (time() - $t0 - $ms / 1000, $err, $out);
}

# Files of relations of database postgres that belong to no relation: an
# aborted CREATE INDEX leaves its first segment truncated to 0 bytes until
# the next checkpoint (md.c keeps the name from being reused), so they
# must all be empty, and gone after a CHECKPOINT.
sub no_stray_files
{
	my ($label, $tsoid) = @_;
	my $dir = defined $tsoid
	  ? (glob($node->data_dir . "/pg_tblspc/$tsoid/PG_*"))[0]
	  : $node->data_dir . '/base';
	$dir .= '/' . $node->safe_psql('postgres',
		"SELECT oid FROM pg_database WHERE datname = 'postgres'");
	my ($stray) = stray_files($node, 'postgres', $tsoid);
	my @full = grep { -s "$dir/$_" } @$stray;
	is(scalar(@full), 0, "$label: files left behind are empty") or diag("@full");
	$node->safe_psql('postgres', 'CHECKPOINT');
	($stray) = stray_files($node, 'postgres', $tsoid);
	is(scalar(@$stray), 0, "$label: no relation file left behind after a checkpoint")
	  or diag("@$stray");
}

sub nothing_left
{
	my ($label, $name) = @_;
	is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = '$name'"),
		'0', "$label: no index $name");
	no_stray_files($label);
	is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_stat_progress_create_index'),
		'0', "$label: no build in progress");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM big WHERE id <= 10'), '10',
		"$label: the next statement works");
}

# Mappings of removed files in a session, after $sql
my $deleted_maps = q{
	SELECT 'deleted maps: ' || count(*) FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\n') l
	WHERE l LIKE '%/base/%' AND l LIKE '%(deleted)%'};

# ---------------------------------------------------------------------
# CREATE INDEX of 120,000 x 64
# ---------------------------------------------------------------------
{
	my ($late, $err, $out) = timed_out('CREATE INDEX big_idx ON big USING hnswmm (emb)', 1500,
		"$deleted_maps;");
	like($err, qr/canceling statement due to statement timeout/,
		'CREATE INDEX: statement_timeout cancels it');
	cmp_ok($late, '<', $PROMPT, sprintf('CREATE INDEX: stopped %.2f s after the timeout', $late));
	like($out, qr/deleted maps: 0/, 'CREATE INDEX: the session maps no removed file afterwards');
	nothing_left('CREATE INDEX after statement_timeout', 'big_idx');

	for my $phase ('loading vectors', 'building graph')
	{
		my $b = bg_start('limits_build', 'CREATE INDEX big_idx ON big USING hnswmm (emb)');
		my $pid = wait_for(qq{
			SELECT pid FROM pg_stat_progress_create_index p JOIN pg_stat_activity a USING (pid)
			WHERE a.application_name = 'limits_build' AND p.phase LIKE '%$phase%'}, 120);
		ok(defined $pid, "CREATE INDEX reaches phase '$phase'");
		SKIP:
		{
			skip "the build never showed '$phase'", 6 unless defined $pid;
			my ($secs, $err2) = cancel_and_wait($b, $pid);
			like($err2, qr/canceling statement due to user request/,
				"CREATE INDEX: pg_cancel_backend cancels it while $phase");
			cmp_ok($secs, '<', $PROMPT, sprintf("CREATE INDEX ($phase): stopped %.2f s after the cancel", $secs));
			nothing_left("CREATE INDEX cancelled while $phase", 'big_idx');
		}
		$b->{h}->kill_kill if $b->{h}->pumpable;
	}
}

# ---------------------------------------------------------------------
# VACUUM of a large index, cancelled in its index phase
# ---------------------------------------------------------------------
$node->safe_psql('postgres', q{
	CREATE INDEX big2_idx ON big2 USING hnswmm (emb) WITH (m = 8, ef_construction = 16);
	DELETE FROM big2 WHERE id % 2 = 0;
});
{
	my $b = bg_start('limits_vacuum', 'VACUUM big2');
	my $pid = wait_for(q{
		SELECT pid FROM pg_stat_progress_vacuum p JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = 'limits_vacuum' AND p.phase = 'vacuuming indexes'}, 120);
	ok(defined $pid, 'VACUUM reaches its index phase');
	SKIP:
	{
		skip 'VACUUM never showed its index phase', 2 unless defined $pid;
		usleep(300_000);    # well into the index's own passes
		my ($secs, $err) = cancel_and_wait($b, $pid);
		like($err, qr/canceling statement due to user request/,
			'VACUUM: pg_cancel_backend cancels it in its index phase');
		cmp_ok($secs, '<', $PROMPT, sprintf('VACUUM: stopped %.2f s after the cancel', $secs));
	}
	$b->{h}->kill_kill if $b->{h}->pumpable;

	my ($rc, $out, $err) = $node->psql('postgres', "SELECT live FROM hnswmm_verify('big2_idx')");
	is($rc, 0, 'after a cancelled VACUUM, hnswmm_verify passes') or diag($err);

	my ($late, $err2) = timed_out('VACUUM big2', 400);
	like($err2, qr/canceling statement due to statement timeout/,
		'VACUUM: statement_timeout cancels it');
	cmp_ok($late, '<', $PROMPT, sprintf('VACUUM: stopped %.2f s after the timeout', $late));
	($rc, $out, $err) = $node->psql('postgres', "SELECT live FROM hnswmm_verify('big2_idx')");
	is($rc, 0, 'after a VACUUM stopped by statement_timeout, hnswmm_verify passes') or diag($err);

	$node->safe_psql('postgres', 'VACUUM big2');
	is($node->safe_psql('postgres', "SELECT live FROM hnswmm_verify('big2_idx')"), '60000',
		'a VACUUM to the end then leaves exactly the 60,000 live rows in the index');
}

# ---------------------------------------------------------------------
# Long scans: ef_search = 1000, iterative, a filter that never matches
# ---------------------------------------------------------------------
my $scan_settings = q{SET enable_seqscan = off; SET hnswmm.ef_search = 1000;
	SET hnswmm.iterative_scan = relaxed_order; SET hnswmm.max_scan_tuples = 100000000;};
# each lateral scan walks the whole graph
my $long_scan = q{SELECT count(*) FROM generate_series(1, 400) q,
	LATERAL (SELECT id FROM big2 WHERE category = -1
	         ORDER BY emb <-> (SELECT emb FROM big2 WHERE id = 2 * q + 1) LIMIT 10) s};
{
	my ($late, $err, $out) = timed_out("$scan_settings $long_scan", 1500, "$deleted_maps;");
	like($err, qr/canceling statement due to statement timeout/, 'scan: statement_timeout cancels it');
	cmp_ok($late, '<', $PROMPT, sprintf('scan: stopped %.2f s after the timeout', $late));

	my $b = bg_start('limits_scan', "$scan_settings $long_scan");
	my $pid = wait_for(q{SELECT pid FROM pg_stat_activity
		WHERE application_name = 'limits_scan' AND query LIKE '%LATERAL%' AND state = 'active'}, 60);
	ok(defined $pid, 'the long scan runs');
	SKIP:
	{
		skip 'the scan did not start', 2 unless defined $pid;
		usleep(1_000_000);
		my ($secs, $err2) = cancel_and_wait($b, $pid);
		like($err2, qr/canceling statement due to user request/, 'scan: pg_cancel_backend cancels it');
		cmp_ok($secs, '<', $PROMPT, sprintf('scan: stopped %.2f s after the cancel', $secs));
	}
	$b->{h}->kill_kill if $b->{h}->pumpable;
	is($node->safe_psql('postgres', "$scan_settings SELECT count(*) FROM (SELECT id FROM big2
		WHERE category = 3 ORDER BY emb <-> (SELECT emb FROM big2 WHERE id = 3) LIMIT 10) s"),
		'10', 'after the cancelled scans a filtered scan works');
}

# ---------------------------------------------------------------------
# Large settings and options
# ---------------------------------------------------------------------
{
	my ($n, $overlap) = split /\|/, $node->safe_psql('postgres', q{
		SET enable_seqscan = off; SET hnswmm.ef_search = 1000; SET hnswmm.iterative_scan = off;
		WITH q AS MATERIALIZED (SELECT emb AS v FROM big2 WHERE id = 7),
		ix AS MATERIALIZED (SELECT id FROM big2 ORDER BY emb <-> (SELECT v FROM q) LIMIT 1000),
		ex AS MATERIALIZED (SELECT id FROM big2 ORDER BY (emb <-> (SELECT v FROM q)) + 0 LIMIT 100)
		SELECT (SELECT count(*) FROM ix), (SELECT count(*) FROM ex WHERE id IN (SELECT id FROM ix))});
	is($n, 1000, 'ef_search = 1000: a scan returns 1,000 rows in one batch');
	# Uniform random 64-dimension data is hard for HNSW: on the same kind of
	# data, hnswlib with m = 8, ef_construction = 16, ef = 1000 and half the
	# rows deleted finds 56-72 of the exact top 100 (64 on average).
	cmp_ok($overlap, '>=', 40, "ef_search = 1000: $overlap of the exact top 100 among them");
}
{
	my $random16k = 'ARRAY(SELECT random() FROM generate_series(1, 16000) WHERE g > 0)::real[]::vector';
	$node->safe_psql('postgres', qq{
		CREATE TABLE wide (id int, emb vector(16000));
		INSERT INTO wide SELECT g, $random16k FROM generate_series(1, 12) g;
		CREATE INDEX wide_idx ON wide USING hnswmm (emb) WITH (m = 100, ef_construction = 200);
		INSERT INTO wide SELECT g, $random16k FROM generate_series(13, 20) g;
	});
	my ($found, $total) = self_found($node, 'postgres', 'wide');
	is("$found/$total", '20/20', 'm = 100, 16,000 dimensions: every row finds itself');
	my ($rc, $out, $err) = $node->psql('postgres',
		"SELECT nodes || ' ' || live FROM hnswmm_verify('wide_idx')");
	is($out, '20 20', 'm = 100, 16,000 dimensions: hnswmm_verify passes') or diag($err);
}
{
	$node->safe_psql('postgres', 'CREATE TABLE mid AS SELECT * FROM big WHERE id <= 30000');
	my ($rc, $out, $err) = $node->psql('postgres', q{
		SET maintenance_work_mem = '1MB';
		CREATE INDEX mid_idx ON mid USING hnswmm (emb);
		SELECT live FROM hnswmm_verify('mid_idx');});
	if ($rc == 0)
	{
		is($out, '30000', 'maintenance_work_mem = 1MB: the build succeeds and hnswmm_verify passes');
	}
	else
	{
		like($err, qr/ERROR:  .*(memory|maintenance_work_mem)/,
			'maintenance_work_mem = 1MB: the build fails cleanly');
		nothing_left('build with maintenance_work_mem = 1MB', 'mid_idx');
	}
}

# ---------------------------------------------------------------------
# A full disk (needs HNSWMM_SMALL_FS: a small filesystem, such as a 20 MB
# tmpfs, that the server's user can write)
# ---------------------------------------------------------------------
sub free_kb
{
	my ($dir) = @_;
	my @df = split /\n/, `df -Pk '$dir' 2>/dev/null`;
	return $df[1] && $df[1] =~ /^\S+\s+\d+\s+\d+\s+(\d+)/ ? $1 : undef;
}

SKIP:
{
	my $fs = $ENV{HNSWMM_SMALL_FS};
	my $free = defined $fs ? free_kb($fs) : undef;
	skip 'full disk: set HNSWMM_SMALL_FS to a small filesystem (say a 20 MB tmpfs) '
	  . 'that the server user can write', 16
	  unless defined $fs && -d $fs && -w $fs && defined $free;
	skip "full disk: $fs has $free kB free, more than the 200 MB this test fills", 16
	  if $free > 200 * 1024;

	my $ts = "$fs/tablespace_$$";
	mkdir $ts or die "mkdir $ts: $!";
	$node->safe_psql('postgres', "CREATE TABLESPACE small LOCATION '$ts'");
	my $tsoid = $node->safe_psql('postgres', "SELECT oid FROM pg_tablespace WHERE spcname = 'small'");

	# 31 MB of vectors into a filesystem of 20 MB
	my ($rc, $out, $err) = $node->psql('postgres', q{\set VERBOSITY verbose
		CREATE INDEX full_idx ON big USING hnswmm (emb) TABLESPACE small});
	like($err, qr/ERROR:  53100: .*No space left on device/,
		'CREATE INDEX on a full disk: ERROR 53100, no space left on device');
	is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'full_idx'"),
		'0', 'CREATE INDEX on a full disk: no index');
	no_stray_files('CREATE INDEX on a full disk', $tsoid);
	cmp_ok(free_kb($fs), '>=', $free - 1024, 'CREATE INDEX on a full disk: the space is free again');

	# An index that fits, then inserts until the disk is full; a ballast
	# table is dropped afterwards to make room again
	$node->safe_psql('postgres', q{
		CREATE TABLE ballast TABLESPACE small AS
			SELECT repeat('x', 1000) AS pad FROM generate_series(1, 3000);
		CREATE TABLE fill (id int, emb vector(64));
		INSERT INTO fill SELECT id, emb FROM big WHERE id <= 5000;
		CREATE INDEX fill_idx ON fill USING hnswmm (emb) TABLESPACE small;});
	my ($full_err, $batches) = ('', 0);
	for my $batch (1 .. 60)
	{
		my $from = 5000 * $batch + 1;
		my $to = $from + 4999;
		($rc, $out, $err) = $node->psql('postgres', qq{\\set VERBOSITY verbose
			INSERT INTO fill SELECT id, emb FROM big WHERE id BETWEEN $from AND $to});
		if ($rc != 0) { $full_err = $err; last; }
		$batches++;
	}
	like($full_err, qr/ERROR:  53100: .*No space left on device/,
		"INSERT on a full disk: ERROR 53100 after $batches batches of 5,000 rows");
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM fill');
	# the rows of the failed INSERT are dead: VACUUM takes them out of the index
	($rc, $out, $err) = $node->psql('postgres', 'VACUUM fill');
	is($rc, 0, 'INSERT on a full disk: VACUUM then works') or diag($err);
	($rc, $out, $err) = $node->psql('postgres', "SELECT live FROM hnswmm_verify('fill_idx')");
	is($out, $rows, "INSERT on a full disk: hnswmm_verify passes and counts the $rows rows")
	  or diag($err);
	my ($found, $total) = self_found($node, 'postgres', 'fill', 'id % 50 = 0');
	cmp_ok($found, '>=', $total * 0.98, "INSERT on a full disk: $found of $total sampled rows find themselves");
	($rc, $out, $err) = $node->psql('postgres',
		'INSERT INTO fill SELECT id, emb FROM big WHERE id BETWEEN 150001 AND 150001');
	ok($rc == 0 || $err =~ /No space left on device/,
		'INSERT on a full disk: a further insert succeeds or fails cleanly') or diag($err);
	ok(!server_crashed($node), 'INSERT on a full disk: no crash');

	# room again: inserts go on where the failed extension stopped
	$node->safe_psql('postgres', 'DROP TABLE ballast');
	($rc, $out, $err) = $node->psql('postgres',
		'INSERT INTO fill SELECT id, emb FROM big WHERE id BETWEEN 160001 AND 162000');
	is($rc, 0, 'after room is made, inserts work again') or diag($err);
	$node->safe_psql('postgres', 'VACUUM fill');
	$rows = $node->safe_psql('postgres', 'SELECT count(*) FROM fill');
	($rc, $out, $err) = $node->psql('postgres', "SELECT live FROM hnswmm_verify('fill_idx')");
	is($out, $rows, "after room is made: hnswmm_verify passes and counts the $rows rows")
	  or diag($err);
	($found, $total) = self_found($node, 'postgres', 'fill', 'id % 50 = 0 OR id > 160000');
	cmp_ok($found, '>=', $total * 0.98, "after room is made: $found of $total sampled rows find themselves");

	$node->safe_psql('postgres', 'DROP TABLE fill');
	($rc, $out, $err) = $node->psql('postgres', 'DROP TABLESPACE small');
	is($rc, 0, 'the tablespace is empty again and can be dropped') or diag($err);
	rmdir $ts;
	cmp_ok(free_kb($fs), '>=', $free - 1024, 'the small filesystem is free again');
}

my @problems = log_problems($node, from => $log_start,
	allow => [ qr/ERROR:  canceling (statement|autovacuum)/, qr/No space left on device/,
			   qr/FATAL:  terminating background worker "parallel worker" due to administrator command/,
			   qr/ERROR:  could not (extend|write)/ ]);
is(scalar(@problems), 0, 'server log: only the expected errors; no warning, crash or leak')
  or diag(join("\n", @problems[0 .. ($#problems < 20 ? $#problems : 19)]));
is(server_crashed($node), '', 'no crash');
$node->stop;
done_testing();
