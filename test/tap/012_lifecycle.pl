# The index's life cycle, as for a built-in index: REINDEX, REINDEX
# CONCURRENTLY (while rows are inserted), ALTER INDEX ... SET TABLESPACE
# (there and back), TRUNCATE (also in the transaction that created the
# table, after scans mapped the index), DROP INDEX, CREATE DATABASE ...
# TEMPLATE with STRATEGY WAL_LOG and FILE_COPY, DROP DATABASE, and
# temporary tables.  After each step the answers are right (every row
# finds itself, top 10 equal the exact top 10), hnswmm_verify passes,
# the old relation file is gone after a CHECKPOINT, and every relation
# file of the database belongs to a relation in pg_class (no stray files)
# and the other way round.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = hnswmm_node('lifecycle');
$node->append_conf('postgresql.conf', "autovacuum = off\nlog_statement = none\n");
$node->restart;
create_tv($node);
my $datadir = $node->data_dir;
my $tsdir = tempdir_abs();

$node->safe_psql('postgres', q{
	CREATE TABLE t (id bigint PRIMARY KEY, emb vector(16));
	INSERT INTO t SELECT i, tv(i) FROM generate_series(1, 500) i;
	CREATE INDEX t_idx ON t USING hnswmm (emb vector_l2_ops) WITH (m = 8, ef_construction = 32);
});
$node->safe_psql('postgres', "CREATE TABLESPACE ts1 LOCATION '$tsdir'");
my $tsoid = $node->safe_psql('postgres', "SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'");

sub verify
{
	my ($db, $index, $label) = @_;
	my ($ret, $out, $err) = $node->psql($db, "SELECT nodes, live FROM hnswmm_verify('$index')");
	is($ret == 0 ? 'ok' : $err, 'ok', "$label: hnswmm_verify passes");
}

# Answers, verify and files of table t in database $db
sub check
{
	my ($label, $db, %opts) = @_;
	$db //= 'postgres';
	my ($found, $total) = self_found($node, $db, 't');
	is($found, $total, "$label: all $total rows find themselves through the index");
	is($total, $opts{rows}, "$label: the table has $opts{rows} rows") if defined $opts{rows};
	is(index_vs_exact($node, $db, 't', 10, 7, 123, 4567, -3, 99999), 5,
		"$label: top 10 of the index equal the exact top 10");
	verify($db, 't_idx', $label);
	$node->safe_psql($db, 'CHECKPOINT');
	my ($stray, $missing) = stray_files($node, $db);
	is("@$stray", '', "$label: no stray relation files");
	is("@$missing", '', "$label: every relation has its file");
	($stray, $missing) = stray_files($node, $db, $tsoid);
	is("@$stray", '', "$label: no stray relation files in the tablespace");
}

sub filepath
{
	my ($db, $rel) = @_;
	return $node->safe_psql($db, "SELECT pg_relation_filepath('$rel')");
}

# The old relfilenode's main file is emptied at commit and removed, with
# its other forks and segments, at the next CHECKPOINT
sub gone
{
	my ($path, $label) = @_;
	ok(!-s "$datadir/$path", "$label: the old file $path is emptied at commit");
	$node->safe_psql('postgres', 'CHECKPOINT');
	my @left = grep { -e $_ } ("$datadir/$path", glob("$datadir/${path}_* $datadir/$path.*"));
	is("@left", '', "$label: the old file $path is gone after CHECKPOINT");
}

check('after CREATE INDEX', 'postgres', rows => 500);

# --- REINDEX
my $old = filepath('postgres', 't_idx');
$node->safe_psql('postgres', 'REINDEX INDEX t_idx');
isnt(filepath('postgres', 't_idx'), $old, 'REINDEX gives the index a new file');
gone($old, 'REINDEX');
check('after REINDEX', 'postgres', rows => 500);

# --- REINDEX CONCURRENTLY while two sessions insert
my $dir = tempdir_abs();
open(my $fh, '>', "$dir/insert.sql") or die $!;
print $fh "INSERT INTO t SELECT n, tv(n) FROM nextval('t_seq') n;\n\\sleep 5 ms\n";
close($fh);
$node->safe_psql('postgres', 'CREATE SEQUENCE t_seq START 1001');
my ($bout, $berr) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '2', '-j', '2', '-t', '100', '-h', $node->host, '-p', $node->port,
	  '-f', "$dir/insert.sql", 'postgres' ],
	'>', \$bout, '2>', \$berr);
$old = filepath('postgres', 't_idx');
$node->safe_psql('postgres', 'REINDEX INDEX CONCURRENTLY t_idx');
$bench->finish;
like($bout, qr/number of failed transactions: 0/, 'rows were inserted during REINDEX CONCURRENTLY');
isnt(filepath('postgres', 't_idx'), $old, 'REINDEX CONCURRENTLY gives the index a new file');
gone($old, 'REINDEX CONCURRENTLY');
check('after REINDEX CONCURRENTLY', 'postgres', rows => 700);

# --- ALTER INDEX ... SET TABLESPACE, there and back
$old = filepath('postgres', 't_idx');
$node->safe_psql('postgres', 'ALTER INDEX t_idx SET TABLESPACE ts1');
my $moved = filepath('postgres', 't_idx');
like($moved, qr{^pg_tblspc/$tsoid/}, 'the index is in the new tablespace');
ok(-f "$datadir/$moved", 'its file is there');
gone($old, 'SET TABLESPACE');
check('in the new tablespace', 'postgres', rows => 700);
$node->safe_psql('postgres', join('', map { "INSERT INTO t VALUES ($_, tv($_));" } 2001 .. 2020));
check('inserts in the new tablespace', 'postgres', rows => 720);
$node->safe_psql('postgres', 'ALTER INDEX t_idx SET TABLESPACE pg_default');
gone($moved, 'SET TABLESPACE back');
check('back in pg_default', 'postgres', rows => 720);

# --- TRUNCATE
my @old = map { filepath('postgres', $_) } ('t', 't_idx');
$node->safe_psql('postgres', 'TRUNCATE t');
is($node->safe_psql('postgres', "SELECT nodes FROM hnswmm_index_info('t_idx')"), '0',
	'TRUNCATE empties the index');
gone($_, 'TRUNCATE') for @old;
$node->safe_psql('postgres', 'INSERT INTO t SELECT i, tv(i) FROM generate_series(3001, 3300) i');
$node->safe_psql('postgres', join('', map { "INSERT INTO t VALUES ($_, tv($_));" } 3301 .. 3400));
check('after TRUNCATE and inserts', 'postgres', rows => 400);

# --- TRUNCATE in the transaction that created the table (the relation
# is truncated in place, same relfilenode), after scans mapped the index
my $out = $node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnswmm.ef_search = 1000;
	BEGIN;
	CREATE TABLE t2 (id bigint PRIMARY KEY, emb vector(16));
	INSERT INTO t2 SELECT i, tv(i) FROM generate_series(1, 300) i;
	CREATE INDEX t2_idx ON t2 USING hnswmm (emb) WITH (m = 8, ef_construction = 32);
	SELECT 'before', count(*) FILTER (WHERE (SELECT i.id FROM t2 i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id), count(*) FROM t2 o;
	SELECT 'node', pg_relation_filenode('t2_idx');
	TRUNCATE t2;
	SELECT 'node', pg_relation_filenode('t2_idx');
	SELECT 'empty', count(*) FROM (SELECT id FROM t2 ORDER BY emb <-> tv(5) LIMIT 10) s;
	INSERT INTO t2 SELECT i, tv(i) FROM generate_series(501, 700) i;
	INSERT INTO t2 VALUES (701, tv(701));
	SELECT 'after', count(*) FILTER (WHERE (SELECT i.id FROM t2 i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id), count(*) FROM t2 o;
	SELECT 'old', count(*) FROM (SELECT id FROM t2 ORDER BY emb <-> tv(5) LIMIT 1000) s WHERE id < 500;
	COMMIT;
});
my %r;
for (split /\n/, $out) { my ($k, @v) = split /\|/; push @{ $r{$k} }, join('/', @v) }
is($r{before}[0], '300/300', 'TRUNCATE in the creating transaction: found before the TRUNCATE');
is($r{node}[0], $r{node}[1], 'TRUNCATE in the creating transaction keeps the relfilenode');
is($r{empty}[0], '0', 'TRUNCATE in the creating transaction: the index is empty');
is($r{after}[0], '201/201', 'TRUNCATE in the creating transaction: new rows are found');
is($r{old}[0], '0', 'TRUNCATE in the creating transaction: no truncated row comes back');
my ($found, $total) = self_found($node, 'postgres', 't2');
is("$found/$total", '201/201', 'TRUNCATE in the creating transaction: found after COMMIT');
verify('postgres', 't2_idx', 'TRUNCATE in the creating transaction');
$node->safe_psql('postgres', join('', map { "INSERT INTO t2 VALUES ($_, tv($_));" } 801 .. 820));
($found, $total) = self_found($node, 'postgres', 't2');
is("$found/$total", '221/221', 'TRUNCATE in the creating transaction: later inserts are found');

# the same with an index built on the empty table
$node->safe_psql('postgres', q{
	BEGIN;
	CREATE TABLE t3 (id bigint PRIMARY KEY, emb vector(16));
	CREATE INDEX t3_idx ON t3 USING hnswmm (emb) WITH (m = 8, ef_construction = 32);
	INSERT INTO t3 VALUES (1, tv(1)), (2, tv(2)), (3, tv(3));
	TRUNCATE t3;
	INSERT INTO t3 SELECT i, tv(i) FROM generate_series(11, 60) i;
	COMMIT;
});
($found, $total) = self_found($node, 'postgres', 't3');
is("$found/$total", '50/50', 'TRUNCATE after inserts into an index built empty, in the creating transaction');
verify('postgres', 't3_idx', 'TRUNCATE of an index built empty');

# --- DROP INDEX
$old = filepath('postgres', 't_idx');
$node->safe_psql('postgres', 'DROP INDEX t_idx');
gone($old, 'DROP INDEX');
my ($stray, $missing) = stray_files($node, 'postgres');
is("@$stray", '', 'DROP INDEX: no stray relation files');
$node->safe_psql('postgres',
	'CREATE INDEX t_idx ON t USING hnswmm (emb vector_l2_ops) WITH (m = 8, ef_construction = 32)');
check('after DROP INDEX and CREATE INDEX', 'postgres', rows => 400);

# --- CREATE DATABASE ... TEMPLATE, both strategies, then DROP DATABASE
$node->safe_psql('postgres', 'DROP TABLE t2, t3');
$node->safe_psql('postgres', 'CREATE DATABASE d_wal TEMPLATE postgres STRATEGY = WAL_LOG');
check('database copied with STRATEGY WAL_LOG', 'd_wal', rows => 400);
$node->safe_psql('d_wal', join('', map { "INSERT INTO t VALUES ($_, tv($_));" } 5001 .. 5030));
check('database copied with WAL_LOG, after inserts', 'd_wal', rows => 430);

$node->safe_psql('postgres', 'CREATE DATABASE d_copy TEMPLATE postgres STRATEGY = FILE_COPY');
check('database copied with STRATEGY FILE_COPY', 'd_copy', rows => 400);
$node->safe_psql('d_copy', join('', map { "INSERT INTO t VALUES ($_, tv($_));" } 5001 .. 5030));
check('database copied with FILE_COPY, after inserts', 'd_copy', rows => 430);
check('the template database is unchanged', 'postgres', rows => 400);

for my $db ('d_wal', 'd_copy')
{
	my $oid = $node->safe_psql('postgres', "SELECT oid FROM pg_database WHERE datname = '$db'");
	ok(-d "$datadir/base/$oid", "$db has its directory");
	$node->safe_psql('postgres', "DROP DATABASE $db");
	ok(!-e "$datadir/base/$oid", "DROP DATABASE $db removes its directory");
}

# --- temporary tables: one session does everything
$out = $node->safe_psql('postgres', q{
	CREATE TEMP TABLE tt (id bigint PRIMARY KEY, emb vector(16));
	INSERT INTO tt SELECT i, tv(i) FROM generate_series(1, 400) i;
	CREATE INDEX tt_idx ON tt USING hnswmm (emb) WITH (m = 8, ef_construction = 32);
	INSERT INTO tt VALUES (401, tv(401)), (402, tv(402));
	INSERT INTO tt VALUES (403, tv(403));
	SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnswmm.ef_search = 1000;
	SELECT 'path', pg_relation_filepath('tt_idx');
	SELECT 'found', count(*) FILTER (WHERE (SELECT i.id FROM tt i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id), count(*) FROM tt o;
	SELECT 'exact', count(*) FILTER (WHERE
		ARRAY(SELECT id FROM tt ORDER BY emb <-> tv(q) LIMIT 10) =
		ARRAY(SELECT id FROM tt ORDER BY (emb <-> tv(q)) + 0, id LIMIT 10))
		FROM generate_series(1, 20) q;
	SELECT 'verify', nodes, live FROM hnswmm_verify('tt_idx');
	DELETE FROM tt WHERE id % 3 = 0;
	VACUUM tt;
	SELECT 'vacuumed', count(*) FILTER (WHERE (SELECT i.id FROM tt i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id), count(*) FROM tt o;
	SELECT 'verify', nodes, live FROM hnswmm_verify('tt_idx');
	REINDEX INDEX tt_idx;
	SELECT 'reindexed', count(*) FILTER (WHERE (SELECT i.id FROM tt i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id), count(*) FROM tt o;
	TRUNCATE tt;
	INSERT INTO tt SELECT i, tv(i) FROM generate_series(1001, 1100) i;
	SELECT 'truncated', count(*) FILTER (WHERE (SELECT i.id FROM tt i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id), count(*) FROM tt o;
	SELECT 'verify', nodes, live FROM hnswmm_verify('tt_idx');
	EXPLAIN (COSTS OFF) SELECT id FROM tt ORDER BY emb <-> tv(1) LIMIT 5;
});
%r = ();
for (split /\n/, $out) { my ($k, @v) = split /\|/; push @{ $r{$k} }, join('/', @v) }
is($r{found}[0], '403/403', 'temporary table: every row finds itself');
is($r{exact}[0], '20', 'temporary table: top 10 equal the exact top 10');
is_deeply($r{verify}, [ '403/403', '403/269', '100/100' ], 'temporary table: hnswmm_verify passes');
is($r{vacuumed}[0], '269/269', 'temporary table: after DELETE and VACUUM every row finds itself');
is($r{reindexed}[0], '269/269', 'temporary table: after REINDEX every row finds itself');
is($r{truncated}[0], '100/100', 'temporary table: after TRUNCATE new rows are found');
like($out, qr/Index Scan using tt_idx/, 'temporary table: the index is scanned');
like($r{path}[0], qr{^base/\d+/t\d+_\d+$}, 'the temporary index has a temporary file');
# the backend removes them as it exits, after the client has gone
my @temp;
for (1 .. 100)
{
	@temp = glob("$datadir/base/*/t[0-9]*_*");
	last unless @temp;
	usleep(100_000);
}
is("@temp", '', 'no temporary relation file is left after the session');

is(server_crashed($node), '', 'no backend died of a signal');
$node->stop;
done_testing();
