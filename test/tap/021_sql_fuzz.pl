# SQL-level fuzzing: about 3,000 random and malformed inputs against a live
# server, each of which must answer with a value or a clean ERROR whose
# SQLSTATE is of class 22 (data exception), 42 (syntax or access), 54
# (program limit) or 0A (not supported), and the server must stay up
# (the same backend answers a whole batch; no crash in the log).
#
#   - vector literals: valid ones (their values are checked), NaN and
#     infinity spellings, huge exponents, very long inputs, malformed ones,
#     mutations of valid ones and random strings;
#   - typmods vector(n) for n in -5..20000, on casts and on columns;
#   - index options m and ef_construction in CREATE INDEX and ALTER INDEX:
#     numbers in and out of range, strings, huge numbers, unknown names;
#   - values of hnswmm.ef_search, hnswmm.iterative_scan and
#     hnswmm.max_scan_tuples, each followed by an index scan;
#   - the type's functions and operators with extreme arguments (overflow,
#     16,000 dimensions and more, casts of odd arrays) and hand-made
#     states of the avg(vector) aggregate (NaN, infinities, NULLs, 2-D).
#
# Where the answer is known (a valid literal, a typmod, an integer option
# or setting) it is checked exactly.  The seed is fixed, so every run sends
# the same inputs.
use strict;
use warnings;
use utf8;
use Encode qw(encode_utf8);
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;

srand($ENV{SQL_FUZZ_SEED} // 20240921);
my $MAX_DIM = 16000;

my $node = hnswmm_node('sql_fuzz');
quiet_log($node, 1);
my $log_start = log_size($node);
my $postmaster = $node->{_pid};

# fz_try(statements): run them in order in a subtransaction; 'ok <result
# of the last SELECT>' or 'error <SQLSTATE>'
$node->safe_psql('postgres', q{
	CREATE TABLE fz (id int PRIMARY KEY, emb vector(3));
	INSERT INTO fz SELECT g, ARRAY[g, g % 7, g % 3]::real[]::vector FROM generate_series(1, 50) g;
	CREATE INDEX fz_idx ON fz USING hnswmm (emb) WITH (m = 4, ef_construction = 16);
	CREATE FUNCTION fz_try(stmts text[]) RETURNS text LANGUAGE plpgsql AS $$
	DECLARE
		r text;
		s text;
	BEGIN
		FOREACH s IN ARRAY stmts LOOP
			r := NULL;
			IF s ~* '^\s*(SELECT|WITH)' THEN
				EXECUTE s INTO r;
			ELSE
				EXECUTE s;
			END IF;
		END LOOP;
		RETURN 'ok ' || coalesce(r, '-');
	EXCEPTION WHEN OTHERS THEN
		RETURN 'error ' || SQLSTATE;
	END $$;
});

# ---------------------------------------------------------------------
# Generators.  A case is [category, [statements], expectation, label];
# an expectation is 'ok' (with an optional check of the result), a
# SQLSTATE, or 'any' (a value or an error of an allowed class).
# ---------------------------------------------------------------------

my @cases;
sub add_case { push @cases, [@_]; return; }

sub pick { return $_[ int(rand(@_)) ]; }
sub sq { my ($s) = @_; $s =~ s/'/''/g; return "'$s'"; }

# A literal's cast, returning "dims roundtrip text" (text only when short)
sub literal_stmt
{
	my ($lit, $typmod) = @_;
	my $type = defined $typmod ? "vector($typmod)" : 'vector';
	return "SELECT vector_dims(v) || ' ' || (v::text::vector = v)::text || ' ' || "
	  . "CASE WHEN vector_dims(v) <= 64 THEN v::text ELSE '...' END "
	  . "FROM (SELECT " . sq($lit) . "::$type AS v) s";
}

my @blank = ('', '', '', ' ', '  ', "\t", "\n", " \r\n ");

# A number as text, and its value
sub random_number
{
	my $kind = int(rand(5));
	my $x;
	if ($kind == 0) { $x = int(rand(2001)) - 1000; return ("$x", $x); }
	if ($kind == 1) { my $s = sprintf('%.*f', int(rand(8)), rand(200) - 100); return ($s, $s + 0); }
	if ($kind == 2)
	{
		my $s = sprintf('%.*e', int(rand(9)), (rand() < 0.5 ? -1 : 1) * rand() * 10 ** (int(rand(60)) - 30));
		$s =~ s/e\+/pick('e', 'E', 'e+', 'E+')/e;
		$s =~ s/e-/pick('e-', 'E-')/e;
		return ($s, $s + 0);
	}
	if ($kind == 3) { my $s = pick('0', '-0', '+0', '0.0', '.5', '-.25', '5.', '+7', '1e0', '00012'); return ($s, $s + 0); }
	$x = rand() * 2 - 1;
	return (sprintf('%.9g', $x), sprintf('%.9g', $x) + 0);
}

# A valid literal of n elements, and the elements' values
sub valid_literal
{
	my ($n) = @_;
	my (@text, @values);
	for (1 .. $n)
	{
		my ($s, $v) = random_number();
		push @text, pick(@blank) . $s . pick(@blank);
		push @values, $v;
	}
	return (pick(@blank) . '[' . join(',', @text) . ']' . pick(@blank), \@values);
}

# Check 'dims roundtrip text' against the expected values (as float4)
sub values_check
{
	my ($values) = @_;
	return sub {
		my ($res) = @_;
		my ($dims, $round, $text) = split / /, $res, 3;
		return "dims $dims, not " . scalar(@$values) if $dims != @$values;
		return 'text does not read back' if $round ne 'true';
		return '' if $text eq '...';
		$text =~ s/^\[|\]$//g;
		my @got = split /,/, $text;
		for my $i (0 .. $#got)
		{
			my $want = unpack('f', pack('f', $values->[$i]));
			my $tol = abs($want) * 2e-7 + 1e-45;
			return "element $i is $got[$i], not $want" if abs($got[$i] - $want) > $tol;
		}
		return '';
	};
}

sub dims_check
{
	my ($n) = @_;
	return sub {
		my ($dims, $round) = split / /, $_[0];
		return $dims == $n && $round eq 'true' ? '' : "got '$_[0]', want $n dimensions";
	};
}

# 1. valid literals
for (1 .. 450)
{
	my $n = rand() < 0.9 ? 1 + int(rand(20)) : 1 + int(rand(3000));
	my ($lit, $values) = valid_literal($n);
	add_case('literal', [ literal_stmt($lit) ], 'ok', "valid, $n elements", values_check($values));
}

# 2. fixed spellings with known answers
my @fixed = (
	[ '[1,2,3]', 'ok' ], [ ' [ 1 , 2 , 3 ] ', 'ok' ], [ "[\t1\n,2]", 'ok' ],
	[ '[NaN]', '22000' ], [ '[nan]', '22000' ], [ '[1,NAN]', '22000' ], [ '[-nan]', '22000' ],
	[ '[nan(123)]', '22000' ], [ '[Infinity]', '22000' ], [ '[-Infinity]', '22000' ],
	[ '[inf]', '22000' ], [ '[-INF]', '22000' ], [ '[infinity,1]', '22000' ],
	[ '[1e39]', '22003' ], [ '[-1e39]', '22003' ], [ '[3.5e38]', '22003' ],
	[ '[3.4028236e38]', '22003' ], [ '[3.4028234e38]', 'ok' ], [ '[1e-50]', 'ok' ],
	[ '[1e-46]', 'ok' ], [ '[-1e-46]', 'ok' ], [ '[1e-45]', 'ok' ], [ '[1.17549435e-38]', 'ok' ],
	[ '[0e999999]', 'ok' ], [ '[-0]', 'ok' ],
	[ '[1e99999999999999999999]', '22003' ], [ '[1e-99999999999999999999]', 'ok' ],
	[ '[-1e+2147483648]', '22003' ], [ '[' . ('9' x 400) . ']', '22003' ],
	[ '[0.' . ('0' x 400) . '1]', 'ok' ], [ '[' . ('1' x 30) . '.5]', 'ok' ],
	[ '[0x1p3]', 'ok' ], [ '[0x]', '22P02' ],
	[ '[]', '22000' ], [ '[ ]', '22000' ], [ "[\n]", '22000' ],
	[ '', '22P02' ], [ ' ', '22P02' ], [ '[', '22P02' ], [ ']', '22P02' ], [ '[1', '22P02' ],
	[ '[1,', '22P02' ], [ '[1,]', '22P02' ], [ '[,1]', '22P02' ], [ '[1,,2]', '22P02' ],
	[ '[1 2]', '22P02' ], [ '[1]x', '22P02' ], [ '[1] [2]', '22P02' ], [ '[[1]]', '22P02' ],
	[ '{1,2}', '22P02' ], [ '(1,2)', '22P02' ], [ '[1;2]', '22P02' ], [ '1,2', '22P02' ],
	[ '[1.2.3]', '22P02' ], [ '[--1]', '22P02' ], [ '[+-1]', '22P02' ], [ '[1e]', '22P02' ],
	[ '[e5]', '22P02' ], [ '[.]', '22P02' ], [ '[１]', '22P02' ], [ '[1,"2"]', '22P02' ],
	[ "[1,'2']", '22P02' ], [ '[null]', '22P02' ], [ '[1]]', '22P02' ],
);
for my $f (@fixed)
{
	add_case('literal', [ literal_stmt($f->[0]) ], $f->[1], "fixed " . substr($f->[0], 0, 40));
}

# 3. long inputs
add_case('literal', [ literal_stmt('[' . join(',', (1) x $MAX_DIM) . ']') ], 'ok',
	'16000 elements', dims_check($MAX_DIM));
add_case('literal', [ literal_stmt('[' . join(',', map { sprintf('%.15f', $_ / 7) } 1 .. $MAX_DIM) . ']') ],
	'ok', '16000 long elements', dims_check($MAX_DIM));
add_case('literal', [ literal_stmt('[' . join(',', (1) x ($MAX_DIM + 1)) . ']') ], '54000', '16001 elements');
add_case('literal', [ literal_stmt('[' . join(',', (0) x 100000) . ']') ], '54000', '100000 elements');
add_case('literal', [ literal_stmt('[' . (',' x 100000) . ']') ], '22P02', '100000 commas');
add_case('literal', [ literal_stmt('[' . (' ' x 1_000_000) . '1]') ], 'ok', 'a million blanks', dims_check(1));
add_case('literal', [ literal_stmt('[1' . (' ' x 1_000_000) . ']') ], 'ok', 'a million blanks after', dims_check(1));
add_case('literal', [ literal_stmt('[' . ('1' x 100_000) . ']') ], '22003', '100000 digits');
add_case('literal', [ literal_stmt('[0.' . ('1' x 100_000) . ']') ], 'ok', '100000 decimals', dims_check(1));
add_case('literal', [ literal_stmt('x' x 1_000_000) ], '22P02', 'a million x');
add_case('literal', [ literal_stmt('[' . join(',', (1) x $MAX_DIM) . ']', $MAX_DIM) ], 'ok',
	'16000 elements as vector(16000)', dims_check($MAX_DIM));

# 4. mutations of valid literals and random strings
my @junk = ('[', ']', ',', '.', 'e', 'E', '+', '-', ' ', "\t", "\n", 'x', 'nan', 'inf',
	'0x', '1', '9', '0', "'", '"', '\\', '(', ')', '{', '}', 'é', '∞', '１', '٣', '1e38',
	'e-45', ';', '/*', '--', '$', '%', '%s', '%n', "\x01", "\x7f", '', '[]', ',,');
for (1 .. 650)
{
	my ($lit) = valid_literal(1 + int(rand(6)));
	for (1 .. 1 + int(rand(3)))
	{
		my $pos = int(rand(length($lit) + 1));
		my $op = int(rand(4));
		if ($op == 0) { substr($lit, $pos, 0) = pick(@junk); }
		elsif ($op == 1) { substr($lit, $pos, 1) = '' if $pos < length($lit); }
		elsif ($op == 2) { substr($lit, $pos, 1) = pick(@junk) if $pos < length($lit); }
		else { $lit .= substr($lit, int(rand(length($lit))), 1 + int(rand(5))); }
	}
	add_case('literal', [ literal_stmt($lit) ], 'any', 'mutated ' . substr($lit, 0, 40));
}
for (1 .. 300)
{
	my $lit = join('', map { pick(@junk) } 1 .. int(rand(25)));
	add_case('literal', [ literal_stmt($lit) ], 'any', 'random ' . substr($lit, 0, 40));
}

# 5. typmods, on casts and on columns
for (1 .. 420)
{
	my $d = rand() < 0.8 ? 1 + int(rand(8)) : 1 + int(rand(2000));
	my $n = pick(int(rand(20006)) - 5, int(rand(20006)) - 5, $d, $d, $d - 1, $d + 1,
		0, -1, -5, 1, $MAX_DIM, $MAX_DIM + 1, 20000);
	($d) = ($n) if $n >= 1 && $n <= 3000 && rand() < 0.5;
	my ($lit) = valid_literal($d);
	my $want = $n < 1 || $n > $MAX_DIM ? '22023' : $n == $d ? 'ok' : '22000';
	add_case('typmod', [ literal_stmt($lit, $n) ], $want, "vector($n) of $d",
		$want eq 'ok' ? dims_check($d) : undef);
}
for (1 .. 80)
{
	my $n = pick(int(rand(20006)) - 5, 0, -1, 1, 3, $MAX_DIM, $MAX_DIM + 1);
	my $want = $n < 1 || $n > $MAX_DIM ? '22023' : 'ok';
	add_case('typmod',
		[ "CREATE TEMP TABLE fz_t (v vector($n))", "INSERT INTO fz_t VALUES (NULL)",
		  "DROP TABLE fz_t" ], $want, "column vector($n)");
}
add_case('typmod', [ "SELECT '[1]'::vector(1, 2)::text" ], '22023', 'vector(1, 2)');
add_case('typmod', [ "SELECT '[1]'::vector('a')::text" ], 'any', "vector('a')");
add_case('typmod', [ "SELECT '[1]'::vector(99999999999)::text" ], 'any', 'vector(99999999999)');
add_case('typmod', [ "SELECT '[1,2,3]'::vector(3)::vector(2)::text" ], '22000', 'cast 3 to vector(2)');
add_case('typmod', [ "SELECT ARRAY[1,2,3]::vector(4)::text" ], '22000', 'array to vector(4)');

# 6. index options
sub option_value
{
	my $k = int(rand(10));
	return (pick(2, 3, 4, 8, 16, 32, 50, 100), 1) if $k < 3;
	return (int(rand(2100)) - 50, 1) if $k < 5;
	return (pick(0, 1, -1, 101, 1000, 1001, 2147483647, -2147483648), 1) if $k < 7;
	return (sq(pick(8, 16, 64, 100)), 1) if $k == 7;    # a quoted plain integer
	return (pick('99999999999999999999', '2147483648', '1e10', '1.5', '16.49', "'abc'",
		"''", "' 16'", "'16 '", "'0x10'", "'010'", 'true', 'off', "'-'", "'1e2'",
		"'16kB'", 'NULL', "'\x{00e9}'"), 0);
}
for (1 .. 520)
{
	my ($m, $m_int) = option_value();
	my ($ef, $ef_int) = option_value();
	my @opts;
	my $mode = int(rand(8));
	push @opts, "m = $m" unless $mode == 1;
	push @opts, "ef_construction = $ef" unless $mode == 2;
	push @opts, pick('ef_search = 10', 'fillfactor = 50', '"M" = 4', 'lists = 3', 'm = 4')
	  if $mode == 3;
	my $alter = rand() < 0.15 && @opts;
	# defaults: the built-in ones for CREATE INDEX, fz_idx's own for ALTER INDEX
	my ($mi, $efi) = $alter ? (4, 16) : (16, 64);
	$mi = $m =~ s/'//gr if $mode != 1 && $m_int;
	$efi = $ef =~ s/'//gr if $mode != 2 && $ef_int;
	my $want = 'any';
	if ($mode != 3 && ($m_int || $mode == 1) && ($ef_int || $mode == 2))
	{
		$want = $mi >= 2 && $mi <= 100 && $efi >= 4 && $efi <= 1000 && $efi >= 2 * $mi
		  ? 'ok' : '22023';
	}
	$want = '22023' if $mode == 3 && $opts[-1] ne 'm = 4';
	my $with = @opts ? 'WITH (' . join(', ', @opts) . ')' : '';
	if (!$alter)
	{
		add_case('option',
			[ "CREATE INDEX fz_opt ON fz USING hnswmm (emb) $with",
			  "SELECT count(*)::text FROM (SELECT id FROM fz ORDER BY emb <-> '[1,2,3]' LIMIT 5) s",
			  'DROP INDEX fz_opt' ], $want, "CREATE INDEX $with");
	}
	else
	{
		add_case('option', [ "ALTER INDEX fz_idx SET (" . join(', ', @opts) . ")",
				"ALTER INDEX fz_idx SET (m = 4, ef_construction = 16)" ],
			$want, "ALTER INDEX fz_idx SET (@opts)");
	}
}

# 7. settings, each followed by index scans
my $scan = "SELECT count(*)::text FROM (SELECT id FROM fz ORDER BY emb <-> '[1,2,3]' LIMIT 20) s";
my $filtered = "SELECT count(*)::text FROM (SELECT id FROM fz WHERE id % 10 = 0 ORDER BY emb <-> '[3,2,1]' LIMIT 4) s";
sub int_setting
{
	my $k = int(rand(8));
	return (int(rand(1100)) - 20, 1) if $k < 3;
	return (pick(0, 1, -1, 40, 1000, 1001, 2147483647, 2147483648, -2147483648,
		99999999999), 1) if $k < 6;
	return (sq(pick(1, 10, 500)), 1) if $k == 6;
	return (pick('1.5', "'1e3'", "'abc'", "''", "' 5'", "'5 '", "'0x10'", '1e2', "'10kB'",
		'DEFAULT', "'-'", 'on', "'\x{00e9}'", '99999999999999999999999'), 0);
}
for (1 .. 200)
{
	my ($v, $is_int) = int_setting();
	my $want = $is_int ? (($v =~ s/'//gr) >= 1 && ($v =~ s/'//gr) <= 1000 ? 'ok' : '22023') : 'any';
	add_case('setting', [ "SET LOCAL hnswmm.ef_search = $v", $scan ], $want, "ef_search = $v");
}
for (1 .. 200)
{
	my ($v, $is_int) = int_setting();
	my $want = $is_int ? (($v =~ s/'//gr) >= 1 && ($v =~ s/'//gr) <= 2147483647 ? 'ok' : '22023') : 'any';
	add_case('setting', [ "SET LOCAL hnswmm.max_scan_tuples = $v", $filtered ], $want,
		"max_scan_tuples = $v");
}
for (1 .. 200)
{
	my $v = pick('off', 'relaxed_order', 'strict_order', 'OFF', 'Strict_Order', 'RELAXED_ORDER',
		'on', 'true', 'false', '1', '0', 'relaxed', 'strict', '', ' off', 'off ', 'strict_order2',
		'relaxed-order', "\x{00e9}", 'x' x 300);
	my $quoted = rand() < 0.5 || $v !~ /^[a-z_][a-z_0-9]*$/i ? sq($v) : $v;
	my $want = (grep { lc($v) eq $_ } qw(off relaxed_order strict_order)) ? 'ok' : '22023';
	add_case('setting', [ "SET LOCAL hnswmm.iterative_scan = $quoted", $filtered, $scan ], $want,
		"iterative_scan = $quoted");
}
add_case('setting', [ 'SET LOCAL hnswmm.ef_search = DEFAULT', $scan ], 'ok', 'ef_search = DEFAULT');
add_case('setting', [ 'SET LOCAL hnswmm.no_such_setting = 1' ], '42602', 'unknown hnswmm setting');
add_case('setting', [ 'SET LOCAL hnswmm.ef_search TO 10, 20' ], '22023', 'a list for ef_search');

# 8. functions with extreme arguments, and hand-made aggregate states
my @ints = (0, 1, -1, 2, 3, 16000, 16001, 2147483647, -2147483648, 1073741824, -1073741824);
for (1 .. 80)
{
	my ($a, $b) = (pick(@ints, int(rand(10)) - 3), pick(@ints, int(rand(10)) - 3));
	add_case('function', [ "SELECT subvector('[1,2,3,4,5]', $a, $b)::text" ], 'any', "subvector($a, $b)");
}
my @vecs = ("'[1,2,3]'", "'[3e38,3e38,-3e38]'", "'[1e-30,1e-30,1e-30]'", "'[0,0,0]'", "'[1]'",
	"'[1,2]'", "'[-0,0,1.4e-45]'", "array_fill(1, ARRAY[8000])::vector",
	"array_fill(2, ARRAY[8001])::vector", "array_fill(3e38::real, ARRAY[3])::vector");
my @ops = ('+', '-', '*', '||', '<->', '<#>', '<=>', '<+>', '<', '=');
for (1 .. 120)
{
	my ($x, $y, $op) = (pick(@vecs), pick(@vecs), pick(@ops));
	add_case('function', [ "SELECT md5((${x}::vector $op ${y}::vector)::text)" ], 'any', "$x $op $y");
}
for my $f ('vector_norm', 'l2_normalize', 'vector_dims')
{
	add_case('function', [ "SELECT md5($f(${_}::vector)::text)" ], 'ok', "$f($_)") for @vecs;
}
my @arrays = ('ARRAY[NULL]::real[]', 'ARRAY[[1,2],[3,4]]::real[]', "'{}'::real[]",
	'ARRAY[1e39]::float8[]', 'ARRAY[1e-50]::float8[]', "ARRAY['NaN']::float8[]",
	"ARRAY['Infinity']::numeric[]", "ARRAY['1e400']::numeric[]", "ARRAY['NaN']::numeric[]",
	'ARRAY[2147483647, -2147483648]::int[]', "'[5:6]={1,2}'::real[]",
	'array_fill(1, ARRAY[16001])::real[]', 'array_fill(1, ARRAY[16000])::int[]');
for my $arr (@arrays)
{
	add_case('function', [ "SELECT md5(($arr)::vector::text)" ], 'any', "cast $arr");
	add_case('function', [ "SELECT md5(($arr)::vector(2)::text)" ], 'any', "cast $arr to vector(2)");
}
my @elems = ('0', '1', '-1', '2', '1e308', '-1e308', "'NaN'", "'Infinity'", "'-Infinity'",
	'1e-320', 'NULL', '-0');
sub state_array
{
	my $n = int(rand(6));
	return pick("'{}'::float8[]", "'{{1,2},{3,4}}'::float8[]", "'[0:1]={1,2}'::float8[]",
		'array_fill(1::float8, ARRAY[16002])', "'{1}'::float8[]")
	  if rand() < 0.2;
	return 'ARRAY[' . join(',', map { pick(@elems) } 0 .. $n) . ']::float8[]';
}
for (1 .. 150)
{
	my ($s1, $s2) = (state_array(), state_array());
	my $call = pick("vector_avg($s1)", "vector_combine($s1, $s2)", "vector_accum($s1, '[1,2]')",
		"vector_avg(vector_combine($s1, $s2))", "vector_avg(vector_accum($s1, '[3e38,1]'))");
	add_case('function', [ "SELECT md5(($call)::text)" ], 'any', $call);
}

# ---------------------------------------------------------------------
# Run them in batches, one session each
# ---------------------------------------------------------------------

my $BATCH = 300;
my (%bad, %count, %answers, @notes);
my $pids_ok = 1;
my $answered = 0;
for (my $first = 0; $first < @cases; $first += $BATCH)
{
	my $last = $first + $BATCH - 1;
	$last = $#cases if $last > $#cases;
	# LOAD first: a SET of an hnswmm setting before the library is loaded
	# would only make a placeholder, checked (with a WARNING) at the load
	my $script = "LOAD 'hnswmm';\nSET enable_seqscan = off;\nSET jit = off;\nSET statement_timeout = '60s';\n"
	  . "SELECT 'pid', pg_backend_pid();\n";
	for my $i ($first .. $last)
	{
		my $stmts = join(', ', map {
			my $s = $_;
			die "case $i contains the quote tag" if $s =~ /\$fzq\$/;
			"\$fzq\$$s\$fzq\$" } @{ $cases[$i][1] });
		$script .= "SELECT 'c$i', fz_try(ARRAY[$stmts]);\n";
	}
	$script .= "SELECT 'pid', pg_backend_pid();\n";
	my ($rc, $out, $err) = $node->psql('postgres', encode_utf8($script),
		extra_params => [ '-F', '|' ], on_error_stop => 0);
	my @pids = $out =~ /^pid\|(\d+)$/mg;
	if (@pids != 2 || $pids[0] != $pids[1])
	{
		$pids_ok = 0;
		push @notes, "batch from case $first: backend pids @pids; psql: " . substr($err, 0, 500);
	}
	my %res = $out =~ /^c(\d+)\|(.*)$/mg;
	for my $i ($first .. $last)
	{
		my ($cat, undef, $want, $label, $check) = @{ $cases[$i] };
		$count{$cat}++;
		my $res = $res{$i};
		my $why;
		if (!defined $res)
		{
			$why = 'no answer';
		}
		else
		{
			$answered++;
			my ($kind, $rest) = split / /, $res, 2;
			$answers{ $kind eq 'ok' ? 'value' : $rest }++;
			if ($kind eq 'error' && !sqlstate_class_ok($rest))
			{
				$why = "SQLSTATE $rest is not of class 22, 42, 54 or 0A";
			}
			elsif ($want eq 'ok')
			{
				$why = $kind ne 'ok' ? "error $rest, expected a value"
				  : $check ? $check->($rest) : '';
			}
			elsif ($want ne 'any')
			{
				$why = "expected $want, got $res" if $res ne "error $want";
			}
		}
		if ($why)
		{
			$bad{$cat}++;
			push @notes, "$cat: $label: $why" if @notes < 40;
		}
	}
}

note(scalar(@cases) . ' cases: ' . join(', ', map { "$_ $count{$_}" } sort keys %count));
note('answers: ' . join(', ', map { "$_ $answers{$_}" } sort keys %answers));
cmp_ok(scalar(@cases), '>=', 3000, 'at least 3,000 inputs');
is($answered, scalar(@cases), 'every input got an answer');
for my $cat (qw(literal typmod option setting function))
{
	is($bad{$cat} // 0, 0, "$cat inputs: a value or a clean error, as expected ($count{$cat})");
}
diag($_) for @notes;
ok($pids_ok, 'one backend answered each batch (no backend died)');
is($node->{_pid}, $postmaster, 'the postmaster is the same');
ok(kill(0, $postmaster), 'the postmaster is alive');
is($node->safe_psql('postgres', "SELECT count(*) FROM fz ORDER BY 1"), '50', 'the server answers');
is($node->safe_psql('postgres', "SELECT live FROM hnswmm_verify('fz_idx')"), '50',
	'hnswmm_verify passes on the index whose options were altered');
my @problems = log_problems($node, from => $log_start, errors => 0);
is(scalar(@problems), 0, 'server log: no warning, crash, assertion failure or leak')
  or diag(join("\n", @problems[0 .. ($#problems < 20 ? $#problems : 19)]));
is(server_crashed($node), '', 'no crash');

$node->stop;
done_testing();
