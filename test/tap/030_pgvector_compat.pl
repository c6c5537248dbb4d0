# The pgvector compatibility extension (`make install-pgvector-compat`,
# which `make test` runs): SQL written for pgvector runs unchanged.
#
#   - CREATE EXTENSION IF NOT EXISTS vector works and reports a pgvector
#     version; USING hnsw builds an hnswmm index with pgvector's WITH
#     options; USING ivfflat is refused (0A000) with the alternative.
#   - The statements that LangChain (langchain-postgres PGVector),
#     LlamaIndex (PGVectorStore) and Haystack (PgvectorDocumentStore) issue:
#     their tables, their index DDL, SET [LOCAL] hnsw.ef_search and their
#     queries with metadata filters, with the parameters as text the way
#     their drivers send them.  Each query is served by the index, and
#     returns what an exact scan returns.
#   - pgvector's binary-quantization recipe (binary_quantize, <~>, then a
#     re-ranking by the full vectors).
#   - hnsw.ef_search sets the recall as pgvector's users expect: on hard
#     data the recall at hnsw.ef_search = 400 is exactly the recall at
#     hnswmm.ef_search = 400, far above the default's.
#   - With the hnswmm extension already in a database, `vector` adds only
#     the access methods, on hnswmm's objects; without it, `vector` holds
#     them all, and CREATE EXTENSION hnswmm then fails cleanly (42710, with
#     what to do).
#   - pg_dump and restore of a database that uses it.
#
# Skipped where this server has pgvector's own `vector` extension, which the
# compatibility install refuses to replace.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = hnswmm_node('pgvector_compat');
require_pgvector_compat($node);

$node->safe_psql('postgres', 'CREATE DATABASE app');
sub app { return $node->safe_psql('app', $_[0]); }

# ---------------------------------------------------------------------
# The extension and the access methods
# ---------------------------------------------------------------------
app('CREATE EXTENSION IF NOT EXISTS vector');
app('CREATE EXTENSION IF NOT EXISTS vector');
is(app("SELECT extversion FROM pg_extension WHERE extname = 'vector'"), '0.8.0',
	'CREATE EXTENSION IF NOT EXISTS vector, twice; extversion is pgvector\'s');
is(app("SELECT string_agg(amname, ',' ORDER BY amname) FROM pg_am WHERE amtype = 'i' AND amname IN ('hnsw', 'hnswmm', 'ivfflat')"),
	'hnsw,hnswmm,ivfflat', 'access methods hnsw, hnswmm and ivfflat');

# Data: 2,000 rows of 16 dimensions in 8 clusters, with metadata
app(q{
	SELECT setseed(0.25);
	CREATE TABLE docs_source AS
	SELECT i, i % 8 AS topic,
	       ARRAY(SELECT (i % 8) * 0.5 * (j % 3 - 1) + random() FROM generate_series(1, 16) j WHERE i > 0)::real[] AS v
	FROM generate_series(1, 2000) i;
	CREATE TABLE queries AS
	SELECT q, ARRAY(SELECT (q % 8) * 0.5 * (j % 3 - 1) + random() FROM generate_series(1, 16) j WHERE q > 0)::real[] AS v
	FROM generate_series(1, 20) q});

my ($ret, $out, $err) = $node->psql('app',
	'CREATE TABLE iv (e vector(3)); CREATE INDEX ON iv USING ivfflat (e vector_l2_ops) WITH (lists = 100)',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  0A000: ivfflat indexes are not supported.*HINT:  Use USING hnsw/s,
	'USING ivfflat: 0A000, with USING hnsw as the hint');

# Run $query (with :'q' bound to query vector $q as text) under $setup,
# and compare its ids with the same query's under an exact plan: the
# share of the exact answer's ids that the index's answer has.
sub agreement
{
	my ($query, $setup) = @_;
	my ($found, $wanted) = (0, 0);
	for my $q (1 .. 20)
	{
		my $qv = app("SELECT v::vector::text FROM queries WHERE q = $q");
		(my $sql = $query) =~ s/:'q'/'$qv'/g;
		my @index = split /\n/, app("$setup; SET enable_seqscan = off; $sql");
		my @exact = split /\n/, app("SET enable_indexscan = off; SET enable_bitmapscan = off; $sql");
		my %in = map { $_ => 1 } @index;
		$wanted += @exact;
		$found += grep { $in{$_} } @exact;
	}
	return $wanted ? $found / $wanted : 0;
}

sub uses_index
{
	my ($query, $index) = @_;
	(my $sql = $query) =~ s/:'q'/'[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]'/g;
	return app("SET enable_seqscan = off; EXPLAIN (COSTS OFF) $sql") =~ /Index Scan using $index/;
}

# ---------------------------------------------------------------------
# LangChain (langchain-postgres PGVector): its two tables, its GIN index on
# the metadata, an HNSW index as its documentation creates it, and its
# similarity search with a collection and a metadata filter
# ---------------------------------------------------------------------
app(q{
	CREATE TABLE langchain_pg_collection (uuid UUID NOT NULL, name VARCHAR NOT NULL, cmetadata JSON,
		PRIMARY KEY (uuid), UNIQUE (name));
	CREATE TABLE langchain_pg_embedding (id VARCHAR NOT NULL, collection_id UUID, embedding VECTOR(16),
		document VARCHAR, cmetadata JSONB, PRIMARY KEY (id),
		FOREIGN KEY(collection_id) REFERENCES langchain_pg_collection (uuid) ON DELETE CASCADE);
	CREATE INDEX ix_cmetadata_gin ON langchain_pg_embedding USING gin (cmetadata jsonb_path_ops);
	INSERT INTO langchain_pg_collection VALUES ('00000000-0000-0000-0000-000000000001', 'docs', '{}');
	INSERT INTO langchain_pg_embedding
	SELECT 'doc-' || i, '00000000-0000-0000-0000-000000000001', v::vector, 'text ' || i,
	       jsonb_build_object('topic', 't' || topic, 'source', 'gen')
	FROM docs_source;
	CREATE INDEX ON langchain_pg_embedding USING hnsw (embedding vector_cosine_ops);
	ANALYZE langchain_pg_embedding});
my $langchain = q{
	SELECT langchain_pg_embedding.id, langchain_pg_embedding.embedding <=> :'q' AS distance
	FROM langchain_pg_embedding JOIN langchain_pg_collection
	  ON langchain_pg_embedding.collection_id = langchain_pg_collection.uuid
	WHERE langchain_pg_embedding.collection_id = '00000000-0000-0000-0000-000000000001'::UUID
	  AND jsonb_path_match(langchain_pg_embedding.cmetadata, CAST('$.source == $value' AS JSONPATH),
	                       CAST('{"value": "gen"}'::JSONB AS JSONB))
	ORDER BY distance ASC LIMIT 4};
ok(uses_index($langchain, 'langchain_pg_embedding_embedding_idx'), 'LangChain: its search uses the hnsw index');
cmp_ok(agreement($langchain, 'SELECT 1'), '>=', 0.95, 'LangChain: its search finds the exact answer');

# ---------------------------------------------------------------------
# LlamaIndex (PGVectorStore with hnsw_kwargs): its table, its metadata
# index, its HNSW DDL, SET hnsw.ef_search before a query with a filter
# ---------------------------------------------------------------------
app(q{
	CREATE TABLE public.data_docs (id BIGSERIAL NOT NULL, text VARCHAR NOT NULL, metadata_ JSONB,
		node_id VARCHAR, embedding VECTOR(16), PRIMARY KEY (id));
	CREATE INDEX data_docs_idx_1 ON public.data_docs ((metadata_->>'ref_doc_id'));
	INSERT INTO data_docs (text, metadata_, node_id, embedding)
	SELECT 'text ' || i, jsonb_build_object('ref_doc_id', 'r' || i, 'topic', 't' || topic), 'n' || i, v::vector
	FROM docs_source;
	CREATE INDEX data_docs_embedding_idx ON public.data_docs USING hnsw (embedding vector_cosine_ops)
		WITH (m = 16, ef_construction = 64);
	ANALYZE data_docs});
is(app(q{SELECT m || ',' || ef_construction FROM hnswmm_index_info('data_docs_embedding_idx')}), '16,64',
	'LlamaIndex: WITH (m = 16, ef_construction = 64) builds with those options');
my $llama = q{
	SELECT public.data_docs.id, public.data_docs.embedding <=> :'q' AS distance FROM public.data_docs
	WHERE (public.data_docs.metadata_ ->> 'topic') = 't3' ORDER BY distance asc LIMIT 2};
ok(uses_index($llama, 'data_docs_embedding_idx'), 'LlamaIndex: its filtered search uses the hnsw index');
cmp_ok(agreement($llama, 'SET hnsw.ef_search = 100'), '>=', 0.95,
	'LlamaIndex: its filtered search after SET hnsw.ef_search finds the exact answer');

# ---------------------------------------------------------------------
# Haystack (PgvectorDocumentStore): its table, its HNSW index, SET
# hnsw.ef_search, its search with a metadata filter, scored by L2 distance
# (ascending, which the index serves) and by cosine similarity (1 minus
# the distance, descending, which no HNSW index serves: exact either way)
# ---------------------------------------------------------------------
app(q{
	CREATE TABLE IF NOT EXISTS public.haystack_documents (id VARCHAR(128) PRIMARY KEY, embedding VECTOR(16),
		content TEXT, blob_data BYTEA, blob_meta JSONB, blob_mime_type VARCHAR(255), meta JSONB);
	INSERT INTO haystack_documents (id, embedding, content, meta)
	SELECT 'h' || i, v::vector, 'text ' || i, jsonb_build_object('topic', 't' || topic) FROM docs_source;
	CREATE INDEX IF NOT EXISTS haystack_hnsw_index ON public.haystack_documents
		USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64);
	ANALYZE haystack_documents});
my $haystack_l2 = q{
	SELECT id, embedding <-> :'q'::vector AS score FROM public.haystack_documents
	WHERE (meta->>'topic' = 't5') ORDER BY score ASC LIMIT 10};
ok(uses_index($haystack_l2, 'haystack_hnsw_index'), 'Haystack: its L2 search uses the hnsw index');
cmp_ok(agreement($haystack_l2, 'SET hnsw.ef_search = 100'), '>=', 0.95,
	'Haystack: its filtered L2 search finds the exact answer');
my $haystack_cos = q{
	SELECT id, 1 - (embedding <=> :'q'::vector) AS score FROM public.haystack_documents
	WHERE (meta->>'topic' = 't5') ORDER BY score DESC LIMIT 10};
is(agreement($haystack_cos, 'SET hnsw.ef_search = 100'), 1, 'Haystack: its cosine-similarity search is answered exactly');

# pgvector's binary quantization with re-ranking, as its README writes it,
# on centred data (signs carry information): the share of the exact top 5
# that it finds
app(q{
	SELECT setseed(0.75);
	CREATE TABLE bq AS SELECT i AS id, ARRAY(SELECT random() - 0.5 FROM generate_series(1, 64) WHERE i > 0)::vector(64) AS embedding
	FROM generate_series(1, 2000) i;
	CREATE TABLE bq_queries AS SELECT id AS q, ARRAY(SELECT x + (random() - 0.5) * 0.3 FROM unnest(embedding::real[]) x)::vector(64) AS v
	FROM bq WHERE id % 100 = 0});
my ($found, $rows) = (0, 0);
for my $qv (split /\n/, app('SELECT v::text FROM bq_queries'))
{
	my %recipe = map { $_ => 1 } split /\n/, app(qq{
		SELECT id FROM (
		    SELECT * FROM bq ORDER BY binary_quantize(embedding)::bit(64) <~> binary_quantize('$qv') LIMIT 200
		) candidates ORDER BY embedding <-> '$qv' LIMIT 5});
	my @exact = split /\n/, app(qq{SELECT id FROM bq ORDER BY embedding <-> '$qv' LIMIT 5});
	$rows += @exact;
	$found += grep { $recipe{$_} } @exact;
}
note("binary quantization and re-ranking: recall\@5 " . $found / $rows);
cmp_ok($found / $rows, '>=', 0.8, 'pgvector\'s binary quantization and re-ranking recipe finds the nearest rows');

# ---------------------------------------------------------------------
# hnsw.ef_search sets the recall: hard data (uniform noise, a sparse graph)
# ---------------------------------------------------------------------
app(q{
	SELECT setseed(0.42);
	CREATE TABLE rv AS SELECT i AS id, ARRAY(SELECT random() FROM generate_series(1, 64) WHERE i > 0)::vector(64) AS embedding
	FROM generate_series(1, 10000) i;
	CREATE TABLE rq AS SELECT i AS qid, ARRAY(SELECT random() FROM generate_series(1, 64) WHERE i > 0)::vector(64) AS q
	FROM generate_series(1, 50) i;
	CREATE INDEX rv_idx ON rv USING hnsw (embedding vector_cosine_ops) WITH (m = 4, ef_construction = 8);
	-- exact: no index scan (with an incremental sort on id) for the truth
	SET enable_indexscan = off;
	CREATE TABLE truth AS SELECT qid, ARRAY(SELECT id FROM rv ORDER BY embedding <=> q, id LIMIT 10) ids FROM rq;
	RESET enable_indexscan;
	CREATE FUNCTION recall() RETURNS numeric LANGUAGE sql AS $$
	  SELECT avg((SELECT count(*) FROM unnest(t.ids) x
	              WHERE x = ANY(ARRAY(SELECT id FROM rv ORDER BY embedding <=> rq.q LIMIT 10)))) / 10
	  FROM rq JOIN truth t USING (qid) $$});
my $default = app('SET enable_seqscan = off; SELECT recall()');
my $pgvector_name = app('SET enable_seqscan = off; SET hnsw.ef_search = 400; SELECT recall()');
my $local = app('SET enable_seqscan = off; BEGIN; SET LOCAL hnsw.ef_search = 400; SELECT recall(); COMMIT');
my $hnswmm_name = app('SET enable_seqscan = off; SET hnswmm.ef_search = 400; SELECT recall()');
note("recall\@10: default $default, hnsw.ef_search = 400 $pgvector_name, hnswmm.ef_search = 400 $hnswmm_name");
cmp_ok($pgvector_name, '>', $default + 0.2, 'SET hnsw.ef_search = 400 raises the recall');
is($pgvector_name, $hnswmm_name, 'hnsw.ef_search = 400 gives what hnswmm.ef_search = 400 gives');
is($local, $hnswmm_name, 'SET LOCAL hnsw.ef_search = 400 too');

# ---------------------------------------------------------------------
# Beside the hnswmm extension
# ---------------------------------------------------------------------
($ret, $out, $err) = $node->psql('app', 'CREATE EXTENSION hnswmm', extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  42710: extension "vector" is installed in this database.*HINT:  Use hnswmm in another database/s,
	'CREATE EXTENSION hnswmm where vector holds the objects: 42710, with what to do');
# vector made for this hnswmm refuses an older one, naming the fix
my $older = $node->safe_psql('postgres', q{
	SELECT max(version) FROM pg_available_extension_versions
	WHERE name = 'hnswmm' AND version <> (SELECT default_version FROM pg_available_extensions WHERE name = 'hnswmm')});
$node->safe_psql('postgres', 'CREATE DATABASE older_hnswmm');
$node->safe_psql('older_hnswmm', "CREATE EXTENSION hnswmm VERSION '$older'");
($ret, $out, $err) = $node->psql('older_hnswmm', 'CREATE EXTENSION vector', extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  55000: the hnswmm extension in this database is not version .*HINT:  Run ALTER EXTENSION hnswmm UPDATE first/s,
	"beside hnswmm $older, CREATE EXTENSION vector asks for ALTER EXTENSION hnswmm UPDATE (55000)");
$node->safe_psql('older_hnswmm', 'ALTER EXTENSION hnswmm UPDATE; CREATE EXTENSION vector');
pass('after the update it installs');

$node->safe_psql('postgres', 'CREATE DATABASE both_ext');
$node->safe_psql('both_ext', 'CREATE EXTENSION hnswmm; CREATE EXTENSION IF NOT EXISTS vector');
is($node->safe_psql('both_ext', q{
	SELECT string_agg(DISTINCT e.extname || ':' || d.classid::regclass, ',' ORDER BY e.extname || ':' || d.classid::regclass)
	FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
	WHERE d.deptype = 'e' AND e.extname = 'vector'}),
	'vector:pg_am,vector:pg_opclass,vector:pg_opfamily,vector:pg_proc',
	'with hnswmm installed, vector adds only access methods, their operator classes and the ivfflat handler');
$node->safe_psql('both_ext', q{
	CREATE TABLE t (id int, e vector(2));
	INSERT INTO t SELECT i, ARRAY[i, i] FROM generate_series(1, 100) i;
	CREATE INDEX t_hnsw ON t USING hnsw (e vector_l2_ops)});
is($node->safe_psql('both_ext', q{SET enable_seqscan = off; SELECT id FROM t ORDER BY e <-> '[50.2,50.2]' LIMIT 1}),
	'50', 'an hnsw index on hnswmm\'s type answers');
is($node->safe_psql('both_ext', 'SELECT nodes FROM hnswmm_verify(\'t_hnsw\')'), '100',
	'hnswmm_verify checks an hnsw index');
$node->safe_psql('both_ext', q{
	CREATE INDEX t_bq ON t USING hnsw ((binary_quantize(e - '[50,60]')::bit(2)) bit_hamming_ops)});
like($node->safe_psql('both_ext', q{SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY binary_quantize(e - '[50,60]')::bit(2) <~> B'10' LIMIT 3}),
	qr/Index Scan using t_bq/, 'pgvector\'s binary-quantization recipe: USING hnsw (... bit_hamming_ops)');
is($node->safe_psql('both_ext', q{SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY binary_quantize(e - '[50,60]')::bit(2) <~> B'10' LIMIT 3) s
	WHERE id BETWEEN 51 AND 60}),
	'3', 'and it finds rows of that code (51 to 60)');

# ---------------------------------------------------------------------
# pg_dump and restore
# ---------------------------------------------------------------------
my $dump = PostgreSQL::Test::Utils::tempdir() . '/app.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('app'), '-f', $dump ], 'pg_dump of a database using vector');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is($node->safe_psql('restored', q{
	SET enable_seqscan = off; SET hnsw.ef_search = 100;
	SELECT string_agg(id, ',') FROM (SELECT id FROM haystack_documents ORDER BY embedding <-> (SELECT v::vector FROM queries WHERE q = 1) LIMIT 5) s}),
	app(q{
	SET enable_indexscan = off;
	SELECT string_agg(id, ',') FROM (SELECT id FROM haystack_documents ORDER BY embedding <-> (SELECT v::vector FROM queries WHERE q = 1) LIMIT 5) s}),
	'the restored hnsw index answers as the exact plan');

$node->stop;
done_testing();
