-- The VACUUM loop (one client of its own), with a look at the index's
-- counters in between
VACUUM soak;
SELECT nodes, deleted FROM hnswmm_index_info('soak_idx');
\sleep 300 ms
