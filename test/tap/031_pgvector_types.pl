# halfvec and sparsevec on real data, and their wire formats.
#
#   - Recall: fashion-mnist (20,000 base vectors, 200 queries), an hnswmm
#     index on a halfvec(784) column (halfvec_l2_ops) has recall@10 within
#     0.005 of the same index on the vector(784) column at ef_search 40,
#     against the exact answers of each type; and pgvector's recipe, an
#     expression index ((emb::halfvec(784)) halfvec_l2_ops) on the vector
#     column, the same.
#   - bit_hamming_ops: pgvector's binary quantization with re-ranking, on
#     an expression index over the vector column, finds what the same
#     recipe with exact Hamming candidates finds (recall@10 within 0.02).
#   - The binary format: COPY ... (FORMAT binary) out and back in gives
#     the same values, and the text format of every value survives
#     halfvec -> text -> halfvec.
#   - sparsevec: fashion-mnist's images are mostly zeros, a sparse vector
#     each; the exact top 10 by each sparsevec distance is the vector
#     distance's, and binary COPY and text keep every value.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = hnswmm_node('halfvec');
my $base = fmnist_copy_file('train', 0, 20000);
my $queries = fmnist_copy_file('t10k', 0, 200);

# STORAGE PLAIN: fashion-mnist's zeros make pglz compress its vectors, and
# the exact answers below would decompress a vector for every distance
$node->safe_psql('postgres', qq{
	CREATE TABLE fm (id int PRIMARY KEY, emb vector(784));
	ALTER TABLE fm ALTER emb SET STORAGE PLAIN;
	COPY fm FROM '$base';
	CREATE TABLE fmh AS SELECT id, emb::halfvec(784) AS emb FROM fm;
	CREATE TABLE q (qid int PRIMARY KEY, emb vector(784));
	ALTER TABLE q ALTER emb SET STORAGE PLAIN;
	COPY q FROM '$queries';
	CREATE TABLE qh AS SELECT qid, emb::halfvec(784) AS emb FROM q;
});

# exact top 10 of each query, by a sequential scan, and the recall of an
# index scan against it (the query expression given, as the index has it)
sub truth
{
	my ($table, $queries, $expr, $name) = @_;
	$node->safe_psql('postgres', qq{
		SET enable_indexscan = off; SET enable_bitmapscan = off;
		CREATE TABLE $name AS SELECT q.qid,
			ARRAY(SELECT id FROM $table f ORDER BY $expr <-> q.emb LIMIT 10) AS ids FROM $queries q;
	});
}

sub recall
{
	my ($table, $queries, $expr, $truth) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET hnswmm.ef_search = 40;
		SELECT round(avg(cardinality(ARRAY(
			SELECT unnest(t.ids) INTERSECT
			SELECT id FROM (SELECT id FROM $table f ORDER BY $expr <-> q.emb LIMIT 10) s
		))) / 10.0, 4)
		FROM $queries q JOIN $truth t USING (qid);
	});
}

truth('fm', 'q', 'f.emb', 'truth');
truth('fmh', 'qh', 'f.emb', 'truth_half');
$node->safe_psql('postgres', q{
	CREATE INDEX fm_l2 ON fm USING hnswmm (emb vector_l2_ops);
	CREATE INDEX fmh_l2 ON fmh USING hnswmm (emb halfvec_l2_ops);
});
my $vector = recall('fm', 'q', 'f.emb', 'truth');
my $half = recall('fmh', 'qh', 'f.emb', 'truth_half');
note("recall\@10 at ef_search 40: vector $vector, halfvec $half");
cmp_ok(abs($half - $vector), '<=', 0.005, "halfvec recall\@10 $half is within 0.005 of vector's $vector");
like($node->safe_psql('postgres', q{SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM fmh ORDER BY emb <-> (SELECT emb FROM qh LIMIT 1) LIMIT 10}),
	qr/Index Scan using fmh_l2/, 'the halfvec queries use the halfvec index');

# pgvector's recipe: the vector column indexed as halfvec
$node->safe_psql('postgres', q{
	DROP INDEX fm_l2;
	CREATE INDEX fm_half ON fm USING hnswmm ((emb::halfvec(784)) halfvec_l2_ops);
});
my $expression = recall('fm', 'qh', 'f.emb::halfvec(784)', 'truth_half');
cmp_ok(abs($expression - $vector), '<=', 0.005,
	"the expression index ((emb::halfvec(784)) halfvec_l2_ops): recall\@10 $expression");
like($node->safe_psql('postgres', q{SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM fm ORDER BY emb::halfvec(784) <-> (SELECT emb FROM qh LIMIT 1) LIMIT 10}),
	qr/Index Scan using fm_half/, 'and the queries use it');

# pgvector's binary-quantization recipe: a bit_hamming_ops index on
# binary_quantize(emb)::bit(784), its 100 nearest by Hamming distance
# re-ranked by L2; the index's candidates do as well as the exact ones
# (on the first 100 queries: the exact candidates quantize every row)
sub rerank_recall
{
	my ($settings) = @_;
	return $node->safe_psql('postgres', qq{
		$settings
		SELECT round(avg(cardinality(ARRAY(
			SELECT unnest(t.ids) INTERSECT
			SELECT id FROM (SELECT id FROM (SELECT id, emb FROM fm
				ORDER BY binary_quantize(emb)::bit(784) <~> binary_quantize(q.emb) LIMIT 100) c
				ORDER BY c.emb <-> q.emb LIMIT 10) r
		))) / 10.0, 4)
		FROM q JOIN truth t USING (qid) WHERE qid < 100;
	});
}
$node->safe_psql('postgres', q{
	CREATE INDEX fm_bq ON fm USING hnswmm ((binary_quantize(emb)::bit(784)) bit_hamming_ops);
});
my $bq_index = rerank_recall('SET enable_seqscan = off; SET hnswmm.ef_search = 100;');
my $bq_exact = rerank_recall('SET enable_indexscan = off; SET enable_bitmapscan = off;');
note("binary quantization + re-ranking of 100: recall\@10 $bq_index by the index, $bq_exact exactly");
cmp_ok($bq_index, '>=', $bq_exact - 0.02,
	"bit_hamming_ops + re-ranking: recall\@10 $bq_index, within 0.02 of exact Hamming candidates' $bq_exact");
like($node->safe_psql('postgres', q{SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM fm ORDER BY binary_quantize(emb)::bit(784) <~> binary_quantize((SELECT emb FROM q LIMIT 1)) LIMIT 100}),
	qr/Index Scan using fm_bq/, 'and the candidates come from the bit index');
is($node->safe_psql('postgres', q{SELECT vector_bytes < 20000 * 200 FROM hnswmm_index_info('fm_bq')}), 't',
	'a bit index keeps 100 bytes a slot (98 of bits), not the 3,136 of a vector');

# wire formats: binary COPY out and in, and text out and in
my $file = tempdir_abs() . '/fmh.bin';
$node->safe_psql('postgres', qq{
	COPY (SELECT id, emb FROM fmh WHERE id < 2000) TO '$file' (FORMAT binary);
	CREATE TABLE fmh_back (id int, emb halfvec(784));
	COPY fmh_back FROM '$file' (FORMAT binary);
});
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM fmh JOIN fmh_back b USING (id) WHERE fmh.emb = b.emb}), '2000',
	'COPY (FORMAT binary) out and back in keeps every halfvec');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM fmh WHERE emb::text::halfvec = emb}), '20000',
	'every value survives its text form');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT (ARRAY(SELECT (random() - 0.5) * 1000 FROM generate_series(1, 64) WHERE i > 0))::halfvec AS h
	                      FROM generate_series(1, 2000) i) s
	WHERE h::text::halfvec = h AND h::vector::halfvec = h}), '2000',
	'random values survive text and vector round trips');

# sparsevec: the same images, their non-zero pixels
$node->safe_psql('postgres', q{
	CREATE TABLE fms AS SELECT id, emb::sparsevec(784) AS emb FROM fm WHERE id < 5000;
	CREATE TABLE fmv AS SELECT id, emb FROM fm WHERE id < 5000;
	CREATE TABLE qs AS SELECT qid, emb::sparsevec(784) AS emb FROM q WHERE qid < 20;
});
my $nnz = $node->safe_psql('postgres',
	q[SELECT round(avg(length(emb::text) - length(replace(emb::text, ':', '')))) FROM fms]);
note("non-zero pixels per image: $nnz of 784");
cmp_ok($nnz, '<', 700, 'the images are sparse: zeros are not stored');
# (float4 sums in the vector kernels, double in sparsevec's: an exact tie
# may break either way, so the top 10s are compared as sets)
for my $op ('<->', '<#>', '<=>', '<+>')
{
	my $overlap = $node->safe_psql('postgres', qq{
		SELECT avg(cardinality(ARRAY(
			SELECT unnest(ARRAY(SELECT id FROM fms f ORDER BY f.emb $op q.emb, id LIMIT 10))
			INTERSECT
			SELECT unnest(ARRAY(SELECT id FROM fmv f ORDER BY f.emb $op qv.emb, id LIMIT 10)))))
		FROM qs q JOIN q qv USING (qid)});
	cmp_ok($overlap, '>=', 9.9, "sparsevec $op finds the rows vector $op finds ($overlap of 10)");
}
my $sparse_file = tempdir_abs() . '/fms.bin';
$node->safe_psql('postgres', qq{
	COPY fms TO '$sparse_file' (FORMAT binary);
	CREATE TABLE fms_back (id int, emb sparsevec(784));
	COPY fms_back FROM '$sparse_file' (FORMAT binary);
});
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM fms JOIN fms_back b USING (id)
	WHERE fms.emb = b.emb AND fms.emb::text = b.emb::text AND fms.emb::text::sparsevec = fms.emb
	  AND fms.emb::vector = (SELECT emb FROM fm WHERE fm.id = fms.id)}), '5000',
	'sparsevec: binary COPY, text and vector round trips keep every value');

$node->stop;
done_testing();
