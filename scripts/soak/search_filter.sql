-- Filtered top-10 with a relaxed iterative scan.  The scan goes on until
-- the filter has passed 10 rows, so it must return 10 rows, or all the
-- rows of the category when it has fewer: otherwise 1 / 0 fails the
-- transaction.  Both counts come from the statement's one snapshot.
\set c random(0, 9)
SET enable_seqscan = off;
SET hnswmm.iterative_scan = relaxed_order;
SELECT 1 / (count(*) = least(10, (SELECT count(*) FROM soak WHERE category = :c)))::int AS full_limit
FROM (SELECT id FROM soak WHERE category = :c ORDER BY emb <-> (SELECT soak_rv()) LIMIT 10) s;
