# CREATE INDEX with the server inside a memory control group whose page
# cache holds about a third of the vector bytes (40,000 clustered vectors
# of 256 dimensions, 41 MB; the limit is what the server held before, plus
# 16 MB for the build's own memory, plus that third):
#   - the build finishes and nobody is OOM-killed, serial and parallel;
#   - the serial build reads the vectors through the mapping from disk
#     about once (the backend's major page faults at most the 4 kB pages
#     of vectors; 4,972 faults for 10,260 pages when this test was
#     written): linking the rows in heap order, as builds did before they
#     numbered them cluster by cluster, read at random all over the file
#     and faulted 14,417 times;
#   - recall@10 at ef_search 100 of the capped builds is within 0.01 of
#     the same build's without the limit, and hnswmm_verify passes.
#
# make test creates the group (it needs root, and cgroup v2's memory
# controller or a cgroup v1 memory hierarchy), gives it to the server's
# user and runs the TAP tests in its member "tests"; HNSWMM_TAP_MEMCG names
# it.  This test moves the server into a member of its own, "server".
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $memcg = $ENV{HNSWMM_TAP_MEMCG};
plan skip_all => 'no memory control group to divide (make test makes one when it runs as '
  . 'root where cgroup v2 has the memory controller or cgroup v1 a memory hierarchy)'
  unless defined $memcg && -d "$memcg/tests";

my $ROWS = 40_000;
my $DIM = 256;
my $VECTOR_BYTES = $ROWS * $DIM * 4;
my $BUILD_MEMORY = 16 * 2**20;
my $EF_SEARCH = 100;
my $v2 = -e "$memcg/cgroup.controllers";
my $group = "$memcg/server";

sub put
{
	my ($file, $text) = @_;
	open(my $fh, '>', $file) or die "open $file: $!";
	print $fh $text or die "write $file: $!";
	close($fh) or die "write $file: $!";
}

sub group_file
{
	my ($v2name, $v1name) = @_;
	my $path = "$group/" . ($v2 ? $v2name : $v1name);
	open(my $fh, '<', $path) or die "open $path: $!";
	local $/;
	my $text = <$fh>;
	close($fh);
	return $text;
}

sub set_limit
{
	my ($bytes) = @_;
	put($v2 ? "$group/memory.max" : "$group/memory.limit_in_bytes",
		defined $bytes ? "$bytes\n" : ($v2 ? "max\n" : "-1\n"));
}

# What the group holds that reclaim cannot take: processes' own memory and
# shared memory (shared_buffers, the graph of a parallel build), not the
# page cache
sub unreclaimable
{
	my $stat = group_file('memory.stat', 'memory.stat');
	my $sum = 0;
	$sum += $1 while $stat =~ /^(?:anon|rss|shmem) (\d+)$/mg;
	return $sum;
}

sub oom_kills
{
	my ($kills) = group_file('memory.events', 'memory.oom_control') =~ /^oom_kill (\d+)/m;
	return $kills // 0;
}

mkdir $group or die "mkdir $group: $!" unless -d $group;
my $node = hnswmm_node('capped');
$node->append_conf('postgresql.conf', <<'CONF');
shared_buffers = 16MB
maintenance_work_mem = 64MB
max_parallel_maintenance_workers = 0
autovacuum = off
CONF
# the server (and every backend it starts) in the group, this script not
put("$group/cgroup.procs", "$$\n");
$node->restart;
put("$memcg/tests/cgroup.procs", "$$\n");

# 40 clusters of 1,000 vectors; 50 queries from the same clusters
$node->safe_psql('postgres', qq{
	SELECT setseed(0.25);
	CREATE TABLE centers AS
		SELECT c, array_agg(random() * 8 ORDER BY j) AS v
		FROM generate_series(0, 39) c, generate_series(1, $DIM) j GROUP BY c;
	CREATE TABLE items (id int, emb vector($DIM));
	INSERT INTO items
		SELECT i, (SELECT array_agg(v[j] + random() - 0.5 ORDER BY j)
				   FROM generate_series(1, $DIM) j)::vector
		FROM generate_series(1, $ROWS) i JOIN centers ON c = i % 40;
	CREATE TABLE queries AS
		SELECT q, (SELECT array_agg(v[j] + random() - 0.5 ORDER BY j)
				   FROM generate_series(1, $DIM) j)::vector AS emb
		FROM generate_series(1, 50) q JOIN centers ON c = q * 7 % 40;
	VACUUM ANALYZE items;
	CREATE TABLE truth AS
		SELECT q, id FROM queries,
			LATERAL (SELECT id FROM items ORDER BY emb <-> queries.emb LIMIT 10) t;
});

sub recall
{
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET hnswmm.ef_search = $EF_SEARCH;
		SELECT round(avg(hits) / 10, 4) FROM queries,
			LATERAL (SELECT count(*) AS hits
					 FROM (SELECT id FROM items ORDER BY emb <-> queries.emb LIMIT 10) t
					 WHERE id IN (SELECT id FROM truth WHERE truth.q = queries.q)) h;
	});
}

# The backend's major page faults during a CREATE INDEX
sub build
{
	my ($with) = @_;
	return $node->safe_psql('postgres', qq{
		DROP INDEX IF EXISTS items_emb;
		SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 12)::bigint AS before \\gset
		CREATE INDEX items_emb ON items USING hnswmm (emb vector_l2_ops) $with;
		SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 12)::bigint - :before;
	});
}

build('');
my $free_recall = recall();
cmp_ok($free_recall, '>=', 0.9, "recall\@10 without a limit: $free_recall");

# what the server holds besides the page cache, the build's own memory
# (graph and k-means sample), and a third of the vectors
my $base = unreclaimable();
my $limit = $base + $BUILD_MEMORY + int($VECTOR_BYTES / 3);
set_limit($limit);
note sprintf('memory limit %.1f MB: %.1f MB besides the page cache, %.1f MB for the build,'
	  . ' a third of %.1f MB of vectors',
	$limit / 2**20, $base / 2**20, $BUILD_MEMORY / 2**20, $VECTOR_BYTES / 2**20);

my $faults = build('');
my $vector_pages = $node->safe_psql('postgres',
	q{SELECT vector_bytes / 4096 FROM hnswmm_index_info('items_emb')});
note "the capped build: $faults major page faults, $vector_pages pages of vectors";
cmp_ok($faults, '<=', $vector_pages,
	"the capped build read the vectors' $vector_pages pages from disk $faults times");
my $capped_recall = recall();
cmp_ok($capped_recall, '>=', $free_recall - 0.01,
	"recall\@10 of the capped build: $capped_recall (without the limit $free_recall)");
like($node->safe_psql('postgres', q{SELECT * FROM hnswmm_verify('items_emb')}),
	qr/^$ROWS\|$ROWS\|0\|/, 'hnswmm_verify passes on the capped build: every row a live node');

$node->safe_psql('postgres', 'ALTER SYSTEM SET max_parallel_maintenance_workers = 2');
$node->reload;
build("WITH (quantization = 'sq8')");
my $parallel_recall = recall();
cmp_ok($parallel_recall, '>=', $free_recall - 0.01,
	"recall\@10 of a capped parallel sq8 build: $parallel_recall");

is(oom_kills(), 0, 'nothing in the group was OOM-killed');
set_limit(undef);
$node->stop;
rmdir $group;
done_testing();
