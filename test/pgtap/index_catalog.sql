-- pgTAP: the catalog entries of the hnswmm access method (src/sql/hnswmm.sql).
BEGIN;
CREATE EXTENSION IF NOT EXISTS hnswmm;
SELECT plan(49);

SELECT ok(EXISTS (SELECT 1 FROM pg_am WHERE amname = 'hnswmm' AND amtype = 'i'),
		  'hnswmm is an index access method');
SELECT is((SELECT amhandler::text FROM pg_am WHERE amname = 'hnswmm'),
		  'hnswmm_handler', 'its handler is hnswmm_handler');

-- one operator class per distance, ordering by its operator
SELECT has_opclass('vector_l2_ops', 'vector_l2_ops exists');
SELECT bag_eq($$SELECT c.opcname::text, c.opcintype::regtype::text
				FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
				WHERE a.amname = 'hnswmm'$$,
			  $$VALUES ('vector_l2_ops', 'vector'), ('vector_ip_ops', 'vector'),
					   ('vector_cosine_ops', 'vector'), ('vector_l1_ops', 'vector'),
					   ('halfvec_l2_ops', 'halfvec'), ('halfvec_ip_ops', 'halfvec'),
					   ('halfvec_cosine_ops', 'halfvec'), ('halfvec_l1_ops', 'halfvec'),
					   ('bit_hamming_ops', 'bit'), ('bit_jaccard_ops', 'bit')$$,
			  'exactly ten operator classes: four for vector, four for halfvec, two for bit');
SELECT is((SELECT opcdefault FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
		   WHERE a.amname = 'hnswmm' AND opcname = 'vector_l2_ops'), true,
		  'vector_l2_ops is the default');
SELECT is((SELECT count(*)::int FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
		   WHERE a.amname = 'hnswmm' AND opcdefault), 1, 'only one default operator class');

SELECT is((SELECT o.oprname::text
		   FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
		   JOIN pg_amop ao ON ao.amopfamily = c.opcfamily
		   JOIN pg_operator o ON o.oid = ao.amopopr
		   WHERE a.amname = 'hnswmm' AND c.opcname = opc AND ao.amoppurpose = 'o'),
		  op, opc || ' orders by ' || op)
FROM (VALUES ('vector_l2_ops', '<->'), ('vector_ip_ops', '<#>'),
			 ('vector_cosine_ops', '<=>'), ('vector_l1_ops', '<+>'),
			 ('halfvec_l2_ops', '<->'), ('halfvec_ip_ops', '<#>'),
			 ('halfvec_cosine_ops', '<=>'), ('halfvec_l1_ops', '<+>'),
			 ('bit_hamming_ops', '<~>'), ('bit_jaccard_ops', '<%>')) v(opc, op);

SELECT is((SELECT p.proname::text
		   FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
		   JOIN pg_amproc ap ON ap.amprocfamily = c.opcfamily AND ap.amprocnum = 1
		   JOIN pg_proc p ON p.oid = ap.amproc
		   WHERE a.amname = 'hnswmm' AND c.opcname = opc),
		  fn, opc || ' names its metric with ' || fn)
FROM (VALUES ('vector_l2_ops', 'hnswmm_l2_support'), ('vector_ip_ops', 'hnswmm_ip_support'),
			 ('vector_cosine_ops', 'hnswmm_cosine_support'),
			 ('vector_l1_ops', 'hnswmm_l1_support'),
			 ('halfvec_l2_ops', 'hnswmm_l2_support'), ('halfvec_ip_ops', 'hnswmm_ip_support'),
			 ('halfvec_cosine_ops', 'hnswmm_cosine_support'),
			 ('halfvec_l1_ops', 'hnswmm_l1_support'),
			 ('bit_hamming_ops', 'hnswmm_l2_support'),
			 ('bit_jaccard_ops', 'hnswmm_jaccard_support')) v(opc, fn);

-- support function 2 widens halfvec to vector; vector's classes have none
SELECT bag_eq($$SELECT c.opcname::text, ap.amproc::regprocedure::text
				FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
				JOIN pg_amproc ap ON ap.amprocfamily = c.opcfamily AND ap.amprocnum = 2
				WHERE a.amname = 'hnswmm'$$,
			  $$SELECT 'halfvec_' || m || '_ops' AS opc, 'halfvec_to_vector(halfvec,integer,boolean)' AS fn
				FROM unnest(ARRAY['l2', 'ip', 'cosine', 'l1']) m$$,
			  'the halfvec classes, and only they, have support function 2');

-- every operator class passes the access method's own validation
SELECT ok(bool_and(amvalidate(c.oid)), 'amvalidate accepts every hnswmm operator class')
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod WHERE a.amname = 'hnswmm';

-- inspection functions: signatures and markings
SELECT function_returns('hnswmm_index_info', ARRAY['regclass'], 'record',
						'hnswmm_index_info(regclass) returns a record');
SELECT function_returns('hnswmm_verify', ARRAY['regclass'], 'record',
						'hnswmm_verify(regclass) returns a record');
SELECT is_strict('hnswmm_index_info', ARRAY['regclass'], 'hnswmm_index_info is strict');
SELECT is_strict('hnswmm_verify', ARRAY['regclass'], 'hnswmm_verify is strict');
SELECT volatility_is('hnswmm_verify', ARRAY['regclass'], 'volatile',
					 'hnswmm_verify is volatile: it reads the index as it is now');
-- hnswmm_verify locks the table against writers while it runs: not for
-- PUBLIC; the other inspection functions are
SELECT function_privs_are('hnswmm_verify', ARRAY['regclass'], 'public', ARRAY[]::text[],
						  'PUBLIC may not execute hnswmm_verify');
SELECT function_privs_are('hnswmm_index_info', ARRAY['regclass'], 'public', ARRAY['EXECUTE'],
						  'PUBLIC may execute hnswmm_index_info');
SELECT is((SELECT array_agg(o.parameter_name::text ORDER BY o.ordinal_position)
		   FROM information_schema.parameters o
		   JOIN information_schema.routines r USING (specific_schema, specific_name)
		   WHERE r.routine_name = 'hnswmm_verify' AND o.parameter_mode = 'OUT'),
		  ARRAY['nodes', 'live', 'deleted', 'duplicates', 'links', 'unreachable'],
		  'hnswmm_verify returns nodes, live, deleted, duplicates, links and unreachable');
SELECT function_returns('hnswmm_prewarm', ARRAY['regclass'], 'record',
						'hnswmm_prewarm(regclass) returns a record');
SELECT is_strict('hnswmm_prewarm', ARRAY['regclass'], 'hnswmm_prewarm is strict');
SELECT function_returns('hnswmm_read_counts', ARRAY[]::text[], 'record',
						'hnswmm_read_counts() returns a record');
SELECT volatility_is('hnswmm_read_counts', ARRAY[]::text[], 'volatile',
					 'hnswmm_read_counts is volatile: each call reads the counters anew');
SELECT function_privs_are('hnswmm_read_counts', ARRAY[]::text[], 'public', ARRAY['EXECUTE'],
						  'PUBLIC may execute hnswmm_read_counts (its own backend''s counts)');
SELECT is((SELECT array_agg(o.parameter_name::text ORDER BY o.ordinal_position)
		   FROM information_schema.parameters o
		   JOIN information_schema.routines r USING (specific_schema, specific_name)
		   WHERE r.routine_name = 'hnswmm_read_counts' AND o.parameter_mode = 'OUT'),
		  ARRAY['vectors', 'codes', 'major_faults'],
		  'hnswmm_read_counts returns vectors, codes and major_faults');

-- quantization: the option's values and the re-ranking setting
SELECT is(current_setting('hnswmm.rerank'), '0',
		  'hnswmm.rerank defaults to 0 (chosen from ef_search and the codes)');
SELECT is((SELECT context || ' ' || min_val || '..' || max_val FROM pg_settings
		   WHERE name = 'hnswmm.rerank'), 'user 0..10000',
		  'hnswmm.rerank is a user setting from 0 to 10000');

-- capabilities as the planner sees them
SELECT ok(pg_indexam_has_property((SELECT oid FROM pg_am WHERE amname = 'hnswmm'),
								  'can_order') IS FALSE,
		  'hnswmm does not provide a column ordering');
SELECT ok(NOT pg_indexam_has_property((SELECT oid FROM pg_am WHERE amname = 'hnswmm'),
									  'can_unique'), 'hnswmm cannot be unique');
SELECT ok(NOT pg_indexam_has_property((SELECT oid FROM pg_am WHERE amname = 'hnswmm'),
									  'can_multi_col'), 'hnswmm indexes one column');

-- the setting exists once the library is loaded
LOAD 'hnswmm';
SELECT is(current_setting('hnswmm.ef_search'), '40', 'hnswmm.ef_search defaults to 40');
SELECT is((SELECT min_val || '..' || max_val FROM pg_settings WHERE name = 'hnswmm.ef_search'),
		  '1..1000', 'hnswmm.ef_search ranges over 1..1000');

SELECT * FROM finish();
ROLLBACK;
