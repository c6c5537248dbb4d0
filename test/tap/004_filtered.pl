# Filtered queries on real data: fashion-mnist with its class labels.
# WHERE filters that keep 50%, 10% and 1% of the rows still return the full
# LIMIT 10 with recall@10 >= 0.95 against the exact filtered answer, through
# an iterative index scan (EXPLAIN ANALYZE shows it).  A partial index on
# the same filter does less work (fewer rows removed by the filter).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest qw(hnswmm_node fmnist_copy_file fmnist_labels);
use PostgreSQL::Test::Utils;
use Test::More;

my $node = hnswmm_node('filtered');
my $base = fmnist_copy_file('train', 0, 20000);
my $queries = fmnist_copy_file('t10k', 0, 50);
my @labels = fmnist_labels('train', 0, 20000);
my $labels = PostgreSQL::Test::Utils::tempdir() . '/labels.copy';
open(my $fh, '>', $labels) or die $!;
print $fh "$_\t$labels[$_]\n" for 0 .. $#labels;
close($fh);
chmod 0644, $labels;

$node->safe_psql('postgres', qq{
	CREATE TABLE fm (id int PRIMARY KEY, emb vector(784));
	COPY fm FROM '$base';
	CREATE TABLE lab (id int, label int);
	COPY lab FROM '$labels';
	ALTER TABLE fm ADD COLUMN label int, ADD COLUMN bucket int;
	UPDATE fm SET label = lab.label, bucket = fm.id % 100 FROM lab WHERE lab.id = fm.id;
	CREATE TABLE q (qid int PRIMARY KEY, emb vector(784));
	COPY q FROM '$queries';
	CREATE INDEX fm_idx ON fm USING hnswmm (emb) WITH (m = 16, ef_construction = 64);
	VACUUM ANALYZE fm;
});

my %filters = (
	'50%' => 'label < 5',
	'10%' => 'label = 3',
	'1%' => 'bucket = 42');

for my $share (sort keys %filters)
{
	my $where = $filters{$share};
	my $kept = $node->safe_psql('postgres',
		"SELECT round(100.0 * count(*) FILTER (WHERE $where) / count(*)) FROM fm");
	my $res = $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET hnswmm.ef_search = 40;
		CREATE TEMP TABLE truth AS SELECT q.qid, ARRAY(
			SELECT id FROM (SELECT * FROM fm OFFSET 0) f WHERE $where
			ORDER BY f.emb <-> q.emb LIMIT 10) AS ids FROM q;
		SELECT sum(cardinality(got)), round(avg(cardinality(ARRAY(
				SELECT unnest(got) INTERSECT SELECT unnest(t.ids)))) / 10.0, 3)
		FROM q JOIN truth t USING (qid),
			LATERAL (SELECT ARRAY(SELECT id FROM fm f WHERE $where
				ORDER BY f.emb <-> q.emb LIMIT 10) AS got) g;
	});
	my ($rows, $recall) = split /\|/, $res;
	is($rows, 500, "$share filter ($where, keeps $kept%): every query gets 10 rows");
	cmp_ok($recall, '>=', 0.95, "$share filter: recall\@10 is $recall");
}

my $plan = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
	SELECT id FROM fm WHERE bucket = 42 ORDER BY emb <-> (SELECT emb FROM q WHERE qid = 1) LIMIT 10;
});
like($plan, qr/Index Scan using fm_idx on fm/, 'EXPLAIN ANALYZE shows the index scan');
my ($removed_full) = $plan =~ /Rows Removed by Filter: (\d+)/;
$node->safe_psql('postgres', 'CREATE INDEX fm_b42 ON fm USING hnswmm (emb) WHERE bucket = 42');
my $plan_partial = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
	SELECT id FROM fm WHERE bucket = 42 ORDER BY emb <-> (SELECT emb FROM q WHERE qid = 1) LIMIT 10;
});
like($plan_partial, qr/Index Scan using fm_b42 on fm/, 'the partial index is chosen for its filter');
my ($removed_partial) = $plan_partial =~ /Rows Removed by Filter: (\d+)/;
$removed_partial //= 0;
cmp_ok($removed_partial, '<', $removed_full,
	"work done: the full index visited $removed_full rejected rows, the partial index $removed_partial");

$node->stop;
done_testing();
