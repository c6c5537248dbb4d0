# A pg_dump of a pgvector database restores into hnswmm.
#
# data/pgvector-0.8.7-dump.sql is a plain pg_dump, made by PostgreSQL 18's
# pg_dump of a database of pgvector 0.8.7 (Debian's postgresql-18-pgvector)
# built by data/pgvector-0.8.7-dump.source.sql (its psql \restrict lines
# dropped, which older psql do not know).  It holds every pgvector type,
# typed and untyped, with special values (zeros, NULLs, the range limits of
# halfvec, an empty sparsevec), and an index of every kind pgvector's
# documentation shows.  Restored with psql, as a user would, into a
# database where the compatibility extension `vector` is available:
#
#   - every value reads back as pgvector wrote it (text form);
#   - every hnsw index on vector, halfvec and bit is rebuilt as an hnswmm
#     index, and answers its query as the exact plan does;
#   - the only statements that fail are the two hnswmm does not support,
#     with their SQLSTATEs: the ivfflat index (0A000, naming hnsw) and the
#     sparsevec hnsw index (42704: no such operator class), plus, before
#     PostgreSQL 17, pg_dump 18's SET transaction_timeout (42704).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = hnswmm_node('pgvector_dump');
require_pgvector_compat($node);

my $dump = "$FindBin::Bin/data/pgvector-0.8.7-dump.sql";
$node->safe_psql('postgres', 'CREATE DATABASE restored');
my ($ret, $out, $err) = $node->psql('restored', undef,
	on_error_stop => 0, extra_params => [ '-f', $dump, '-v', 'VERBOSITY=verbose' ]);
sub app { return $node->safe_psql('restored', $_[0]); }

# the errors of the restore, by statement
my @errors = ($err =~ /ERROR:\s+(\w{5}): ([^\n]*)/g);
my %failed;
while (my ($state, $message) = splice(@errors, 0, 2))
{
	$failed{"$state $message"} = 1;
}
my @expected = (
	'0A000 ivfflat indexes are not supported by hnswmm\'s pgvector compatibility',
	'42704 operator class "public.sparsevec_l2_ops" does not exist for access method "hnsw"');
push(@expected, '42704 unrecognized configuration parameter "transaction_timeout"')
  if $node->safe_psql('postgres', 'SHOW server_version_num') < 170000;
is_deeply([ sort keys %failed ], [ sort @expected ],
	'the restore fails only on the ivfflat and sparsevec indexes (and, before 17, a 17+ setting)')
  or diag($err);

is(app("SELECT extname || ' ' || extversion FROM pg_extension WHERE extname = 'vector'"),
	'vector 0.8.0', 'the dump\'s CREATE EXTENSION vector installs the compatibility extension');

# values, as pgvector wrote them in the dump
is(app(q{SELECT count(*), count(embedding), count(half), count(bits), count(sparse) FROM public.items}),
	'503|502|502|502|502', 'every row and every NULL');
is(app(q{SELECT embedding, half, bits, sparse FROM public.items WHERE content = 'extremes'}),
	'[1e-38,-65000,65000]|[65504,-65504,5.9604645e-08]|11111111|{6:1e-30}/6',
	'the range limits read back as they were written');
is(app(q{SELECT embedding, half, bits, sparse FROM public.items WHERE content = 'zeros'}),
	'[0,0,0]|[0,0,0]|00000000|{}/6', 'zeros, and an empty sparsevec');
is(app(q{SELECT v, h, s, b FROM public.untyped}),
	'[1,2,3,4]|[1.5,2.5]|{2:3}/100000|101', 'columns without a typmod');
my $dumped = slurp_file($dump);
my ($copy) = $dumped =~ /^COPY public\.items .*? FROM stdin;\n(.*?)^\\\.$/ms;
my $restored = app(q{COPY (SELECT * FROM public.items ORDER BY id) TO STDOUT}) . "\n";
is($restored, $copy, 'COPY out of the restored table gives the dump\'s COPY data, byte for byte');
is(app(q{SELECT count(*) FROM public.items WHERE embedding::text::vector <> embedding
			OR half::text::halfvec <> half OR sparse::text::sparsevec <> sparse}),
	'0', 'and each value survives its text form');

# the indexes: rebuilt as hnswmm indexes (access method hnsw), each used
# by its query and answering as the exact plan does
is(app(q{SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_index i
			JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
			WHERE a.amname = 'hnsw'}),
	'items_bits_hamming,items_bits_jaccard,items_bq,items_embedding_cos,items_embedding_ip,'
	  . 'items_embedding_l1,items_embedding_l2,items_half_expr,items_half_l2',
	'the nine hnsw indexes on vector, halfvec and bit are there');
is(app(q{SELECT count(*) FROM (SELECT c.oid FROM pg_class c JOIN pg_am a ON a.oid = c.relam
			WHERE a.amname = 'hnsw' OFFSET 0) i, hnswmm_verify(i.oid) v WHERE v.nodes > 0}),
	'9', 'and hnswmm_verify checks each');

my @queries = (
	[ 'items_embedding_cos', q{embedding <=> '[0.5,0.5,0.1]'} ],
	[ 'items_embedding_l2',  q{embedding <-> '[0.5,0.5,0.1]'} ],
	[ 'items_embedding_ip',  q{embedding <#> '[0.5,0.5,0.1]'} ],
	[ 'items_embedding_l1',  q{embedding <+> '[0.5,0.5,0.1]'} ],
	[ 'items_half_l2',       q{half <-> '[0.5,-0.25,0.25]'} ],
	[ 'items_half_expr',     q{embedding::halfvec(3) <=> '[0.5,0.5,0.1]'} ],
	[ 'items_bits_hamming',  q{bits <~> B'10110010'} ],
	[ 'items_bits_jaccard',  q{bits <%> B'10110010'} ]);
foreach my $q (@queries)
{
	my ($index, $order) = @$q;
	my $plan = app(qq{SET enable_seqscan = off; SET enable_indexscan = on;
		EXPLAIN (COSTS OFF) SELECT id FROM public.items ORDER BY $order LIMIT 5});
	like($plan, qr/Index (Only )?Scan using $index\b/, "ORDER BY $order uses $index");
	# compared by distance: ties may come in another order
	is(app(qq{SET enable_seqscan = off; SET hnsw.ef_search = 200;
			SELECT string_agg(d::text, ',') FROM (SELECT $order AS d FROM public.items ORDER BY $order LIMIT 5) s}),
		app(qq{SET enable_indexscan = off; SET enable_bitmapscan = off;
			SELECT string_agg(d::text, ',') FROM (SELECT $order AS d FROM public.items ORDER BY $order LIMIT 5) s}),
		"and finds the exact plan's top 5 ($index)");
}

# pgvector's binary-quantization recipe on the restored expression index
like(app(q{SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM public.items
	ORDER BY binary_quantize(embedding)::bit(3) <~> binary_quantize('[1,-2,3]'::vector) LIMIT 20}),
	qr/Index Scan using items_bq/, 'the binary-quantization index answers pgvector\'s recipe');

# the sparsevec values are there for exact search, and new rows go in
is(app(q{SELECT count(*) FROM (SELECT id FROM public.items ORDER BY sparse <-> '{1:1}/6' LIMIT 10) s}),
	'10', 'sparsevec rows are searched exactly (no index)');
app(q{INSERT INTO public.items (content, embedding, half, bits, sparse)
	VALUES ('new', '[1,2,3]', '[1,2,3]', B'00000001', '{1:1}/6')});
is(app(q{SET enable_seqscan = off; SELECT content FROM public.items ORDER BY embedding <-> '[1,2,3]' LIMIT 1}),
	'new', 'a row inserted after the restore is found through the restored index');

$node->stop;
done_testing();
