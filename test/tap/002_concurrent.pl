# Concurrent writers: eight sessions insert (and search) at once, then
# insert, delete and VACUUM at once.  Afterwards every live row is found by
# an index scan of its own vector, no deleted row is returned, and
# hnswmm_verify passes.  The table stays below 1,000 rows so that a scan
# with ef_search = 1000 is exhaustive (at most 100 + 8 * 80 + 8 * 30 rows):
# it must find every row the graph
# (with its ring) reaches.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = hnswmm_node('concurrent');
my $dir = tempdir_abs();
my $random = 'SELECT array_agg(random())::real[]::vector FROM generate_series(1, 32)';

$node->safe_psql('postgres', qq{
	CREATE TABLE items (id bigserial PRIMARY KEY, emb vector(32));
	INSERT INTO items (emb)
	SELECT (SELECT array_agg(random())::real[]::vector FROM generate_series(1, 32) WHERE g > 0)
	FROM generate_series(1, 100) g;
	CREATE INDEX items_idx ON items USING hnswmm (emb vector_l2_ops) WITH (m = 8, ef_construction = 32);
});

sub script { return sql_file($dir, @_); }
my $insert = script('insert', "INSERT INTO items (emb) SELECT ($random);\n");
my $search = script('search',
	"SELECT id FROM items ORDER BY emb <-> ($random) LIMIT 10;\n");
my $delete = script('delete',
	"\\set r random(1, 1200)\nDELETE FROM items WHERE id = :r;\n");
my $vacuum = script('vacuum', "VACUUM items;\n");

sub pgbench
{
	my ($label, $transactions, @files) = @_;
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(
		[ 'pgbench', '-n', '-c', '8', '-j', '2', '-t', $transactions,
		  '-h', $node->host, '-p', $node->port, (map { ('-f', $_) } @files), 'postgres' ],
		'>', \$stdout, '2>', \$stderr);
	ok($ok, "pgbench: $label") or diag($stderr);
	like($stdout, qr/number of failed transactions: 0/, "$label: no transaction failed");
}

sub all_found
{
	my ($label) = @_;
	my $res = $node->safe_psql('postgres', q{
		SET enable_seqscan = off; SET hnswmm.ef_search = 1000;
		SELECT count(*) FILTER (WHERE (SELECT i.id FROM items i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id),
			   count(*) FROM items o;
	});
	my ($found, $total) = split /\|/, $res;
	cmp_ok($total, '<', 1000, "$label: $total rows, fewer than ef_search");
	is($found, $total, "$label: all $total rows find themselves through the index");
	my ($nodes, $live) = split /\|/, $node->safe_psql('postgres',
		"SELECT nodes, live FROM hnswmm_verify('items_idx')");
	cmp_ok($live, '>=', $total, "$label: hnswmm_verify passes and counts $live live nodes");
}

pgbench('inserts and searches', 80, "$insert\@9", "$search\@1");
all_found('after concurrent inserts');

pgbench('inserts, deletes and VACUUM', 30, "$insert\@6", "$delete\@3", "$vacuum\@1");
$node->safe_psql('postgres', 'VACUUM items');
all_found('after concurrent deletes and VACUUM');
my $deleted_returned = $node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET hnswmm.ef_search = 1000;
	SELECT count(*) FROM (SELECT id FROM items ORDER BY emb <-> (SELECT emb FROM items LIMIT 1) LIMIT 1000) s
	WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = s.id);
});
is($deleted_returned, '0', 'no deleted row is returned');
is($node->safe_psql('postgres', "SELECT live FROM hnswmm_verify('items_idx')"),
	$node->safe_psql('postgres', 'SELECT count(*) FROM items'),
	'after VACUUM the index counts exactly the live rows');

$node->stop;
done_testing();
