# Recall of the index on real data: fashion-mnist, 20,000 base vectors and
# 200 queries, m = 16, ef_construction = 64, recall@10 at ef_search = 40
# against the exact answer: after a build, after inserting the last 5,000
# rows one by one, after deleting 20% and VACUUM, with binary codes, and
# for cosine distance.
# Then binary codes on Gaussian vectors of 128 dimensions, where 128 code
# bits estimate coarsely: with the default re-ranking their recall must
# stay within 0.01 of an index without codes.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = hnswmm_node('recall');
my $base = fmnist_copy_file('train', 0, 20000);
my $queries = fmnist_copy_file('t10k', 0, 200);

# STORAGE PLAIN: fashion-mnist's zeros make pglz compress its vectors, and
# the exact top 10s below would decompress a vector for every distance
# (a sequential scan then takes 40 s instead of 2)
$node->safe_psql('postgres', qq{
	CREATE TABLE fm (id int PRIMARY KEY, emb vector(784));
	ALTER TABLE fm ALTER emb SET STORAGE PLAIN;
	COPY fm FROM '$base';
	CREATE TABLE q (qid int PRIMARY KEY, emb vector(784));
	ALTER TABLE q ALTER emb SET STORAGE PLAIN;
	COPY q FROM '$queries';
	CREATE TABLE fm15 (LIKE fm INCLUDING STORAGE);
	INSERT INTO fm15 SELECT * FROM fm WHERE id < 15000;
});

# exact top 10 of each query, by a sequential scan
sub truth
{
	my ($table, $op, $name) = @_;
	$node->safe_psql('postgres', qq{
		SET enable_indexscan = off; SET enable_bitmapscan = off;
		CREATE TABLE $name AS SELECT q.qid,
			ARRAY(SELECT id FROM $table f ORDER BY f.emb $op q.emb LIMIT 10) AS ids FROM q;
	});
}

sub recall
{
	my ($table, $op, $truth, $settings) = @_;
	$settings //= '';
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET hnswmm.ef_search = 40; $settings
		SELECT round(avg(cardinality(ARRAY(
			SELECT unnest(t.ids) INTERSECT
			SELECT id FROM (SELECT id FROM $table f ORDER BY f.emb $op q.emb LIMIT 10) s
		))) / 10.0, 4)
		FROM q JOIN $truth t USING (qid);
	});
}

truth('fm', '<->', 'truth_l2');

$node->safe_psql('postgres',
	'CREATE INDEX fm_l2 ON fm USING hnswmm (emb vector_l2_ops) WITH (m = 16, ef_construction = 64)');
my $r = recall('fm', '<->', 'truth_l2');
cmp_ok($r, '>=', 0.98, "recall\@10 after the build is $r");
my $plan = $node->safe_psql('postgres',
	'SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM fm ORDER BY emb <-> (SELECT emb FROM q LIMIT 1) LIMIT 10');
like($plan, qr/Index Scan using fm_l2/, 'the recall queries use the index');

# build over 15,000 rows, then insert the last 5,000 one statement each
$node->safe_psql('postgres', q{
	CREATE INDEX fm15_l2 ON fm15 USING hnswmm (emb vector_l2_ops) WITH (m = 16, ef_construction = 64);
	DO $$ BEGIN
		FOR i IN 15000..19999 LOOP
			INSERT INTO fm15 SELECT * FROM fm WHERE id = i;
		END LOOP;
	END $$;
});
is($node->safe_psql('postgres', "SELECT nodes FROM hnswmm_index_info('fm15_l2')"),
	'20000', 'the index holds all 20,000 rows');
$r = recall('fm15', '<->', 'truth_l2');
cmp_ok($r, '>=', 0.98, "recall\@10 after 5,000 single-row inserts is $r");

# delete 20% and VACUUM
$node->safe_psql('postgres', 'DELETE FROM fm WHERE id % 5 = 0; VACUUM fm;');
truth('fm', '<->', 'truth_l2_after_delete');
$r = recall('fm', '<->', 'truth_l2_after_delete');
cmp_ok($r, '>=', 0.98, "recall\@10 after deleting 20% and VACUUM is $r");
my $verify = $node->safe_psql('postgres', "SELECT live, deleted FROM hnswmm_verify('fm_l2')");
is($verify, '16000|4000', 'hnswmm_verify counts the live and deleted nodes');

# binary codes, re-ranking few candidates: each code is taken relative to
# the nearest of the index's centers, which on clustered data like this
# estimates distances far better than one center for all (with one, the
# same checks gave 0.799 and 0.929)
$node->safe_psql('postgres', q{
	DROP INDEX fm_l2;
	CREATE INDEX fm_bin ON fm USING hnswmm (emb vector_l2_ops) WITH (quantization = 'binary');
});
is($node->safe_psql('postgres', "SELECT centers FROM hnswmm_index_info('fm_bin')"),
	'16', 'the binary index keeps a center per 1,000 vectors');
$r = recall('fm', '<->', 'truth_l2_after_delete', 'SET hnswmm.rerank = 10;');
cmp_ok($r, '>=', 0.84, "binary codes, 10 candidates re-ranked: recall\@10 $r");
$r = recall('fm', '<->', 'truth_l2_after_delete', 'SET hnswmm.rerank = 15;');
cmp_ok($r, '>=', 0.95, "binary codes, 15 candidates re-ranked: recall\@10 $r");
is($node->safe_psql('postgres', "SELECT live FROM hnswmm_verify('fm_bin')"), '16000',
	'hnswmm_verify checks the codes against the centers');

# cosine distance on normalized data
$node->safe_psql('postgres', q{
	CREATE TABLE fmn (LIKE fm15 INCLUDING STORAGE);
	INSERT INTO fmn SELECT id, l2_normalize(emb) FROM fm15;
	CREATE INDEX ON fmn USING hnswmm (emb vector_cosine_ops) WITH (m = 16, ef_construction = 64);
});
truth('fmn', '<=>', 'truth_cos');
$r = recall('fmn', '<=>', 'truth_cos');
cmp_ok($r, '>=', 0.98, "recall\@10 for cosine distance is $r");

# 20,000 Gaussian vectors of 128 dimensions and 200 queries (Box-Muller)
$node->safe_psql('postgres', q{
	SELECT setseed(0.42);
	CREATE FUNCTION gaussian128(i int) RETURNS vector LANGUAGE sql AS
		'SELECT array_agg(sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::vector
		 FROM generate_series(1, 128) WHERE i > 0';
	CREATE TABLE g (id int PRIMARY KEY, emb vector(128));
	INSERT INTO g SELECT i, gaussian128(i) FROM generate_series(1, 20000) i;
	CREATE TABLE gq (qid int PRIMARY KEY, emb vector(128));
	INSERT INTO gq SELECT i, gaussian128(i) FROM generate_series(1, 200) i;
	SET enable_indexscan = off; SET enable_bitmapscan = off;
	CREATE TABLE truth_g AS SELECT gq.qid,
		ARRAY(SELECT id FROM g ORDER BY g.emb <-> gq.emb LIMIT 10) AS ids FROM gq;
});

sub gaussian_recall
{
	my ($ef) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET hnswmm.ef_search = $ef;
		SELECT round(avg(cardinality(ARRAY(
			SELECT unnest(t.ids) INTERSECT
			SELECT id FROM (SELECT id FROM g ORDER BY g.emb <-> gq.emb LIMIT 10) s
		))) / 10.0, 4)
		FROM gq JOIN truth_g t USING (qid);
	});
}

my %plain;
$node->safe_psql('postgres', 'CREATE INDEX g_idx ON g USING hnswmm (emb vector_l2_ops)');
$plain{$_} = gaussian_recall($_) for (20, 40);
$node->safe_psql('postgres',
	"DROP INDEX g_idx; CREATE INDEX g_idx ON g USING hnswmm (emb vector_l2_ops) WITH (quantization = 'binary')");
for my $ef (20, 40)
{
	my $binary = gaussian_recall($ef);
	cmp_ok($binary, '>=', $plain{$ef} - 0.01,
		"128-dimension Gaussian data, ef_search $ef: binary recall\@10 $binary, none $plain{$ef}");
}

$node->stop;
done_testing();
