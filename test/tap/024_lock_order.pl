# Lock order of INSERT against VACUUM, replayed exactly with gdb.
#
# The soak (scripts/soak.sh 600) once froze the whole index: an INSERT in
# hnswmm_append_node held the metapage and the graph page of its new node
# and waited for the page of the node it links after, while VACUUM in
# hnswmm_unlink_from_ring held that page and waited for the new node's page
# (the ring predecessor of the node it removed was a recent node).  Both
# wait on buffer content locks forever: the deadlock detector does not see
# LWLocks, and cancel does not reach them.
#
# This test sets up that interleaving on purpose:
#   1. rows 1..400 indexed by a build, rows 401..600 inserted after it (node
#      id = row id - 1); two thirds of the first 400 rows deleted;
#   2. VACUUM stops (gdb) at hnswmm_unlink_from_ring(prev, id) for a removed
#      old node `id` whose ring predecessor `prev` is on the graph page the
#      next node will go to, before it takes any lock;
#   3. an INSERT of a copy of a live row X on id's page (so it links after X)
#      stops (gdb) in hnswmm_append_node once it holds the metapage and its
#      new node's page, just before it asks for X's page;
#   4. VACUUM goes on (takes id's page, asks for prev's page), then the
#      INSERT goes on (asks for X's page, which is id's page).
# With one lock order for all pages both statements end; otherwise they
# wait for each other for good, and the test fails (and stops the server).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

plan skip_all => 'gdb is not installed' unless have_gdb();

my $node = hnswmm_node('lock_order');
quiet_log($node);
$node->safe_psql('postgres', q{
	SET max_parallel_maintenance_workers = 0;
	SELECT setseed(0.24);
	CREATE TABLE t (id int PRIMARY KEY, emb vector(8)) WITH (autovacuum_enabled = off);
	INSERT INTO t SELECT g, ARRAY(SELECT random() FROM generate_series(1, 8) WHERE g > 0)::real[]::vector
	FROM generate_series(1, 400) g;
	CREATE INDEX t_idx ON t USING hnswmm (emb) WITH (m = 4, ef_construction = 16);
	INSERT INTO t SELECT g, ARRAY(SELECT random() FROM generate_series(1, 8) WHERE g > 0)::real[]::vector
	FROM generate_series(401, 600) g;
	DELETE FROM t WHERE id <= 400 AND id % 3 <> 1;
});
my $next = $node->safe_psql('postgres', "SELECT nodes FROM hnswmm_index_info('t_idx')");
is($next, 600, 'node ids follow the rows: 600 nodes');

# A psql session driven line by line, and gdb attached to a backend
sub session
{
	my %s = (in => '', out => '', err => '');
	$s{h} = IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $node->connstr('postgres') ],
		'<', \$s{in}, '>', \$s{out}, '2>', \$s{err}, IPC::Run::timeout(300));
	# the library must be in the backend before gdb sets breakpoints in it
	$s{in} .= "LOAD 'hnswmm';\nSELECT 'pid ' || pg_backend_pid();\n";
	$s{h}->pump until $s{out} =~ /pid (\d+)/;
	$s{pid} = $1;
	return \%s;
}

# Every gdb started, so that each is let go of even when a step is skipped
# (a backend left stopped would keep the server from stopping)
my @gdbs;

sub gdb_start
{
	my ($pid, @commands) = @_;
	my %g = (in => '', out => '', err => '');
	push @gdbs, \%g;
	$g{h} = IPC::Run::start(
		[ 'gdb', '-q', '-nx', '-p', $pid, '-ex', 'set pagination off', '-ex', 'set confirm off',
		  '-ex', 'set breakpoint pending off',
		  (map { ('-ex', $_) } @commands), '-ex', 'continue' ],
		'<', \$g{in}, '>', \$g{out}, '2>', \$g{err}, IPC::Run::timeout(300));
	return \%g;
}

# Wait until gdb's output matches $re; false after $timeout s or if $stop->()
sub gdb_wait
{
	my ($g, $re, $timeout, $stop) = @_;
	my $deadline = time() + $timeout;
	until ($g->{out} =~ $re)
	{
		return 0 if time() > $deadline || !$g->{h}->pumpable || ($stop && $stop->());
		$g->{h}->pump_nb;
		usleep(20_000);
	}
	return 1;
}

# Ask a stopped gdb for the value of an expression
sub gdb_eval
{
	my ($g, $expr) = @_;
	my $mark = 'EVAL' . int(rand(1e9));
	$g->{in} .= "print $expr\necho $mark\\n\n";
	gdb_wait($g, qr/\$\d+ = (-?\d+)\s*\n(?:\(gdb\) )*$mark/, 30) or return undef;
	$g->{out} =~ /\$\d+ = (-?\d+)\s*\n(?:\(gdb\) )*$mark/;
	return $1;
}

# Let the backend run on without gdb (once)
sub gdb_release
{
	my ($g) = @_;
	return if $g->{released}++;
	$g->{in} .= "delete\ndetach\nquit\n";
	eval { $g->{h}->finish };
	return;
}

my $vac = session();
my $ins = session();

# hnswmm_node_block(layout, id) as an expression gdb computes itself: a
# call into the stopped backend from a breakpoint condition fails on some
# machines ("Couldn't write extended state status") and leaves it stopped
sub node_block
{
	my ($id) = @_;
	return "(1 + layout->center_pages + (($id) / layout->nodes_per_extent) * layout->extent_pages"
	  . " + (($id) % layout->nodes_per_extent) / layout->nodes_per_graph_page)";
}

# 2. VACUUM stops where it is about to unlink an old node whose ring
#    predecessor lies on the page of the next node id
my $gv = gdb_start($vac->{pid},
	'break hnswmm_unlink_from_ring if ' . node_block('prev') . ' == ' . node_block($next)
	  . ' && ' . node_block('id') . ' < ' . node_block('prev'));
ok(gdb_wait($gv, qr/^Continuing\./m, 60) && $gv->{out} . $gv->{err} !~ /not defined|No symbol/,
	'gdb holds the VACUUM backend, with its breakpoint')
  or diag("$gv->{out}\n$gv->{err}");
$vac->{in} .= "VACUUM t;\nSELECT 'vacuum done';\n";
my $hit = gdb_wait($gv, qr/^Breakpoint 1, /m, 60, sub { $vac->{h}->pump_nb; $vac->{out} =~ /vacuum done/ });

SKIP:
{
	diag("gdb: $gv->{out}\n$gv->{err}") unless $hit;
	skip 'VACUUM unlinked no node with a predecessor on the page of the next node id '
	  . '(the layout changed?): the interleaving cannot be set up', 6 unless $hit;
	pass('VACUUM stops in hnswmm_unlink_from_ring for an old node whose predecessor is new');
	my ($prev, $id) = $gv->{out} =~ /prev=(?:prev\@entry=)?(\d+), id=(?:id\@entry=)?(\d+)/;
	my $id_block = gdb_eval($gv, node_block($id));
	# a live old row on id's page: rows 1..400 with row % 3 = 1, node = row - 1
	my $x;
	for my $cand (map { $id - ($id % 3) + $_ } 0, -3, 3, -6, 6, -9, 9)
	{
		next if $cand < 0 || $cand >= 400;
		if ((gdb_eval($gv, node_block($cand)) // -1) == $id_block)
		{
			$x = $cand;
			last;
		}
	}
	note("unlink(prev = $prev, id = $id) on block " . ($id_block // '?')
		  . '; the INSERT copies node ' . ($x // '?'));

	if (!defined $x)
	{
		diag("gdb: $gv->{out}\n$gv->{err}");
		skip 'no live row on the removed node\'s page', 5;
	}

	# 3. the INSERT stops in hnswmm_append_node holding its new node's page
	my $gi = gdb_start($ins->{pid},
		"break hnswmm_node_block if id == $x && \$_caller_is(\"hnswmm_append_node\")");
	ok(gdb_wait($gi, qr/^Continuing\./m, 60) && $gi->{out} . $gi->{err} !~ /not defined|No symbol/,
		'gdb holds the INSERT backend, with its breakpoint')
	  or diag("$gi->{out}\n$gi->{err}");
	my $row = $x + 1;
	$ins->{in} .= "INSERT INTO t SELECT 1000, emb FROM t WHERE id = $row;\nSELECT 'insert done';\n";
	my $ins_hit = gdb_wait($gi, qr/^Breakpoint 1, /m, 60,
		sub { $ins->{h}->pump_nb; $ins->{out} =~ /insert done/ });
	ok($ins_hit || $ins->{out} =~ /insert done/,
		'the INSERT stops in hnswmm_append_node before it locks the page it links after, '
		  . 'or never waits there');

	# 4. VACUUM goes on first, then the INSERT
	gdb_release($gv);
	usleep(500_000);
	gdb_release($gi);

	my $deadline = time() + 20;
	while (time() < $deadline && !($vac->{out} =~ /vacuum done/ && $ins->{out} =~ /insert done/))
	{
		$_->{h}->pump_nb for ($vac, $ins);
		usleep(50_000);
	}
	my $done = $vac->{out} =~ /vacuum done/ && $ins->{out} =~ /insert done/;
	ok($done, 'VACUUM and INSERT both finish: no deadlock between hnswmm_unlink_from_ring '
		  . 'and hnswmm_append_node');
	if (!$done)
	{
		diag($node->safe_psql('postgres', q{
			SELECT pid || ' ' || coalesce(wait_event_type, '-') || '/' || coalesce(wait_event, '-')
			       || ': ' || left(query, 60)
			FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()},
			timeout => 60));
		# the two backends never wake up: only SIGQUIT ends them
		$node->stop('immediate');
		$_->{h}->kill_kill for ($vac, $ins);
		skip 'the server was stopped', 2;
	}
	is($node->safe_psql('postgres', 'SELECT count(*) FROM t WHERE id = 1000'), '1', 'the row is in');
	is($node->safe_psql('postgres', "SELECT live FROM hnswmm_verify('t_idx')"),
		$node->safe_psql('postgres', 'SELECT count(*) FROM t'),
		'hnswmm_verify passes and counts the live rows');
}
gdb_release($_) for @gdbs;
if ($node->{_pid})
{
	$_->{in} .= "\\q\n" for ($vac, $ins);
	eval { $_->{h}->finish } for ($vac, $ins);
	$node->stop;
}
done_testing();
