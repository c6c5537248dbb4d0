-- What the `vector` extension adds to hnswmm's objects, so that SQL written
-- for pgvector runs unchanged: the access method `hnsw` (an hnswmm index
-- under pgvector's name, with pgvector's operator class names and WITH
-- options m and ef_construction), and `ivfflat`, which refuses with the
-- hnsw alternative.

CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnswmm_handler;
COMMENT ON ACCESS METHOD hnsw IS 'an hnswmm index under pgvector''s name';

CREATE OPERATOR CLASS vector_l2_ops DEFAULT
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_l2_support(internal);

CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_ip_support(internal);

CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_cosine_support(internal);

CREATE OPERATOR CLASS vector_l1_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_l1_support(internal);

CREATE OPERATOR CLASS halfvec_l2_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_l2_support(internal),
	FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);

CREATE OPERATOR CLASS halfvec_ip_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_ip_support(internal),
	FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);

CREATE OPERATOR CLASS halfvec_cosine_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_cosine_support(internal),
	FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);

CREATE OPERATOR CLASS halfvec_l1_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <+> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_l1_support(internal),
	FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);

CREATE OPERATOR CLASS bit_hamming_ops
	FOR TYPE bit USING hnsw AS
	OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_l2_support(internal);

CREATE OPERATOR CLASS bit_jaccard_ops
	FOR TYPE bit USING hnsw AS
	OPERATOR 1 <%> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_jaccard_support(internal);

-- CREATE INDEX ... USING ivfflat gets an error that names the alternative
CREATE FUNCTION ivfflat_unsupported_handler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME', 'hnswmm_ivfflat_handler' LANGUAGE C;
CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER ivfflat_unsupported_handler;
COMMENT ON ACCESS METHOD ivfflat IS 'not supported: use hnsw';
