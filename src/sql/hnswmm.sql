
-- The hnswmm index access method

CREATE FUNCTION hnswmm_handler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD hnswmm TYPE INDEX HANDLER hnswmm_handler;
COMMENT ON ACCESS METHOD hnswmm IS 'HNSW graph in buffers, vectors read through mmap';

-- Support function 1 of each operator class names its distance
CREATE FUNCTION hnswmm_l2_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION hnswmm_ip_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION hnswmm_cosine_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION hnswmm_l1_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS vector_l2_ops DEFAULT
	FOR TYPE vector USING hnswmm AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_l2_support(internal);

CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING hnswmm AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_ip_support(internal);

CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING hnswmm AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_cosine_support(internal);

CREATE OPERATOR CLASS vector_l1_ops
	FOR TYPE vector USING hnswmm AS
	OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_l1_support(internal);

-- Inspection

CREATE FUNCTION hnswmm_index_info(index regclass,
	OUT dimensions int, OUT m int, OUT ef_construction int,
	OUT nodes bigint, OUT deleted bigint, OUT max_level int,
	OUT graph_pages bigint, OUT vector_pages bigint,
	OUT graph_bytes bigint, OUT vector_bytes bigint, OUT flushed bigint,
	OUT quantization text, OUT code_bytes int, OUT centers int)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE FUNCTION hnswmm_prewarm(index regclass,
	OUT graph_bytes bigint, OUT vector_bytes bigint)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

-- What this backend's index searches have read since it started: each
-- distance from (or copy of) a full vector, each distance from a code, and
-- the backend's major page faults (vector pages the mapping read from
-- disk).  Subtract two calls' values to see what the statements between
-- them read.
CREATE FUNCTION hnswmm_read_counts(OUT vectors bigint, OUT codes bigint,
	OUT major_faults bigint)
	RETURNS record
	AS 'MODULE_PATHNAME', 'hnswmm_read_counts_sql'
	LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

-- Locks the table against writers while it runs: not for PUBLIC (grant
-- EXECUTE to the roles that check indexes, as with amcheck)
CREATE FUNCTION hnswmm_verify(index regclass,
	OUT nodes bigint, OUT live bigint, OUT deleted bigint,
	OUT duplicates bigint, OUT links bigint, OUT unreachable bigint)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
REVOKE EXECUTE ON FUNCTION hnswmm_verify(regclass) FROM PUBLIC;

CREATE FUNCTION hnswmm_distance_kernels(OUT name text, OUT supported boolean,
	OUT in_use boolean, OUT max_relative_error float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
