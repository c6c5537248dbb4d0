# Helpers shared by the Perl TAP tests: a cluster with hnswmm, and the
# fashion-mnist data set from Debian's dataset-fashion-mnist package.
package HnswmmTest;

use strict;
use warnings;
use Cwd ();
use Exporter 'import';
use IO::Uncompress::Gunzip qw($GunzipError);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(hnswmm_node fmnist_copy_file sql_file tempdir_abs require_pgvector_compat);
our @EXPORT_OK = qw(fmnist_labels);

my $FMNIST = $ENV{HNSWMM_FMNIST} // '/usr/share/datasets/fashion-mnist';

# A temporary directory as an absolute path: from PostgreSQL 17 the test
# framework gives a relative one, which a server (COPY FROM a file, CREATE
# TABLESPACE) would take relative to its data directory.
sub tempdir_abs
{
	return Cwd::abs_path(PostgreSQL::Test::Utils::tempdir());
}

# A started cluster with the extension created in database postgres.
# Option install_path: the server's installation (another major's, as
# pg_upgrade's test needs); the one on PATH by default.
sub hnswmm_node
{
	my ($name, %opts) = @_;
	my $install = delete $opts{install_path};
	my $node = PostgreSQL::Test::Cluster->new($name,
		defined $install ? (install_path => $install) : ());
	$node->init(%opts);
	$node->append_conf('postgresql.conf', <<'CONF');
shared_buffers = 256MB
maintenance_work_mem = 512MB
max_connections = 40
CONF
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION hnswmm');
	return $node;
}

# Write $sql to $dir/$name.sql (a pgbench script, say); returns the path.
sub sql_file
{
	my ($dir, $name, $sql) = @_;
	my $path = "$dir/$name.sql";
	open(my $fh, '>', $path) or die "open $path: $!";
	print $fh $sql;
	close($fh);
	return $path;
}

# Write rows [first, first + count) of a fashion-mnist split ('train' or
# 't10k') as COPY text "id<TAB>[v,...]" to a file; returns its path.
sub fmnist_copy_file
{
	my ($split, $first, $count) = @_;
	my $gz = "$FMNIST/$split-images-idx3-ubyte.gz";
	my $data;
	IO::Uncompress::Gunzip::gunzip($gz => \$data) or die "gunzip $gz: $GunzipError";
	my (undef, $n, $rows, $cols) = unpack('N4', substr($data, 0, 16));
	my $dim = $rows * $cols;
	die "$gz has only $n images" if $first + $count > $n;
	my $path = tempdir_abs() . "/$split-$first-$count.copy";
	open(my $fh, '>', $path) or die "open $path: $!";
	for my $i ($first .. $first + $count - 1)
	{
		my @v = unpack("C$dim", substr($data, 16 + $i * $dim, $dim));
		print $fh $i, "\t[", join(',', @v), "]\n";
	}
	close($fh);
	chmod 0644, $path;
	return $path;
}

# ---------------------------------------------------------------------
# Helpers of the crash, replica, life-cycle and verify tests (010-014).
# ---------------------------------------------------------------------

push @EXPORT, qw(catch_up no_data_checksums hard_crash create_tv self_found index_vs_exact
  stray_files relation_files server_crashed have_gdb gdb_break gdb_wait_hit
  gdb_finish gdb_end quietly);

# Options of hnswmm_node for a cluster without data checksums, which
# PostgreSQL 18's initdb turns on by default (earlier ones off, without
# an option to say so)
sub no_data_checksums
{
	my $help = `initdb --help 2>&1`;
	return $help =~ /--no-data-checksums/ ? (extra => ['--no-data-checksums']) : ();
}

# Wait until $standby has replayed everything $primary has written so far,
# up to its WAL insert position: VACUUM assigns no transaction id, so its
# WAL is not flushed when it returns, and the written position that
# wait_for_catchup waits for by default can leave its last records out.
sub catch_up
{
	my ($primary, $standby) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	return;
}

# SIGKILL the postmaster and every process it started, as a power cut
# would (pg_ctl -m immediate sends SIGQUIT instead, which children
# handle).  The postmaster is stopped first so that it cannot fork while
# its children are collected; then everything is killed and we wait
# until the processes are gone, so that the node can be started again.
#
# $on_killed, if given, runs right after the signals are sent: a debugger
# attached to a backend must let go of it there, or the killed backend
# stays a zombie that the debugger never reaps.
sub hard_crash
{
	my ($node, $on_killed) = @_;
	my $pm = $node->{_pid};
	die "node " . $node->name . " is not running" unless defined $pm;
	kill 'STOP', $pm;
	my @children = _children($pm);
	kill 'KILL', @children if @children;
	$node->kill9;    # SIGKILL to the postmaster, forgets its pid
	$on_killed->() if $on_killed;
	for my $i (1 .. 600)
	{
		last unless grep { _alive($_) } ($pm, @children);
		select(undef, undef, undef, 0.05);
	}
	die "processes of " . $node->name . " survived SIGKILL"
	  if grep { _alive($_) } ($pm, @children);
	# The dead postmaster may stay a zombie for a while until init reaps
	# it, and a zombie's pid answers kill(0): a new postmaster would take
	# the lock files for a live one's.  They are stale: remove them.
	if (-e "/proc/$pm")
	{
		unlink($node->data_dir . '/postmaster.pid');
		unlink($node->host . '/.s.PGSQL.' . $node->port . '.lock');
	}
	return scalar(@children);
}

sub _children
{
	my ($ppid) = @_;
	my @pids;
	opendir(my $dh, '/proc') or die "opendir /proc: $!";
	for my $pid (grep { /^\d+$/ } readdir($dh))
	{
		open(my $fh, '<', "/proc/$pid/stat") or next;
		my $stat = <$fh>;
		close($fh);
		next unless defined $stat && $stat =~ /\)\s+(\S)\s+(\d+)/;
		push @pids, $pid if $2 == $ppid;
	}
	closedir($dh);
	return @pids;
}

# A process that still exists and is not a zombie
sub _alive
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return 0;
	my $stat = <$fh>;
	close($fh);
	return 0 unless defined $stat && $stat =~ /\)\s+(\S)/;
	return $1 ne 'Z' && $1 ne 'X';
}

# tv(i, dims): a deterministic vector made from a hash of i, distinct for
# distinct i (dims 16-bit fractions), so that a row's own vector is its
# unique nearest neighbour.
sub create_tv
{
	my ($node, $db) = @_;
	$node->safe_psql($db // 'postgres', q{
		CREATE FUNCTION tv(i bigint, dims int DEFAULT 16) RETURNS vector
		IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
			SELECT array_agg(((hashint8(i * 1000 + g) & 65535)::real / 65536) ORDER BY g)::vector
			FROM generate_series(1, dims) g
		$$;
	});
	return;
}

# Index scans for every row's own vector: returns (rows that find
# themselves as the first answer, rows).  ef_search = 1000 makes the scan
# exhaustive for fewer than 1,000 graph nodes.  Extra SQL ($where) limits
# the rows checked.
sub self_found
{
	my ($node, $db, $table, $where) = @_;
	$where //= 'true';
	my $res = $node->safe_psql($db, qq{
		SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnswmm.ef_search = 1000;
		SELECT count(*) FILTER (WHERE (SELECT i.id FROM $table i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id),
			   count(*)
		FROM $table o WHERE $where;
	});
	return split /\|/, $res;
}

# For each query vector tv(q) with q in @queries: does the index scan's
# top k equal the exact top k (a sort of all rows, in the same snapshot)?
# Returns the number of queries whose answers agree.
sub index_vs_exact
{
	my ($node, $db, $table, $k, @queries) = @_;
	my $qs = join(',', @queries);
	return $node->safe_psql($db, qq{
		SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnswmm.ef_search = 1000;
		SELECT count(*) FILTER (WHERE
			ARRAY(SELECT id FROM $table ORDER BY emb <-> tv(q) LIMIT $k) =
			ARRAY(SELECT id FROM $table ORDER BY (emb <-> tv(q)) + 0, id LIMIT $k))
		FROM unnest(ARRAY[$qs]::bigint[]) q;
	});
}

# Files of relations in a directory of a database (base/OID or a
# tablespace's): name => 1 for names like 16384, 16384.1, 16384_fsm.
sub relation_files
{
	my ($dir) = @_;
	my %files;
	opendir(my $dh, $dir) or return {};
	$files{$_} = 1 for grep { /^\d+(?:_[a-z]+)?(?:\.\d+)?$/ } readdir($dh);
	closedir($dh);
	return \%files;
}

# Files of database $db (in its default tablespace, or in tablespace
# $tsoid) that belong to no relation of its pg_class, and relations of it
# whose main file is missing.  Returns (\@stray, \@missing).
sub stray_files
{
	my ($node, $db, $tsoid) = @_;
	my $dboid = $node->safe_psql($db,
		"SELECT oid FROM pg_database WHERE datname = current_database()");
	my $dir = defined $tsoid
	  ? (glob($node->data_dir . "/pg_tblspc/$tsoid/PG_*"))[0] . "/$dboid"
	  : $node->data_dir . "/base/$dboid";
	my $tscond = defined $tsoid
	  ? "reltablespace = $tsoid"
	  : "reltablespace IN (0, (SELECT dattablespace FROM pg_database WHERE datname = current_database()))";
	my %nodes = map { $_ => 1 } split /\n/, $node->safe_psql($db, qq{
		SELECT pg_relation_filenode(oid) FROM pg_class
		WHERE pg_relation_filenode(oid) IS NOT NULL AND relpersistence <> 't' AND $tscond});
	my $files = relation_files($dir);
	my @stray = sort grep { /^(\d+)/; !$nodes{$1} } keys %$files;
	my @missing = sort grep { !$files->{$_} } keys %nodes;
	return (\@stray, \@missing);
}

# Does the server log show a backend killed by a signal, a PANIC or an
# assertion failure?
sub server_crashed
{
	my ($node) = @_;
	my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
	return $log =~ /(terminated by signal [0-9]+[^\n]*|PANIC:[^\n]*|TRAP:[^\n]*)/ ? $1 : '';
}

# Class labels (0..9) of rows [first, first + count) of a split, as a list.
sub fmnist_labels
{
	my ($split, $first, $count) = @_;
	my $gz = "$FMNIST/$split-labels-idx1-ubyte.gz";
	my $data;
	IO::Uncompress::Gunzip::gunzip($gz => \$data) or die "gunzip $gz: $GunzipError";
	return unpack("C$count", substr($data, 8 + $first, $count));
}

# gdb can stop a backend at an exact point of the C code, so that a crash
# can be placed between two WAL records of one operation.  It is on the
# machines (machines/c.md); tests that need it skip without it.
sub have_gdb
{
	return system('gdb --version >/dev/null 2>&1') == 0;
}

# Attach gdb to backend $pid with a breakpoint at $location ("function"
# or "function if condition"), run gdb @commands (such as "ignore 1 5"),
# and let the backend run on.  Returns a handle once the backend runs
# under gdb.
sub gdb_break
{
	my ($pid, $location, @commands) = @_;
	my %g = (in => '', out => '', err => '');
	$g{h} = IPC::Run::start(
		[ 'gdb', '-q', '-nx', '-p', $pid,
		  '-ex', 'set pagination off', '-ex', 'set confirm off',
		  '-ex', "break $location", (map { ('-ex', $_) } @commands), '-ex', 'continue' ],
		'<', \$g{in}, '>', \$g{out}, '2>', \$g{err});
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	while ($g{out} !~ /^Continuing\./m)
	{
		die "gdb did not attach to $pid: $g{out} $g{err}" if time() > $deadline || !$g{h}->pumpable;
		$g{h}->pump_nb;
		select(undef, undef, undef, 0.02);
	}
	return \%g;
}

# Wait until the backend stopped at the breakpoint; returns false after
# $timeout seconds, when gdb could not set the breakpoint (a function
# that no longer exists), or as soon as $gave_up->() is true (say, the
# statement finished without passing the breakpoint).
sub gdb_wait_hit
{
	my ($g, $timeout, $gave_up) = @_;
	my $deadline = time() + ($timeout // 30);
	while ($g->{out} !~ /^Breakpoint 1, /m)
	{
		return 0 if time() > $deadline || !$g->{h}->pumpable;
		return 0 if "$g->{out}$g->{err}" =~ /No symbol table|not defined/;
		return 0 if $gave_up && $gave_up->();
		$g->{h}->pump_nb;
		select(undef, undef, undef, 0.02);
	}
	return 1;
}

# Let the stopped backend run to the end of the function it stopped in,
# and stop it again there.  Returns false if that did not happen.
sub gdb_finish
{
	my ($g, $timeout) = @_;
	my $deadline = time() + ($timeout // 30);
	$g->{in} .= "finish\n";
	# a function with a value says so; after a void one, gdb shows the
	# caller's frame it stopped in
	while ($g->{out} !~ /^Value returned|^(?:\(gdb\) )?Run till exit[^\n]*\n(?:[^\n]*\n)*?(?:0x[0-9a-f]+ in )?\w+ \(/m)
	{
		return 0 if time() > $deadline || !$g->{h}->pumpable;
		$g->{h}->pump_nb;
		select(undef, undef, undef, 0.02);
	}
	return 1;
}

# Run $code with Test::More's notes silenced: BackgroundPsql notes every
# query and its output, which would bury the TAP output of `prove -v`.
# $code must not run assertions (their output would be lost too).
sub quietly
{
	my ($code) = @_;
	my $tb = Test::More->builder;
	my $out = $tb->output;
	open(my $null, '>', '/dev/null') or die "open /dev/null: $!";
	$tb->output($null);
	my @ret = eval { $code->() };
	my $err = $@;
	$tb->output($out);
	die $err if $err;
	return wantarray ? @ret : $ret[0];
}

# Stop gdb (the backend it held is let go, or reaped if it was killed)
sub gdb_end
{
	my ($g) = @_;
	$g->{h}->kill_kill(grace => 2);
	eval { $g->{h}->finish };
	return;
}

1;

# ---------------------------------------------------------------------
# Helpers of the soak, fuzz, limits and security tests (020-029).
# ---------------------------------------------------------------------

push @EXPORT, qw(quiet_log log_size log_problems soak_sql_dir sqlstate_class_ok);

# Stop logging every statement (PostgreSQL::Test::Cluster sets
# log_statement = all), and the statements of failed queries too when
# $errors_too: tests that send thousands of statements, or random bytes.
sub quiet_log
{
	my ($node, $errors_too) = @_;
	my $sql = "ALTER SYSTEM SET log_statement = 'none';";
	$sql .= "ALTER SYSTEM SET log_min_error_statement = 'panic';" if $errors_too;
	$node->safe_psql('postgres', $sql . 'SELECT pg_reload_conf();');
	return;
}

# The size of the server log now: an offset for log_problems
sub log_size
{
	my ($node) = @_;
	return -s $node->logfile // 0;
}

# Lines of the server log, from byte offset `from`, that show a warning,
# an error (unless errors => 0), a FATAL or PANIC, a backend killed by a
# signal, an assertion failure (TRAP) or a leak, except lines matching a
# pattern of `allow`.  Only the level of a log line counts, not message
# text that a statement put there.  Returns the lines.
sub log_problems
{
	my ($node, %opts) = @_;
	my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile, $opts{from} // 0);
	my $levels = ($opts{errors} // 1) ? 'WARNING|ERROR|FATAL|PANIC' : 'WARNING|FATAL|PANIC';
	my @bad;
	for my $line (split /\n/, $log)
	{
		next unless $line =~ /^TRAP:/
		  || $line =~ /\] (?:\S+ )?(?:$levels):  /
		  || $line =~ /\] (?:\S+ )?LOG:  .*(?:terminated by signal|was terminated)/
		  || $line =~ /\] (?:\S+ )?(?:WARNING|LOG):  .*leak/
		  || $line =~ /^\s*(?:WARNING|PANIC):/;
		next if grep { $line =~ $_ } @{ $opts{allow} // [] };
		push @bad, $line;
	}
	return @bad;
}

# The directory of the soak workload (scripts/soak/*.sql): HNSWMM_SOAK_DIR,
# a copy next to the test (test/tap/soak, which scripts/test.sh may copy
# there) or the repository's own, whichever exists.
sub soak_sql_dir
{
	my ($testdir) = @_;
	for my $dir ($ENV{HNSWMM_SOAK_DIR}, "$testdir/soak", "$testdir/../../scripts/soak")
	{
		return $dir if defined $dir && -f "$dir/setup.sql";
	}
	return undef;
}

# Is a SQLSTATE one of the classes a bad value may answer with: data
# exception (22), syntax error or access rule violation (42), program
# limit exceeded (54), feature not supported (0A)?
sub sqlstate_class_ok
{
	my ($state) = @_;
	return defined $state && $state =~ /^(?:22|42|54|0A)[0-9A-Z]{3}$/;
}

# For the tests of the pgvector compatibility extension: skip the whole
# test where the server has pgvector's own `vector` extension, which the
# compatibility install refuses to replace; else one test that the
# compatibility extension is there (make test installs it).
sub require_pgvector_compat
{
	my ($node) = @_;
	my $available = $node->safe_psql('postgres',
		"SELECT comment FROM pg_available_extensions WHERE name = 'vector'");

	Test::More::plan(skip_all => "this server has pgvector's own vector extension ($available)")
	  if $available ne '' && $available !~ /hnswmm/;
	Test::More::isnt($available, '',
		'the compatibility extension is installed (make test runs make install-pgvector-compat)');
}

1;
