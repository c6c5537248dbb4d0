-- pgTAP: the catalog entries of pgvector's other types: halfvec
-- (src/sql/halfvec.sql), sparsevec (src/sql/sparsevec.sql), and the
-- functions on bit (src/sql/bit.sql).
BEGIN;
CREATE EXTENSION IF NOT EXISTS hnswmm;

-- every C function: SQL name, argument types, result type
CREATE TEMP TABLE halfvec_fns (fn name, args name[], ret text) ON COMMIT DROP;
INSERT INTO halfvec_fns VALUES
	('halfvec_in', '{cstring,oid,integer}', 'halfvec'),
	('halfvec_out', '{halfvec}', 'cstring'),
	('halfvec_typmod_in', '{cstring[]}', 'integer'),
	('halfvec_recv', '{internal,oid,integer}', 'halfvec'),
	('halfvec_send', '{halfvec}', 'bytea'),
	('l2_distance', '{halfvec,halfvec}', 'double precision'),
	('halfvec_l2_squared_distance', '{halfvec,halfvec}', 'double precision'),
	('inner_product', '{halfvec,halfvec}', 'double precision'),
	('halfvec_negative_inner_product', '{halfvec,halfvec}', 'double precision'),
	('cosine_distance', '{halfvec,halfvec}', 'double precision'),
	('l1_distance', '{halfvec,halfvec}', 'double precision'),
	('vector_dims', '{halfvec}', 'integer'),
	('l2_norm', '{halfvec}', 'double precision'),
	('l2_normalize', '{halfvec}', 'halfvec'),
	('binary_quantize', '{halfvec}', 'bit'),
	('subvector', '{halfvec,integer,integer}', 'halfvec'),
	('halfvec_add', '{halfvec,halfvec}', 'halfvec'),
	('halfvec_sub', '{halfvec,halfvec}', 'halfvec'),
	('halfvec_mul', '{halfvec,halfvec}', 'halfvec'),
	('halfvec_concat', '{halfvec,halfvec}', 'halfvec'),
	('halfvec_lt', '{halfvec,halfvec}', 'boolean'),
	('halfvec_le', '{halfvec,halfvec}', 'boolean'),
	('halfvec_eq', '{halfvec,halfvec}', 'boolean'),
	('halfvec_ne', '{halfvec,halfvec}', 'boolean'),
	('halfvec_ge', '{halfvec,halfvec}', 'boolean'),
	('halfvec_gt', '{halfvec,halfvec}', 'boolean'),
	('halfvec_cmp', '{halfvec,halfvec}', 'integer'),
	('halfvec_accum', '{double precision[],halfvec}', 'double precision[]'),
	('halfvec_avg', '{double precision[]}', 'halfvec'),
	('halfvec', '{halfvec,integer,boolean}', 'halfvec'),
	('halfvec_to_vector', '{halfvec,integer,boolean}', 'vector'),
	('vector_to_halfvec', '{vector,integer,boolean}', 'halfvec'),
	('array_to_halfvec', '{integer[],integer,boolean}', 'halfvec'),
	('array_to_halfvec', '{real[],integer,boolean}', 'halfvec'),
	('array_to_halfvec', '{double precision[],integer,boolean}', 'halfvec'),
	('array_to_halfvec', '{numeric[],integer,boolean}', 'halfvec'),
	('halfvec_to_float4', '{halfvec,integer,boolean}', 'real[]'),
	('binary_quantize', '{vector}', 'bit'),
	('hamming_distance', '{bit,bit}', 'double precision'),
	('jaccard_distance', '{bit,bit}', 'double precision'),
	('sparsevec_in', '{cstring,oid,integer}', 'sparsevec'),
	('sparsevec_out', '{sparsevec}', 'cstring'),
	('sparsevec_typmod_in', '{cstring[]}', 'integer'),
	('sparsevec_recv', '{internal,oid,integer}', 'sparsevec'),
	('sparsevec_send', '{sparsevec}', 'bytea'),
	('l2_distance', '{sparsevec,sparsevec}', 'double precision'),
	('sparsevec_l2_squared_distance', '{sparsevec,sparsevec}', 'double precision'),
	('inner_product', '{sparsevec,sparsevec}', 'double precision'),
	('sparsevec_negative_inner_product', '{sparsevec,sparsevec}', 'double precision'),
	('cosine_distance', '{sparsevec,sparsevec}', 'double precision'),
	('l1_distance', '{sparsevec,sparsevec}', 'double precision'),
	('l2_norm', '{sparsevec}', 'double precision'),
	('l2_normalize', '{sparsevec}', 'sparsevec'),
	('sparsevec_lt', '{sparsevec,sparsevec}', 'boolean'),
	('sparsevec_le', '{sparsevec,sparsevec}', 'boolean'),
	('sparsevec_eq', '{sparsevec,sparsevec}', 'boolean'),
	('sparsevec_ne', '{sparsevec,sparsevec}', 'boolean'),
	('sparsevec_ge', '{sparsevec,sparsevec}', 'boolean'),
	('sparsevec_gt', '{sparsevec,sparsevec}', 'boolean'),
	('sparsevec_cmp', '{sparsevec,sparsevec}', 'integer'),
	('sparsevec', '{sparsevec,integer,boolean}', 'sparsevec'),
	('vector_to_sparsevec', '{vector,integer,boolean}', 'sparsevec'),
	('sparsevec_to_vector', '{sparsevec,integer,boolean}', 'vector'),
	('halfvec_to_sparsevec', '{halfvec,integer,boolean}', 'sparsevec'),
	('sparsevec_to_halfvec', '{sparsevec,integer,boolean}', 'halfvec'),
	('array_to_sparsevec', '{integer[],integer,boolean}', 'sparsevec'),
	('array_to_sparsevec', '{real[],integer,boolean}', 'sparsevec'),
	('array_to_sparsevec', '{double precision[],integer,boolean}', 'sparsevec'),
	('array_to_sparsevec', '{numeric[],integer,boolean}', 'sparsevec');

SELECT plan(
	2 + 2 + 1                                    -- types, properties, preference
	+ 5 * (SELECT count(*)::int FROM halfvec_fns) -- per function
	+ 1                                          -- membership
	+ 1 + 1 + 1                                  -- operators on halfvec, sparsevec, bit
	+ 2                                          -- btree opclasses
	+ 2                                          -- casts
	+ 1                                          -- aggregates
);

SELECT has_type('halfvec');
SELECT has_type('sparsevec');
SELECT results_eq(
	$$SELECT typlen::int, typstorage::text, typalign::text, typmodin::regproc::text,
			 typinput::regproc::text, typoutput::regproc::text,
			 typreceive::regproc::text, typsend::regproc::text
	  FROM pg_type WHERE oid = 'sparsevec'::regtype$$,
	$$VALUES (-1, 'm', 'i', 'sparsevec_typmod_in', 'sparsevec_in', 'sparsevec_out',
			  'sparsevec_recv', 'sparsevec_send')$$,
	'sparsevec is a variable-length, int-aligned type kept in the row (main) with a typmod');
SELECT results_eq(
	$$SELECT typlen::int, typstorage::text, typalign::text, typmodin::regproc::text,
			 typinput::regproc::text, typoutput::regproc::text,
			 typreceive::regproc::text, typsend::regproc::text
	  FROM pg_type WHERE oid = 'halfvec'::regtype$$,
	$$VALUES (-1, 'm', 'i', 'halfvec_typmod_in', 'halfvec_in', 'halfvec_out',
			  'halfvec_recv', 'halfvec_send')$$,
	'halfvec is a variable-length, int-aligned type kept in the row (main) with a typmod');

-- an untyped '[1,2]' resolves to vector where halfvec is also a candidate
SELECT results_eq(
	$$SELECT typname::text COLLATE "default", typcategory::text, typispreferred FROM pg_type
	  WHERE oid IN ('vector'::regtype, 'halfvec'::regtype, 'sparsevec'::regtype) ORDER BY 1$$,
	$$VALUES ('halfvec', 'U', false), ('sparsevec', 'U', false), ('vector', 'U', true)$$,
	'vector is the preferred type of its category, halfvec and sparsevec are not');

-- per function: exists, result, C, immutable and strict, parallel safe
SELECT has_function(fn, args) FROM halfvec_fns;
SELECT function_returns(fn, args, ret) FROM halfvec_fns;
SELECT function_lang_is(fn, args, 'c') FROM halfvec_fns;
SELECT ok(p.provolatile = 'i' AND p.proisstrict,
		  format('%s(%s) is immutable and strict', f.fn, array_to_string(f.args, ', ')))
FROM halfvec_fns AS f
JOIN pg_proc AS p ON p.oid = to_regprocedure(format('%I(%s)', f.fn, array_to_string(f.args, ',')));
SELECT is(p.proparallel::text, 's',
		  format('%s(%s) is parallel safe', f.fn, array_to_string(f.args, ', ')))
FROM halfvec_fns AS f
JOIN pg_proc AS p ON p.oid = to_regprocedure(format('%I(%s)', f.fn, array_to_string(f.args, ',')));
SELECT is_empty(
	$$SELECT f.fn FROM halfvec_fns AS f
	  WHERE NOT EXISTS (
		SELECT 1 FROM pg_proc AS p
		JOIN pg_depend AS d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
			AND d.deptype = 'e'
		JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'hnswmm'
		WHERE p.oid = to_regprocedure(format('%I(%s)', f.fn, array_to_string(f.args, ','))))$$,
	'every function belongs to the extension');

-- operators: pgvector's, with the same commutators, negators and estimators
-- as vector's
SELECT results_eq(
	$$SELECT o.oprname::text COLLATE "default", (SELECT proname FROM pg_proc WHERE oid = o.oprcode)::text COLLATE "default",
			 coalesce(c.oprname::text, '-') COLLATE "default",
			 coalesce(n.oprname::text, '-') COLLATE "default",
			 o.oprrest::regproc::text, o.oprjoin::regproc::text, o.oprresult::regtype::text
	  FROM pg_operator AS o
	  LEFT JOIN pg_operator AS c ON c.oid = o.oprcom
	  LEFT JOIN pg_operator AS n ON n.oid = o.oprnegate
	  WHERE o.oprleft = 'halfvec'::regtype AND o.oprright = 'halfvec'::regtype
	  ORDER BY 1$$,
	$$VALUES ('*', 'halfvec_mul', '*', '-', '-', '-', 'halfvec'),
			 ('+', 'halfvec_add', '+', '-', '-', '-', 'halfvec'),
			 ('-', 'halfvec_sub', '-', '-', '-', '-', 'halfvec'),
			 ('<', 'halfvec_lt', '>', '>=', 'scalarltsel', 'scalarltjoinsel', 'boolean'),
			 ('<#>', 'halfvec_negative_inner_product', '<#>', '-', '-', '-', 'double precision'),
			 ('<+>', 'l1_distance', '<+>', '-', '-', '-', 'double precision'),
			 ('<->', 'l2_distance', '<->', '-', '-', '-', 'double precision'),
			 ('<=', 'halfvec_le', '>=', '>', 'scalarlesel', 'scalarlejoinsel', 'boolean'),
			 ('<=>', 'cosine_distance', '<=>', '-', '-', '-', 'double precision'),
			 ('<>', 'halfvec_ne', '<>', '=', 'neqsel', 'neqjoinsel', 'boolean'),
			 ('=', 'halfvec_eq', '=', '<>', 'eqsel', 'eqjoinsel', 'boolean'),
			 ('>', 'halfvec_gt', '<', '<=', 'scalargtsel', 'scalargtjoinsel', 'boolean'),
			 ('>=', 'halfvec_ge', '<=', '<', 'scalargesel', 'scalargejoinsel', 'boolean'),
			 ('||', 'halfvec_concat', '-', '-', '-', '-', 'halfvec')$$,
	'operators on (halfvec, halfvec)');
SELECT results_eq(
	$$SELECT o.oprname::text COLLATE "default", (SELECT proname FROM pg_proc WHERE oid = o.oprcode)::text COLLATE "default",
			 coalesce(c.oprname::text, '-') COLLATE "default",
			 coalesce(n.oprname::text, '-') COLLATE "default",
			 o.oprrest::regproc::text, o.oprjoin::regproc::text, o.oprresult::regtype::text
	  FROM pg_operator AS o
	  LEFT JOIN pg_operator AS c ON c.oid = o.oprcom
	  LEFT JOIN pg_operator AS n ON n.oid = o.oprnegate
	  WHERE o.oprleft = 'sparsevec'::regtype AND o.oprright = 'sparsevec'::regtype
	  ORDER BY 1$$,
	$$VALUES ('<', 'sparsevec_lt', '>', '>=', 'scalarltsel', 'scalarltjoinsel', 'boolean'),
			 ('<#>', 'sparsevec_negative_inner_product', '<#>', '-', '-', '-', 'double precision'),
			 ('<+>', 'l1_distance', '<+>', '-', '-', '-', 'double precision'),
			 ('<->', 'l2_distance', '<->', '-', '-', '-', 'double precision'),
			 ('<=', 'sparsevec_le', '>=', '>', 'scalarlesel', 'scalarlejoinsel', 'boolean'),
			 ('<=>', 'cosine_distance', '<=>', '-', '-', '-', 'double precision'),
			 ('<>', 'sparsevec_ne', '<>', '=', 'neqsel', 'neqjoinsel', 'boolean'),
			 ('=', 'sparsevec_eq', '=', '<>', 'eqsel', 'eqjoinsel', 'boolean'),
			 ('>', 'sparsevec_gt', '<', '<=', 'scalargtsel', 'scalargtjoinsel', 'boolean'),
			 ('>=', 'sparsevec_ge', '<=', '<', 'scalargesel', 'scalargejoinsel', 'boolean')$$,
	'operators on (sparsevec, sparsevec)');
SELECT results_eq(
	$$SELECT o.oprname::text COLLATE "default", (SELECT proname FROM pg_proc WHERE oid = o.oprcode)::text COLLATE "default",
			 coalesce(c.oprname::text, '-') COLLATE "default"
	  FROM pg_operator AS o
	  JOIN pg_depend AS d ON d.classid = 'pg_operator'::regclass AND d.objid = o.oid AND d.deptype = 'e'
	  JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'hnswmm'
	  LEFT JOIN pg_operator AS c ON c.oid = o.oprcom
	  WHERE o.oprleft = 'bit'::regtype AND o.oprright = 'bit'::regtype
	  ORDER BY 1$$,
	$$VALUES ('<%>', 'jaccard_distance', '<%>'), ('<~>', 'hamming_distance', '<~>')$$,
	'operators on (bit, bit): <~> Hamming, <%> Jaccard');

SELECT results_eq(
	$$SELECT c.opcdefault, 'op' AS kind, amopstrategy::int AS num, amopopr::regoperator::text AS member
	  FROM pg_amop JOIN pg_opclass AS c ON c.opcfamily = amopfamily
	  WHERE c.opcname = 'halfvec_ops' AND amopmethod = c.opcmethod
	  UNION ALL
	  SELECT c.opcdefault, 'proc', amprocnum::int, amproc::regprocedure::text
	  FROM pg_amproc JOIN pg_opclass AS c ON c.opcfamily = amprocfamily
	  WHERE c.opcname = 'halfvec_ops'
	  ORDER BY 2, 3$$,
	$$VALUES (true, 'op', 1, '<(halfvec,halfvec)'), (true, 'op', 2, '<=(halfvec,halfvec)'),
			 (true, 'op', 3, '=(halfvec,halfvec)'), (true, 'op', 4, '>=(halfvec,halfvec)'),
			 (true, 'op', 5, '>(halfvec,halfvec)'), (true, 'proc', 1, 'halfvec_cmp(halfvec,halfvec)')$$,
	'halfvec_ops: the default btree operator class, strategies 1-5 and support function 1');

SELECT results_eq(
	$$SELECT c.opcdefault, 'op' AS kind, amopstrategy::int AS num, amopopr::regoperator::text AS member
	  FROM pg_amop JOIN pg_opclass AS c ON c.opcfamily = amopfamily
	  WHERE c.opcname = 'sparsevec_ops' AND amopmethod = c.opcmethod
	  UNION ALL
	  SELECT c.opcdefault, 'proc', amprocnum::int, amproc::regprocedure::text
	  FROM pg_amproc JOIN pg_opclass AS c ON c.opcfamily = amprocfamily
	  WHERE c.opcname = 'sparsevec_ops'
	  ORDER BY 2, 3$$,
	$$VALUES (true, 'op', 1, '<(sparsevec,sparsevec)'), (true, 'op', 2, '<=(sparsevec,sparsevec)'),
			 (true, 'op', 3, '=(sparsevec,sparsevec)'), (true, 'op', 4, '>=(sparsevec,sparsevec)'),
			 (true, 'op', 5, '>(sparsevec,sparsevec)'), (true, 'proc', 1, 'sparsevec_cmp(sparsevec,sparsevec)')$$,
	'sparsevec_ops: the default btree operator class, strategies 1-5 and support function 1');

-- casts, as pgvector declares them
SELECT results_eq(
	$$SELECT c.castsource::regtype::text COLLATE "default", c.casttarget::regtype::text COLLATE "default",
			 (SELECT proname FROM pg_proc WHERE oid = c.castfunc)::text COLLATE "default", c.castcontext::text
	  FROM pg_cast AS c
	  WHERE 'halfvec'::regtype IN (c.castsource, c.casttarget)
	    AND 'sparsevec'::regtype NOT IN (c.castsource, c.casttarget)
	  ORDER BY 1, 2$$,
	$$VALUES ('double precision[]', 'halfvec', 'array_to_halfvec', 'a'),
			 ('halfvec', 'halfvec', 'halfvec', 'i'),
			 ('halfvec', 'real[]', 'halfvec_to_float4', 'i'),
			 ('halfvec', 'vector', 'halfvec_to_vector', 'a'),
			 ('integer[]', 'halfvec', 'array_to_halfvec', 'a'),
			 ('numeric[]', 'halfvec', 'array_to_halfvec', 'a'),
			 ('real[]', 'halfvec', 'array_to_halfvec', 'a'),
			 ('vector', 'halfvec', 'vector_to_halfvec', 'i')$$,
	'casts between halfvec, vector and arrays');

SELECT results_eq(
	$$SELECT c.castsource::regtype::text COLLATE "default", c.casttarget::regtype::text COLLATE "default",
			 (SELECT proname FROM pg_proc WHERE oid = c.castfunc)::text COLLATE "default", c.castcontext::text
	  FROM pg_cast AS c
	  WHERE 'sparsevec'::regtype IN (c.castsource, c.casttarget)
	  ORDER BY 1, 2$$,
	$$VALUES ('double precision[]', 'sparsevec', 'array_to_sparsevec', 'a'),
			 ('halfvec', 'sparsevec', 'halfvec_to_sparsevec', 'i'),
			 ('integer[]', 'sparsevec', 'array_to_sparsevec', 'a'),
			 ('numeric[]', 'sparsevec', 'array_to_sparsevec', 'a'),
			 ('real[]', 'sparsevec', 'array_to_sparsevec', 'a'),
			 ('sparsevec', 'halfvec', 'sparsevec_to_halfvec', 'a'),
			 ('sparsevec', 'sparsevec', 'sparsevec', 'i'),
			 ('sparsevec', 'vector', 'sparsevec_to_vector', 'a'),
			 ('vector', 'sparsevec', 'vector_to_sparsevec', 'i')$$,
	'casts between sparsevec, vector, halfvec and arrays');

SELECT results_eq(
	$$SELECT p.proname::text COLLATE "default", a.aggtransfn::text, a.aggcombinefn::text,
			 a.aggfinalfn::text, a.aggtranstype::regtype::text, a.agginitval COLLATE "default",
			 p.proparallel::text, p.prorettype::regtype::text
	  FROM pg_aggregate AS a JOIN pg_proc AS p ON p.oid = a.aggfnoid
	  WHERE p.oid IN ('avg(halfvec)'::regprocedure, 'sum(halfvec)'::regprocedure)
	  ORDER BY 1$$,
	$$VALUES ('avg', 'halfvec_accum', 'vector_combine', 'halfvec_avg',
			  'double precision[]', '{0}', 's', 'halfvec'),
			 ('sum', 'halfvec_add', 'halfvec_add', '-', 'halfvec', NULL, 's', 'halfvec')$$,
	'avg(halfvec) and sum(halfvec): state, combine function, parallel safe');

SELECT * FROM finish();
ROLLBACK;
