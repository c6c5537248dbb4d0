\echo Use "CREATE EXTENSION hnswmm" to load this file. \quit

-- An extension named `vector` defines the type `vector` too: pgvector's, or
-- hnswmm's compatibility extension (compat/), which holds every hnswmm
-- object already.  Say so, rather than "type vector already exists".
DO $hnswmm_guard$
BEGIN
	IF EXISTS (SELECT FROM pg_extension WHERE extname = 'vector') THEN
		RAISE EXCEPTION 'extension "vector" is installed in this database'
			USING ERRCODE = 'duplicate_object',
			DETAIL = 'It defines the type vector, as hnswmm does. If it is hnswmm''s '
				'pgvector compatibility extension, it holds every hnswmm object already.',
			HINT = 'Use hnswmm in another database, or drop the extension vector first.';
	END IF;
END
$hnswmm_guard$;
