# Scale-out with PostgreSQL's own machinery: one table sharded over two
# servers as postgres_fdw foreign partitions of a coordinator's table.
# Each shard answers its own ORDER BY emb <-> q LIMIT k from its hnswmm
# index and the coordinator merges; the answers equal those of a single
# server holding all rows.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;

my @shards = map { hnswmm_node("shard$_") } 1 .. 2;
my $coord = hnswmm_node('coordinator');
my $single = hnswmm_node('single');

my $rows = q{SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 0.53),
	sin(i * 1.7), cos(i * 2.3), sin(i * 0.11), cos(i * 0.07)]::real[]::vector
	FROM generate_series(1, 4000) i};
for my $s (0 .. 1)
{
	$shards[$s]->safe_psql('postgres', qq{
		CREATE TABLE items (id int PRIMARY KEY, emb vector(8));
		INSERT INTO items SELECT * FROM ($rows) r(i, v) WHERE i % 2 = $s;
		CREATE INDEX ON items USING hnswmm (emb);
		ANALYZE items;
	});
}
$single->safe_psql('postgres', qq{
	CREATE TABLE items (id int PRIMARY KEY, emb vector(8));
	INSERT INTO items SELECT * FROM ($rows) r;
	CREATE INDEX ON items USING hnswmm (emb);
	ANALYZE items;
});

my $ddl = q{CREATE EXTENSION postgres_fdw;
	CREATE TABLE items (id int, emb vector(8), shard int) PARTITION BY LIST (shard);};
for my $s (0 .. 1)
{
	my ($host, $port) = ($shards[$s]->host, $shards[$s]->port);
	$ddl .= qq{
	CREATE SERVER shard$s FOREIGN DATA WRAPPER postgres_fdw
		OPTIONS (host '$host', port '$port', dbname 'postgres',
				 extensions 'hnswmm');
	CREATE USER MAPPING FOR CURRENT_USER SERVER shard$s;
	CREATE FOREIGN TABLE items_$s PARTITION OF items FOR VALUES IN ($s)
		SERVER shard$s OPTIONS (table_name 'items');
	CREATE FOREIGN TABLE items_$s\_direct (id int, emb vector(8))
		SERVER shard$s OPTIONS (table_name 'items');};
}
$coord->safe_psql('postgres', $ddl);

my $q = q{'[0.5,0.5,0,0,1,0,0.5,1]'};
# each shard's top 10, ordered and limited on the shard, merged here
my $sharded = qq{
	SELECT id FROM (
		(SELECT id, emb <-> $q AS d FROM items_0_direct ORDER BY emb <-> $q LIMIT 10)
		UNION ALL
		(SELECT id, emb <-> $q AS d FROM items_1_direct ORDER BY emb <-> $q LIMIT 10)
	) s ORDER BY d LIMIT 10};
my $plan = $coord->safe_psql('postgres', "EXPLAIN (VERBOSE, COSTS OFF) $sharded");
my @remote = $plan =~ /Remote SQL: (.*)/g;
is(scalar(@remote), 2, 'one remote query per shard');
like($_, qr/ORDER BY \(emb OPERATOR\(public\.<->\) .*LIMIT 10/,
	'ORDER BY and LIMIT are pushed to the shard') for @remote;

my $want = $single->safe_psql('postgres', qq{
	SET hnswmm.ef_search = 100; SELECT string_agg(id::text, ',') FROM
	(SELECT id FROM items ORDER BY emb <-> $q LIMIT 10) s});
my $got = $coord->safe_psql('postgres', "SELECT string_agg(id::text, ',') FROM ($sharded) s");
is($got, $want, 'the sharded top 10 equals the single-server top 10');

# the shards really use their index
my $shard_plan = $shards[0]->safe_psql('postgres',
	"EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY emb <-> $q LIMIT 10");
like($shard_plan, qr/Index Scan using items_emb_idx/, 'each shard answers from its hnswmm index');

# the partitioned table over the foreign partitions gives the same rows
my $parted = $coord->safe_psql('postgres', qq{
	SELECT string_agg(id::text, ',') FROM
	(SELECT id FROM items ORDER BY emb <-> $q LIMIT 10) s});
is($parted, $want, 'the partitioned table of foreign shards gives the same top 10');
my $parted_plan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items ORDER BY emb <-> $q LIMIT 10");
like($parted_plan, qr/Remote SQL: .*ORDER BY \(emb OPERATOR\(public\.<->\)/,
	'over the partitioned table the ORDER BY is pushed to the shards too');

$_->stop for (@shards, $coord, $single);
done_testing();
