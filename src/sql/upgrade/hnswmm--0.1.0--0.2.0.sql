-- hnswmm 0.1.0 to 0.2.0 (ALTER EXTENSION hnswmm UPDATE)
\echo Use "ALTER EXTENSION hnswmm UPDATE TO '0.2.0'" to load this file. \quit

-- hnswmm_verify counts the nodes that neighbour lists do not reach, and is
-- no longer for PUBLIC: it locks the table against writers while it runs
DROP FUNCTION hnswmm_verify(regclass);
CREATE FUNCTION hnswmm_verify(index regclass,
	OUT nodes bigint, OUT live bigint, OUT deleted bigint,
	OUT duplicates bigint, OUT links bigint, OUT unreachable bigint)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
REVOKE EXECUTE ON FUNCTION hnswmm_verify(regclass) FROM PUBLIC;
