# A page of the index's file that cannot be read through the mapping is an
# ERROR for the query that touched it, not a crash of the cluster.
#
# Scans read vectors through a read-only mapping of the index's files;
# reading a mapped page past the end of the file (or one the disk cannot
# read) raises SIGBUS, which would kill the backend, and the postmaster
# would then restart every session.  Here the index's file is cut short
# from outside the server, under a session that has it mapped and under a
# fresh one: each query gets SQLSTATE XX001 naming the index, the server
# keeps running (same postmaster, other sessions unharmed), and REINDEX
# makes the index whole again.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = hnswmm_node('mapped_read_errors');
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->restart;
$node->safe_psql('postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, emb vector(64));
	INSERT INTO t SELECT i, array_agg(sin(i * k) ORDER BY k)::real[]
	FROM generate_series(1, 3000) i, generate_series(1, 64) k GROUP BY i;
	CREATE INDEX t_idx ON t USING hnswmm (emb);
	CREATE TABLE other (id int);
	INSERT INTO other VALUES (1);
	CHECKPOINT;
});
my $query = q{SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY emb <-> (SELECT emb FROM t WHERE id = 7) LIMIT 10) s};
my $pm_pid = $node->safe_psql('postgres', 'SELECT pid FROM pg_stat_activity WHERE backend_type = \'checkpointer\'');
is($node->safe_psql('postgres', "SELECT flushed = nodes FROM hnswmm_index_info('t_idx')"), 't',
	'every vector is read through the mapping');

# a session that has the file mapped already
my $s = quietly(sub { $node->background_psql('postgres', on_error_stop => 0) });
is(quietly(sub { $s->query_safe($query) }), '10', 'a scan answers before the damage');

# cut the file to its first 16 pages: the graph pages stay in shared
# buffers (prewarmed), the vectors past that are gone from the file
$node->safe_psql('postgres', "SELECT hnswmm_prewarm('t_idx')");
my $file = $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('t_idx')");
truncate($file, 16 * 8192) or die "truncate $file: $!";

my $out = quietly(sub { $s->query("\\set VERBOSITY verbose\n$query") });
like($s->{stderr}, qr/ERROR:  XX001: could not read the vectors of index "t_idx" through its mapping/,
	'the mapped session gets XX001 naming the index');
$s->{stderr} = '';
$out = quietly(sub { $s->query($query) });
like($s->{stderr}, qr/could not read the vectors of index "t_idx"/,
	'and again on the next scan (the damaged mapping is not kept)');
$s->{stderr} = '';
is(quietly(sub { $s->query_safe('SELECT count(*) FROM other') }), '1',
	'the session goes on with other work');
quietly(sub { $s->quit });

my ($rc, $stdout, $stderr) = $node->psql('postgres', "\\set VERBOSITY verbose\n$query");
like($stderr, qr/ERROR:  XX001: could not read the vectors of index "t_idx" through its mapping/,
	'a new session gets XX001 too');
is($node->safe_psql('postgres', 'SELECT pid FROM pg_stat_activity WHERE backend_type = \'checkpointer\''),
	$pm_pid, 'the server was not restarted (the same checkpointer)');
unlike(slurp_file($node->logfile), qr/terminated by signal|server process .* was terminated/,
	'no backend died');

$node->safe_psql('postgres', 'REINDEX INDEX t_idx');
is($node->safe_psql('postgres', $query), '10', 'after REINDEX the index answers');
my ($found, $total) = self_found($node, 'postgres', 't', 'id % 100 = 0');
is($found, $total, "after REINDEX rows find themselves ($found of $total)");

$node->stop;
is(server_crashed($node), '', 'no crash');
done_testing();
