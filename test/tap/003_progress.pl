# CREATE INDEX reports its progress in pg_stat_progress_create_index: the
# sub-phases loading vectors, building graph (with tuples done and total)
# and writing graph.  A concurrent session samples the view while a build
# runs: one session kept open, so that a sample takes a round trip, not a
# psql start (which, on a loaded machine, let the short loading and
# writing phases pass unseen).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = hnswmm_node('progress');
$node->safe_psql('postgres', q{
	CREATE TABLE items (id int, emb vector(128));
	INSERT INTO items
	SELECT g, (SELECT array_agg(random())::real[] FROM generate_series(1, 128) WHERE g > 0)
	FROM generate_series(1, 60000) g;
});

my ($out, $err) = ('', '');
my $build = IPC::Run::start(
	[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', 'postgres', '-c',
	  'CREATE INDEX items_idx ON items USING hnswmm (emb) WITH (ef_construction = 100)' ],
	'>', \$out, '2>', \$err);

# (quietly: the test framework notes every query of a background session)
my $sampler = quietly(sub { $node->background_psql('postgres') });
quietly(sub { $sampler->query_safe('SET log_statement = none') });
my %phases;
my ($max_done, $total) = (0, 0);
quietly(\&sample);
$build->finish;
$sampler->quit;

sub sample
{
	while ($build->pumpable)
	{
		my $row = $sampler->query_safe(q{
			SELECT phase, tuples_total, tuples_done FROM pg_stat_progress_create_index});
		if ($row ne '')
		{
			my ($phase, $t, $d) = split /\|/, $row;
			$phases{$phase} = 1;
			if ($phase =~ /building graph/)
			{
				$total = $t;
				$max_done = $d if $d > $max_done;
			}
		}
		$build->pump_nb;
		usleep(2_000);
	}
	return;
}

like($out, qr/CREATE INDEX/, 'the build finished');
like($err, qr/hnswmm graph of 60000 vectors built in [0-9.]+ [kM]B of memory/,
	'the build says how much memory the graph took');
ok($phases{'building index: building graph'}, 'the graph phase was reported')
  or diag(join(', ', keys %phases));
is($total, 60000, 'tuples_total is the number of vectors');
cmp_ok($max_done, '>', 0, "tuples_done advanced (to $max_done)");
ok($phases{'building index: loading vectors'} || $phases{'building index: writing graph'},
	'a loading or writing phase was reported too');

$node->stop;
done_testing();
