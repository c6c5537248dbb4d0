-- Filtered top-5 with a strict_order iterative scan: the distances must
-- come out in ascending order (up to float rounding), or 1 / 0 fails the
-- transaction.  The query vector is computed once (a materialised CTE).
\set c random(0, 9)
SET enable_seqscan = off;
SET hnswmm.iterative_scan = strict_order;
WITH q AS MATERIALIZED (SELECT soak_rv() AS v),
r AS MATERIALIZED (
	SELECT emb <-> (SELECT v FROM q) AS d FROM soak
	WHERE category = :c ORDER BY emb <-> (SELECT v FROM q) LIMIT 5),
a AS (SELECT array_agg(d) AS ds FROM r)
SELECT 1 / (NOT EXISTS (SELECT 1 FROM a, generate_subscripts(ds, 1) i
                        WHERE i > 1 AND ds[i] < ds[i - 1] * (1 - 1e-5)))::int AS in_order
FROM a;
