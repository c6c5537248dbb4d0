# Security of the SQL interface.
#
#   - No SQL-callable function of the extension takes a file path (no
#     argument of a string type, apart from the type's text input and
#     typmod input, and no argument named like a path), none is SECURITY
#     DEFINER, every C function lives in the extension's own library, and a
#     function that returns `internal` also takes it (so SQL cannot call
#     it with a made-up value).
#   - hnswmm_verify is not for PUBLIC (it locks the table against writers
#     while it runs, as amcheck's checks do): a role needs EXECUTE granted;
#     and it lets go of its locks when it returns, so that a reader's open
#     transaction does not block writers.
#   - hnswmm_index_info, hnswmm_verify and hnswmm_prewarm need SELECT on the index's table:
#     a role without it gets 42501 (also when it names the index by OID,
#     and at once even while another session holds an exclusive lock on
#     the table); with SELECT, directly, through a granted role or through
#     pg_read_all_data, they work.  Other relations than hnswmm indexes
#     are refused with 42809.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = hnswmm_node('security');
my $log_start = log_size($node);

# ---------------------------------------------------------------------
# The extension's functions
# ---------------------------------------------------------------------
my $functions = q{
	SELECT p.oid::regprocedure::text AS sig, l.lanname, p.prosecdef, p.prorettype, p.proargtypes,
	       coalesce(p.proallargtypes, p.proargtypes::oid[]) AS alltypes,
	       coalesce(p.proargnames, '{}') AS names, p.probin, p.prokind
	FROM pg_proc p
	JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'hnswmm'
	JOIN pg_language l ON l.oid = p.prolang};

my $nfunc = $node->safe_psql('postgres', "SELECT count(*) FROM ($functions) f");
cmp_ok($nfunc, '>=', 40, "the extension has $nfunc functions");

is($node->safe_psql('postgres', qq{
	SELECT string_agg(sig, ', ' ORDER BY sig) FROM ($functions) f
	WHERE EXISTS (SELECT 1 FROM unnest(proargtypes::oid[]) t
	              WHERE t IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'name'::regtype,
	                          'bytea'::regtype, 'cstring'::regtype, '_text'::regtype, '_cstring'::regtype,
	                          'json'::regtype, 'jsonb'::regtype, 'xml'::regtype, 'anyelement'::regtype,
	                          '"any"'::regtype, 'unknown'::regtype))
	  AND sig NOT IN ('vector_in(cstring,oid,integer)', 'vector_typmod_in(cstring[])',
	                  'halfvec_in(cstring,oid,integer)', 'halfvec_typmod_in(cstring[])',
	                  'sparsevec_in(cstring,oid,integer)', 'sparsevec_typmod_in(cstring[])')}),
	'', 'no function takes a string argument (a path could be one), apart from the type\'s input functions');
is($node->safe_psql('postgres', "SELECT count(*) FROM ($functions) f WHERE proargtypes::oid[] <> alltypes AND prokind <> 'a' AND sig !~ '^hnswmm_(index_info|verify|prewarm|distance_kernels|read_counts)\\('"),
	'0', 'only the inspection functions have OUT arguments');

is($node->safe_psql('postgres', qq{
	SELECT string_agg(sig || ' ' || n, ', ') FROM ($functions) f, unnest(names) n
	WHERE n ~* '(path|file|dir|fname|location|dump|load|save)'}),
	'', 'no argument is named like a path or file');

is($node->safe_psql('postgres', "SELECT string_agg(sig, ', ') FROM ($functions) f WHERE prosecdef"),
	'', 'no function is SECURITY DEFINER');

is($node->safe_psql('postgres', qq{
	SELECT string_agg(sig || ' (' || lanname || ')', ', ') FROM ($functions) f
	WHERE lanname NOT IN ('c', 'internal', 'sql')
	   OR (lanname = 'c' AND probin <> '\$libdir/hnswmm')
	   OR (lanname = 'internal' AND prokind <> 'a')}),
	'', 'C functions come from $libdir/hnswmm only; the only others are aggregates');

is($node->safe_psql('postgres', qq{
	SELECT string_agg(sig, ', ') FROM ($functions) f
	WHERE prorettype = 'internal'::regtype AND NOT 'internal'::regtype = ANY (alltypes)}),
	'', 'every function returning internal takes internal');

# the list, for the record
note('functions: ' . $node->safe_psql('postgres', "SELECT string_agg(sig, ', ' ORDER BY sig) FROM ($functions) f"));

# ---------------------------------------------------------------------
# Privileges of hnswmm_index_info and hnswmm_verify
# ---------------------------------------------------------------------
$node->safe_psql('postgres', q{
	CREATE TABLE secret (id int, emb vector(3));
	INSERT INTO secret SELECT g, ARRAY[g, g * 2, g % 5]::real[]::vector FROM generate_series(1, 100) g;
	CREATE INDEX secret_idx ON secret USING hnswmm (emb);
	CREATE INDEX secret_btree ON secret (id);
	CREATE ROLE nopriv LOGIN;
	CREATE ROLE viaread LOGIN;
	CREATE ROLE reader;
	CREATE ROLE viarole LOGIN IN ROLE reader;
	GRANT pg_read_all_data TO viaread;
	GRANT SELECT ON secret TO reader;
});
my $idx_oid = $node->safe_psql('postgres', "SELECT 'secret_idx'::regclass::oid");

# ($sqlstate or 'ok', output) of $sql run as $role
sub as_role
{
	my ($role, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', $role ]);
	return ('ok', $out) if $rc == 0;
	return ($err =~ /ERROR:  ([0-9A-Z]{5}):/ ? $1 : "?? $err", $err);
}

# hnswmm_verify needs EXECUTE, which PUBLIC does not have
for my $role ('nopriv', 'viarole')
{
	my ($state, $err) = as_role($role, "SELECT * FROM hnswmm_verify('secret_idx')");
	is($state, '42501', "hnswmm_verify without EXECUTE ($role): 42501");
	like($err, qr/permission denied for function hnswmm_verify/,
		"hnswmm_verify without EXECUTE ($role): names the function");
}
$node->safe_psql('postgres',
	'GRANT EXECUTE ON FUNCTION hnswmm_verify(regclass) TO nopriv, viarole, viaread');

for my $f ('hnswmm_index_info', 'hnswmm_verify', 'hnswmm_prewarm')
{
	my ($state, $err) = as_role('nopriv', "SELECT * FROM $f('secret_idx')");
	is($state, '42501', "$f without SELECT on the table: 42501");
	like($err, qr/permission denied for table secret/, "$f without SELECT: names the table");

	($state) = as_role('nopriv', "SELECT * FROM $f(${idx_oid}::oid::regclass)");
	is($state, '42501', "$f by OID without SELECT: 42501");

	($state) = as_role('viarole', "SELECT * FROM $f('secret_idx')");
	is($state, 'ok', "$f with SELECT through a granted role works");
	($state) = as_role('viaread', "SELECT * FROM $f('secret_idx')");
	is($state, 'ok', "$f as a member of pg_read_all_data works");

	($state) = as_role('viarole', "SELECT * FROM $f('secret_btree')");
	is($state, '42809', "$f of a btree index: 42809");
	($state) = as_role('viarole', "SELECT * FROM $f('secret')");
	is($state, '42809', "$f of a table: 42809");
}

# The check comes before any lock: a role without SELECT is refused at
# once, not queued behind an exclusive lock on the table
{
	my ($in, $out, $err) = ('', '', '');
	my $locker = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres') ],
		'<', \$in, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
	$in .= "BEGIN; LOCK TABLE secret IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n";
	$locker->pump until $out =~ /locked/;
	for my $f ('hnswmm_index_info', 'hnswmm_verify', 'hnswmm_prewarm')
	{
		my $t0 = time();
		my ($state) = as_role('nopriv', "SET lock_timeout = '10s'; SELECT * FROM $f(${idx_oid}::oid::regclass)");
		my $secs = time() - $t0;
		is($state, '42501', "$f without SELECT while the table is locked: 42501");
		cmp_ok($secs, '<', 5, sprintf("$f without SELECT is refused at once (%.2f s), not after the lock", $secs));
	}
	$in .= "COMMIT;\n\\q\n";
	$locker->finish;
}

{
	$node->safe_psql('postgres', 'GRANT SELECT ON secret TO nopriv');
	my ($state, $out) = as_role('nopriv', "SELECT nodes FROM hnswmm_index_info('secret_idx')");
	is("$state $out", 'ok 100', 'hnswmm_index_info after GRANT SELECT works');
	($state, $out) = as_role('nopriv', "SELECT live FROM hnswmm_verify('secret_idx')");
	is("$state $out", 'ok 100', 'hnswmm_verify after GRANT SELECT works');
	$node->safe_psql('postgres', 'REVOKE SELECT ON secret FROM nopriv');
	($state) = as_role('nopriv', "SELECT * FROM hnswmm_verify('secret_idx')");
	is($state, '42501', 'after REVOKE: 42501 again');
}

# The inspection functions let go of their locks when they return: a
# reader that keeps its transaction open does not hold up writers
for my $f ('hnswmm_verify', 'hnswmm_index_info', 'hnswmm_prewarm')
{
	my $reader = quietly(sub { $node->background_psql('postgres', extra_params => [ '-U', 'viarole' ]) });
	quietly(sub { $reader->query_safe("BEGIN; SELECT * FROM $f('secret_idx')") });
	my $pid = quietly(sub { $reader->query_safe('SELECT pg_backend_pid()') });
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_locks WHERE pid = $pid AND locktype = 'relation'
		AND relation IN ('secret'::regclass, 'secret_idx'::regclass)}),
		'0', "$f in an open transaction holds no lock on the table or index afterwards");
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET lock_timeout = '5s'; INSERT INTO secret VALUES (0, '[1,1,1]'); DELETE FROM secret WHERE id = 0");
	is($rc, 0, "$f in an open transaction does not block an INSERT") or diag($err);
	quietly(sub { $reader->query_safe('COMMIT'); $reader->quit });
}

# Anyone may list the distance kernels (no argument, nothing to read)
my ($state) = as_role('nopriv', 'SELECT count(*) FROM hnswmm_distance_kernels()');
is($state, 'ok', 'hnswmm_distance_kernels is open to every role');

my @problems = log_problems($node, from => $log_start, errors => 0);
is(scalar(@problems), 0, 'server log: no warning, crash or leak')
  or diag(join("\n", @problems));
$node->stop;
done_testing();
