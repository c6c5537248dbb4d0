# Every live row stays reachable through churn.
#
# 20,000 rows of 32 random dimensions; four clients insert, delete and
# search for 20 s (CHURN_SECONDS) while a fifth runs VACUUM every 5 s.
# Pruning of full neighbour lists, by inserts and by VACUUM's repairs, can
# take a node's last incoming link; then only the ring reaches it, and a
# search finds it only by walking most of the graph.  After a final
# VACUUM, hnswmm_verify must count no node unreachable through neighbour
# lists, and every live row must be its own nearest neighbour through the
# index at the default ef_search.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $seconds = $ENV{CHURN_SECONDS} // 20;
my $node = hnswmm_node('churn');
$node->append_conf('postgresql.conf', "autovacuum = off\nlog_statement = none\n");
$node->restart;
my $dir = tempdir_abs();

$node->safe_psql('postgres', q{
	CREATE FUNCTION rv() RETURNS vector VOLATILE LANGUAGE sql AS
		$$ SELECT array_agg(random())::real[]::vector FROM generate_series(1, 32) $$;
	SELECT setseed(0.25);
	CREATE TABLE churn (id bigserial PRIMARY KEY, emb vector(32));
	INSERT INTO churn (emb) SELECT rv() FROM generate_series(1, 20000);
	CREATE INDEX churn_idx ON churn USING hnswmm (emb vector_l2_ops);
});
pass('20,000 rows and their index');

my $insert = sql_file($dir, 'insert', "INSERT INTO churn (emb) SELECT rv();\n");
my $delete = sql_file($dir, 'delete', q{
\set k random(1, 1000000)
DELETE FROM churn WHERE id = (SELECT id FROM churn WHERE id >= (SELECT max(id) FROM churn) * :k / 1000000 ORDER BY id LIMIT 1);
});
my $search = sql_file($dir, 'search',
	"SELECT id FROM churn ORDER BY emb <-> rv() LIMIT 10;\n");
my $vacuum = sql_file($dir, 'vacuum', "VACUUM churn;\n\\sleep 5 s\n");

sub pgbench
{
	my ($clients, @scripts) = @_;
	my %run = (out => '', err => '');
	$run{h} = IPC::Run::start(
		[ 'pgbench', '-n', '-c', $clients, '-j', 1, '-T', $seconds,
		  '-h', $node->host, '-p', $node->port, @scripts, 'postgres' ],
		'>', \$run{out}, '2>', \$run{err}, IPC::Run::timeout($seconds + 300));
	return \%run;
}
my $mix = pgbench(4, '-f', "$insert\@4", '-f', "$delete\@4", '-f', "$search\@2");
my $vac = pgbench(1, '-f', $vacuum);
for my $run ($mix, $vac)
{
	$run->{h}->finish;
	like($run->{out}, qr/^number of failed transactions: 0 /m, 'pgbench: no transaction failed')
	  or diag($run->{err});
}
note($node->safe_psql('postgres', q{
	SELECT count(*) || ' rows, ' || i.nodes || ' nodes, ' || i.deleted || ' deleted'
	FROM churn, hnswmm_index_info('churn_idx') i GROUP BY i.nodes, i.deleted}));

# VACUUM leaves the dead rows of a heap page it cannot cleanup-lock at once
# (the background writer may hold a pin while it writes the page), and
# their index entries with them, which hnswmm_verify then counts as live:
# VACUUM again until it has removed them all (it says so in VERBOSE:
# "tuples missed: N dead from M pages not removed due to cleanup lock
# contention").  INDEX_CLEANUP ON: with dead rows on under 2% of the
# pages VACUUM may skip the indexes and leave the rows as dead line
# pointers (the bypass of PostgreSQL 14+), their index entries live.
my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM churn');
my ($live, $unreachable);
my $vacuums = 0;
while ($vacuums < 10)
{
	my ($ret, $out, $err) = $node->psql('postgres', 'VACUUM (VERBOSE, INDEX_CLEANUP ON) churn');
	$vacuums++;
	note("VACUUM $vacuums: $1") if $err =~ /(tuples missed: [^\n]*)/;
	($live, $unreachable) = split / /, $node->safe_psql('postgres', q{
		SELECT live || ' ' || unreachable FROM hnswmm_verify('churn_idx')});
	last if $live == $rows;
}
is($live, $rows, "hnswmm_verify passes and counts the live rows (after $vacuums VACUUMs)");
is($unreachable, 0, 'after VACUUM no node is unreachable through neighbour lists');

my $missed = $node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET enable_bitmapscan = off;
	SELECT count(*) FILTER (WHERE (SELECT i.id FROM churn i ORDER BY i.emb <-> o.emb LIMIT 1) <> o.id)
	       || ' of ' || count(*)
	FROM churn o});
like($missed, qr/^0 of /, "every live row is its own nearest neighbour at the default ef_search ($missed missed)");

is(server_crashed($node), '', 'no crash');
$node->stop;
done_testing();
