-- Checks after the load (scripts/soak.sh, test/tap/020_soak.pl).  VACUUM
-- first (twice: the second pass sees what the first one's pruning left;
-- INDEX_CLEANUP ON, since with dead rows on under 2% of the pages VACUUM
-- may skip the indexes and leave their entries), then one row per check:
-- name | ok | detail.
VACUUM (INDEX_CLEANUP ON) soak;
VACUUM (INDEX_CLEANUP ON) soak;
SET enable_seqscan = off;
SET enable_bitmapscan = off;

-- after VACUUM every live row is its own top-1 at the default ef_search,
-- and hnswmm_verify finds every node reachable through neighbour lists
SELECT 'every row its own top-1 at the default ef_search', found = total,
       found || ' of ' || total || ' rows find themselves'
FROM (SELECT count(*) FILTER (WHERE (SELECT i.id FROM soak i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id) AS found,
             count(*) AS total
      FROM soak o) s;
SELECT 'no node unreachable through neighbour lists', unreachable = 0,
       unreachable || ' unreachable of ' || live || ' live nodes'
FROM hnswmm_verify('soak_idx');

SET hnswmm.ef_search = 1000;
SET hnswmm.iterative_scan = relaxed_order;
SET hnswmm.max_scan_tuples = 1000000;

SELECT 'rows below ef_search', count(*) BETWEEN 1 AND 999, count(*) || ' rows'
FROM soak;

-- every live row is the first answer for its own vector
SELECT 'every row reachable', found = total, found || ' of ' || total || ' rows find themselves'
FROM (SELECT count(*) FILTER (WHERE (SELECT i.id FROM soak i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id) AS found,
             count(*) AS total
      FROM soak o) s;

-- one scan returns every row exactly once: no dead row, no row twice
SELECT 'full scan returns each row once',
       n = (SELECT count(*) FROM soak) AND n = distinct_ids AND missing = 0,
       n || ' returned, ' || distinct_ids || ' distinct, ' || missing || ' not in the table'
FROM (SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids,
             count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM soak t WHERE t.id = s.id)) AS missing
      FROM (SELECT id FROM soak ORDER BY emb <-> (SELECT emb FROM soak ORDER BY id LIMIT 1) LIMIT 100000) s) c;

-- the index agrees with an exact sort for a few queries
SELECT 'top-10 equals exact top-10', agree = 20, agree || ' of 20 queries agree'
FROM (SELECT count(*) FILTER (WHERE
          ARRAY(SELECT id FROM soak ORDER BY emb <-> q.v LIMIT 10) =
          ARRAY(SELECT id FROM soak ORDER BY (emb <-> q.v) + 0, id LIMIT 10)) AS agree
      FROM (SELECT soak_rv() AS v FROM generate_series(1, 20)) q) s;

-- hnswmm_verify passes and counts exactly the live rows
SELECT 'hnswmm_verify', v.live = (SELECT count(*) FROM soak),
       'nodes ' || v.nodes || ', live ' || v.live || ', deleted ' || v.deleted ||
       ', duplicates ' || v.duplicates || ', links ' || v.links
FROM hnswmm_verify('soak_idx') v;
