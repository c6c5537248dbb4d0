-- Index options, the ef_search setting and their errors
SET client_min_messages = warning;
CREATE TABLE opt (id int, emb vector(3));
INSERT INTO opt SELECT i, ARRAY[i, i % 7, i % 3]::real[] FROM generate_series(1, 100) i;

CREATE INDEX opt_default ON opt USING hnswmm (emb vector_l2_ops);
SELECT dimensions, m, ef_construction, nodes FROM hnswmm_index_info('opt_default');
CREATE INDEX opt_custom ON opt USING hnswmm (emb vector_l2_ops) WITH (m = 4, ef_construction = 8);
SELECT dimensions, m, ef_construction, nodes FROM hnswmm_index_info('opt_custom');
SELECT reloptions FROM pg_class WHERE relname = 'opt_custom';
CREATE INDEX opt_max ON opt USING hnswmm (emb vector_l2_ops) WITH (m = 100, ef_construction = 1000);
SELECT m, ef_construction FROM hnswmm_index_info('opt_max');

-- errors, each with its SQLSTATE
\set VERBOSITY sqlstate
CREATE INDEX ON opt USING hnswmm (emb vector_l2_ops) WITH (m = 1);
CREATE INDEX ON opt USING hnswmm (emb vector_l2_ops) WITH (m = 101);
CREATE INDEX ON opt USING hnswmm (emb vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON opt USING hnswmm (emb vector_l2_ops) WITH (ef_construction = 1001);
CREATE INDEX ON opt USING hnswmm (emb vector_l2_ops) WITH (m = 16, ef_construction = 20);
CREATE INDEX ON opt USING hnswmm (emb vector_l2_ops) WITH (m = 'many');
CREATE INDEX ON opt USING hnswmm (emb vector_l2_ops) WITH (lists = 3);
CREATE INDEX ON opt USING hnswmm (id);
CREATE INDEX ON opt USING hnswmm (emb vector_l2_ops, id);
CREATE UNIQUE INDEX ON opt USING hnswmm (emb vector_l2_ops);
SET hnswmm.ef_search = 0;
SET hnswmm.ef_search = 1001;
SET hnswmm.ef_search = 'wide';
SET hnswmm.no_such_setting = 1;
\set VERBOSITY default
CREATE INDEX ON opt USING hnswmm (emb vector_l2_ops) WITH (m = 16, ef_construction = 20);

SHOW hnswmm.ef_search;
SET hnswmm.ef_search = 1000;
SHOW hnswmm.ef_search;
RESET hnswmm.ef_search;

-- ALTER INDEX ... SET takes effect at the next REINDEX
ALTER INDEX opt_custom SET (m = 8, ef_construction = 16);
SELECT m FROM hnswmm_index_info('opt_custom');
REINDEX INDEX opt_custom;
SELECT m, ef_construction FROM hnswmm_index_info('opt_custom');

-- hnswmm_index_info on something else
\set VERBOSITY sqlstate
SELECT * FROM hnswmm_index_info('opt');
CREATE INDEX opt_btree ON opt (id);
SELECT * FROM hnswmm_index_info('opt_btree');
\set VERBOSITY default

-- the build says how much memory the graph took
SET client_min_messages = notice;
CREATE INDEX opt_notice ON opt USING hnswmm (emb vector_l2_ops);
DROP TABLE opt;
