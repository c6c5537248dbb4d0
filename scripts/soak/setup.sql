-- Soak test set-up (scripts/soak.sh, test/tap/020_soak.pl): a table of
-- random vector(32) rows with a category, 700 rows, and an hnswmm index.
-- The workload scripts keep it between about 550 and 850 rows, so that a
-- scan with hnswmm.ef_search = 1000 at the end is exhaustive.
CREATE EXTENSION IF NOT EXISTS hnswmm;

-- The searches SET enable_seqscan = off, which prices every plan above
-- jit_above_cost; JIT compilation would then dominate each statement.
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET jit = off', current_database()); END $$;

-- A random vector of n dimensions (volatile: a new one at every call)
CREATE FUNCTION soak_rv(n int DEFAULT 32) RETURNS vector
VOLATILE PARALLEL SAFE LANGUAGE sql AS $$
	SELECT array_agg(random()::real)::vector FROM generate_series(1, n)
$$;

-- fillfactor leaves room for HOT updates of the category
CREATE TABLE soak (
	id bigserial PRIMARY KEY,
	category int NOT NULL,
	emb vector(32)
) WITH (fillfactor = 70);

INSERT INTO soak (category, emb)
SELECT g % 10, soak_rv() FROM generate_series(1, 700) g;

CREATE INDEX soak_idx ON soak USING hnswmm (emb vector_l2_ops)
	WITH (m = 8, ef_construction = 32);
ANALYZE soak;
