-- pgTAP: the catalog entries of the vector type (src/sql/vector.sql).
BEGIN;
CREATE EXTENSION IF NOT EXISTS hnswmm;

-- every C function of the type: name, argument types, result type
CREATE TEMP TABLE vector_fns (fn name, args name[], ret text) ON COMMIT DROP;
INSERT INTO vector_fns VALUES
	('vector_in', '{cstring,oid,integer}', 'vector'),
	('vector_out', '{vector}', 'cstring'),
	('vector_typmod_in', '{cstring[]}', 'integer'),
	('vector_recv', '{internal,oid,integer}', 'vector'),
	('vector_send', '{vector}', 'bytea'),
	('l2_distance', '{vector,vector}', 'double precision'),
	('vector_l2_squared_distance', '{vector,vector}', 'double precision'),
	('inner_product', '{vector,vector}', 'double precision'),
	('vector_negative_inner_product', '{vector,vector}', 'double precision'),
	('cosine_distance', '{vector,vector}', 'double precision'),
	('l1_distance', '{vector,vector}', 'double precision'),
	('vector_dims', '{vector}', 'integer'),
	('vector_norm', '{vector}', 'double precision'),
	('l2_normalize', '{vector}', 'vector'),
	('subvector', '{vector,integer,integer}', 'vector'),
	('vector_add', '{vector,vector}', 'vector'),
	('vector_sub', '{vector,vector}', 'vector'),
	('vector_mul', '{vector,vector}', 'vector'),
	('vector_concat', '{vector,vector}', 'vector'),
	('vector_lt', '{vector,vector}', 'boolean'),
	('vector_le', '{vector,vector}', 'boolean'),
	('vector_eq', '{vector,vector}', 'boolean'),
	('vector_ne', '{vector,vector}', 'boolean'),
	('vector_ge', '{vector,vector}', 'boolean'),
	('vector_gt', '{vector,vector}', 'boolean'),
	('vector_cmp', '{vector,vector}', 'integer'),
	('vector_accum', '{double precision[],vector}', 'double precision[]'),
	('vector_combine', '{double precision[],double precision[]}', 'double precision[]'),
	('vector_avg', '{double precision[]}', 'vector'),
	('vector', '{vector,integer,boolean}', 'vector'),
	('array_to_vector', '{integer[],integer,boolean}', 'vector'),
	('array_to_vector', '{real[],integer,boolean}', 'vector'),
	('array_to_vector', '{double precision[],integer,boolean}', 'vector'),
	('array_to_vector', '{numeric[],integer,boolean}', 'vector'),
	('vector_to_float4', '{vector,integer,boolean}', 'real[]');

SELECT plan(
	2                                           -- extension, type
	+ 1                                         -- type properties
	+ 6 * (SELECT count(*)::int FROM vector_fns) -- per function
	+ 1                                         -- membership
	+ 14 + 1                                    -- operators, commutators/negators
	+ 3                                         -- btree opclass
	+ 2 * 6                                     -- casts
	+ 2 + 1                                     -- aggregates
);

SELECT has_extension('hnswmm');
SELECT has_type('vector');
SELECT results_eq(
	$$SELECT typlen::int, typstorage::text, typalign::text, typcategory::text,
			 typmodin::regproc::text, typmodout::oid::int,
			 typinput::regproc::text, typoutput::regproc::text,
			 typreceive::regproc::text, typsend::regproc::text
	  FROM pg_type WHERE oid = 'vector'::regtype$$,
	$$VALUES (-1, 'm', 'i', 'U', 'vector_typmod_in', 0,
			  'vector_in', 'vector_out', 'vector_recv', 'vector_send')$$,
	'vector is a variable-length, int-aligned type kept in the row (main) with a typmod');

-- per function: exists, result, C, immutable, strict, parallel safe
SELECT has_function(fn, args) FROM vector_fns;
SELECT function_returns(fn, args, ret) FROM vector_fns;
SELECT function_lang_is(fn, args, 'c') FROM vector_fns;
SELECT volatility_is(fn, args, 'immutable') FROM vector_fns;
SELECT is_strict(fn, args) FROM vector_fns;
SELECT is(p.proparallel::text, 's',
		  format('%s(%s) is parallel safe', f.fn, array_to_string(f.args, ', ')))
FROM vector_fns AS f
JOIN pg_proc AS p
	ON p.oid = to_regprocedure(format('%I(%s)', f.fn, array_to_string(f.args, ',')));

SELECT is_empty(
	$$SELECT f.fn FROM vector_fns AS f
	  WHERE NOT EXISTS (
		SELECT 1 FROM pg_proc AS p
		JOIN pg_depend AS d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
			AND d.deptype = 'e'
		JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'hnswmm'
		WHERE p.oid = to_regprocedure(format('%I(%s)', f.fn, array_to_string(f.args, ','))))$$,
	'every function of the type belongs to the extension');

-- operators
SELECT has_operator('vector', '<->', 'vector', 'double precision'::name);
SELECT has_operator('vector', '<#>', 'vector', 'double precision'::name);
SELECT has_operator('vector', '<=>', 'vector', 'double precision'::name);
SELECT has_operator('vector', '<+>', 'vector', 'double precision'::name);
SELECT has_operator('vector', '+', 'vector', 'vector'::name);
SELECT has_operator('vector', '-', 'vector', 'vector'::name);
SELECT has_operator('vector', '*', 'vector', 'vector'::name);
SELECT has_operator('vector', '||', 'vector', 'vector'::name);
SELECT has_operator('vector', '<', 'vector', 'boolean'::name);
SELECT has_operator('vector', '<=', 'vector', 'boolean'::name);
SELECT has_operator('vector', '=', 'vector', 'boolean'::name);
SELECT has_operator('vector', '<>', 'vector', 'boolean'::name);
SELECT has_operator('vector', '>=', 'vector', 'boolean'::name);
SELECT has_operator('vector', '>', 'vector', 'boolean'::name);
SELECT results_eq(
	$$SELECT o.oprname::text COLLATE "default", (SELECT proname FROM pg_proc WHERE oid = o.oprcode)::text COLLATE "default",
			 coalesce(c.oprname::text, '-') COLLATE "default",
			 coalesce(n.oprname::text, '-') COLLATE "default",
			 o.oprrest::regproc::text, o.oprjoin::regproc::text
	  FROM pg_operator AS o
	  LEFT JOIN pg_operator AS c ON c.oid = o.oprcom
	  LEFT JOIN pg_operator AS n ON n.oid = o.oprnegate
	  WHERE o.oprleft = 'vector'::regtype AND o.oprright = 'vector'::regtype
	  ORDER BY 1$$,
	$$VALUES ('*', 'vector_mul', '*', '-', '-', '-'),
			 ('+', 'vector_add', '+', '-', '-', '-'),
			 ('-', 'vector_sub', '-', '-', '-', '-'),
			 ('<', 'vector_lt', '>', '>=', 'scalarltsel', 'scalarltjoinsel'),
			 ('<#>', 'vector_negative_inner_product', '<#>', '-', '-', '-'),
			 ('<+>', 'l1_distance', '<+>', '-', '-', '-'),
			 ('<->', 'l2_distance', '<->', '-', '-', '-'),
			 ('<=', 'vector_le', '>=', '>', 'scalarlesel', 'scalarlejoinsel'),
			 ('<=>', 'cosine_distance', '<=>', '-', '-', '-'),
			 ('<>', 'vector_ne', '<>', '=', 'neqsel', 'neqjoinsel'),
			 ('=', 'vector_eq', '=', '<>', 'eqsel', 'eqjoinsel'),
			 ('>', 'vector_gt', '<', '<=', 'scalargtsel', 'scalargtjoinsel'),
			 ('>=', 'vector_ge', '<=', '<', 'scalargesel', 'scalargejoinsel'),
			 ('||', 'vector_concat', '-', '-', '-', '-')$$,
	'operators on (vector, vector): functions, commutators, negators, estimators');

-- default btree operator class
SELECT has_opclass('vector_ops');
SELECT results_eq(
	$$SELECT opcdefault, opcintype::regtype::text FROM pg_opclass AS c
	  JOIN pg_am AS a ON a.oid = c.opcmethod AND a.amname = 'btree'
	  WHERE c.opcname = 'vector_ops'$$,
	$$VALUES (true, 'vector')$$,
	'vector_ops is the default btree operator class of vector');
SELECT results_eq(
	$$SELECT 'op' AS kind, amopstrategy::int AS num, amopopr::regoperator::text AS member
	  FROM pg_amop JOIN pg_opclass AS c ON c.opcfamily = amopfamily
	  WHERE c.opcname = 'vector_ops' AND amopmethod = c.opcmethod
	  UNION ALL
	  SELECT 'proc', amprocnum::int, amproc::regprocedure::text
	  FROM pg_amproc JOIN pg_opclass AS c ON c.opcfamily = amprocfamily
	  WHERE c.opcname = 'vector_ops'
	  ORDER BY 1, 2$$,
	$$VALUES ('op', 1, '<(vector,vector)'), ('op', 2, '<=(vector,vector)'),
			 ('op', 3, '=(vector,vector)'), ('op', 4, '>=(vector,vector)'),
			 ('op', 5, '>(vector,vector)'), ('proc', 1, 'vector_cmp(vector,vector)')$$,
	'vector_ops: strategies 1-5 and support function 1');

-- casts
SELECT has_cast('vector', 'vector', 'vector'::name);
SELECT has_cast('vector', 'real[]', 'vector_to_float4'::name);
SELECT has_cast('integer[]', 'vector', 'array_to_vector'::name);
SELECT has_cast('real[]', 'vector', 'array_to_vector'::name);
SELECT has_cast('double precision[]', 'vector', 'array_to_vector'::name);
SELECT has_cast('numeric[]', 'vector', 'array_to_vector'::name);
SELECT cast_context_is('vector', 'vector', 'implicit');
SELECT cast_context_is('vector', 'real[]', 'implicit');
SELECT cast_context_is('integer[]', 'vector', 'assignment');
SELECT cast_context_is('real[]', 'vector', 'assignment');
SELECT cast_context_is('double precision[]', 'vector', 'assignment');
SELECT cast_context_is('numeric[]', 'vector', 'assignment');

-- aggregates
SELECT is_aggregate('avg', ARRAY['vector']);
SELECT is_aggregate('sum', ARRAY['vector']);
SELECT results_eq(
	$$SELECT p.proname::text COLLATE "default", a.aggtransfn::text, a.aggcombinefn::text,
			 a.aggfinalfn::text, a.aggtranstype::regtype::text, a.agginitval COLLATE "default",
			 p.proparallel::text, p.prorettype::regtype::text
	  FROM pg_aggregate AS a JOIN pg_proc AS p ON p.oid = a.aggfnoid
	  WHERE p.oid IN ('avg(vector)'::regprocedure, 'sum(vector)'::regprocedure)
	  ORDER BY 1$$,
	$$VALUES ('avg', 'vector_accum', 'vector_combine', 'vector_avg',
			  'double precision[]', '{0}', 's', 'vector'),
			 ('sum', 'vector_add', 'vector_add', '-', 'vector', NULL, 's', 'vector')$$,
	'avg(vector) and sum(vector): state, combine function, parallel safe');

SELECT * FROM finish();
ROLLBACK;
