# ALTER EXTENSION hnswmm UPDATE from every released version.
#
# For each released version (its install script ships in
# src/sql/released/): create the extension at that version, a table with
# an index, inserts, deletes and VACUUM, then ALTER EXTENSION ... UPDATE
# to the default version.  Afterwards the SQL objects are exactly those of
# a fresh install of the default version (same functions with the same
# result types and privileges, operators, operator classes, types with
# their category, preference and storage), the old index
# answers right, takes inserts and VACUUM, and hnswmm_verify passes.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = hnswmm_node('upgrade');
my $default = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'hnswmm'");
my @released = grep { $_ ne $default } split /\n/, $node->safe_psql('postgres', q{
	SELECT version FROM pg_available_extension_versions WHERE name = 'hnswmm' ORDER BY 1});
cmp_ok(scalar(@released), '>=', 1, "released versions before $default: @released");

# The extension's objects, as text: functions with their result types and
# ACLs, operators, operator classes and their access methods
my $objects = q{
	SELECT string_agg(d, E'\n' ORDER BY d) FROM (
		SELECT 'function ' || p.oid::regprocedure || ' -> ' || pg_get_function_result(p.oid)
		       || ' ' || coalesce(p.proacl::text, 'default') AS d
		FROM pg_proc p JOIN pg_depend x ON x.classid = 'pg_proc'::regclass AND x.objid = p.oid
		WHERE x.deptype = 'e' AND x.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'hnswmm')
		UNION ALL
		SELECT 'operator ' || o.oid::regoperator
		FROM pg_operator o JOIN pg_depend x ON x.classid = 'pg_operator'::regclass AND x.objid = o.oid
		WHERE x.deptype = 'e' AND x.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'hnswmm')
		UNION ALL
		SELECT 'opclass ' || c.opcname || ' ' || a.amname
		FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
		JOIN pg_depend x ON x.classid = 'pg_opclass'::regclass AND x.objid = c.oid
		WHERE x.deptype = 'e' AND x.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'hnswmm')
		UNION ALL
		SELECT 'type ' || t.oid::regtype || ' category ' || t.typcategory::text || ' preferred ' || t.typispreferred
		       || ' storage ' || t.typstorage::text
		FROM pg_type t JOIN pg_depend x ON x.classid = 'pg_type'::regclass AND x.objid = t.oid
		WHERE x.deptype = 'e' AND x.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'hnswmm')
	) s};
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION hnswmm');
my $fresh = $node->safe_psql('fresh', $objects);

for my $version (@released)
{
	my $db = "from_$version";
	$db =~ s/\W/_/g;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{
		CREATE EXTENSION hnswmm VERSION '$version';
		CREATE TABLE t (id int PRIMARY KEY, emb vector(8));
		INSERT INTO t SELECT i, ARRAY[sin(i), cos(i), sin(2 * i), cos(2 * i),
		                              sin(3 * i), cos(3 * i), sin(5 * i), cos(5 * i)]::real[]
		FROM generate_series(1, 2000) i;
		CREATE INDEX t_idx ON t USING hnswmm (emb) WITH (m = 8, ef_construction = 32);
		DELETE FROM t WHERE id % 7 = 0;
		VACUUM t;
	});
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'hnswmm'"),
		$version, "$version: installed");
	$node->safe_psql($db, 'ALTER EXTENSION hnswmm UPDATE');
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'hnswmm'"),
		$default, "$version: updated to $default");
	is($node->safe_psql($db, $objects), $fresh,
		"$version: after the update the objects are those of a fresh install of $default");

	$node->safe_psql($db, q{
		INSERT INTO t SELECT i, ARRAY[sin(i), cos(i), sin(2 * i), cos(2 * i),
		                              sin(3 * i), cos(3 * i), sin(5 * i), cos(5 * i)]::real[]
		FROM generate_series(2001, 2200) i;
		DELETE FROM t WHERE id % 11 = 0;
		VACUUM t;
	});
	my ($found, $total) = self_found($node, $db, 't');
	is($found, $total, "$version: the old index finds every row after the update ($found of $total)");
	is($node->safe_psql($db, q{
		SELECT live = (SELECT count(*) FROM t) AND unreachable = 0 FROM hnswmm_verify('t_idx')}),
		't', "$version: hnswmm_verify passes on the old index and counts the live rows");
}

$node->stop;
done_testing();
