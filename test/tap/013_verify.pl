# hnswmm_verify catches damage.  One table gets one hnswmm index per kind
# of damage (all built alike), plus an undamaged one.  With the cluster
# stopped, Perl overwrites bytes of each index's file at offsets computed
# from the on-disk format in src/hnswmm.h: the metapage (block 0), graph
# pages (level-0 node records), upper pages and vector pages.  After a
# restart hnswmm_verify must raise SQLSTATE XX002 (index_corrupted) with a
# detail that names the problem, pass on the undamaged index, and a scan
# of a damaged index may fail but must not take the server down.  The
# cluster has no data checksums (the Cluster default), so the damaged
# pages are read as they are.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use HnswmmTest;
use PostgreSQL::Test::Utils;
use Test::More;

use constant BLCKSZ => 8192;
use constant PAGE_HEADER => 24;      # MAXALIGN(SizeOfPageHeaderData)
use constant PAYLOAD => 8160;        # BLCKSZ - 24 - MAXALIGN(sizeof(HnswmmPageOpaqueData))
use constant SPECIAL => 8184;        # HnswmmPageOpaqueData: uint16 page_type, uint16 unused, uint32 extent
use constant NODE_HEADER => 24;      # offsetof(HnswmmNode, neighbors)
use constant { PAGE_META => 1, PAGE_GRAPH => 2, PAGE_UPPER => 3, PAGE_VECTOR => 4 };
use constant { NODE_DELETED => 0x02 };

my $node = hnswmm_node('verify', no_data_checksums());
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->restart;
create_tv($node);
is($node->safe_psql('postgres', 'SHOW data_checksums'), 'off', 'no data checksums');

# Each case: the damage (a sub that gets the index's file and layout) and
# the detail hnswmm_verify must report.
my @cases = (
	[ 'neighbour', 'a neighbour id out of range',
	  sub { my ($f, $l) = @_; set_u32($f, node_offset($l, 5) + NODE_HEADER, $l->{nnodes} + 1000) },
	  qr/node 5 links a neighbour id out of range/ ],
	[ 'nneighbors', 'a neighbour count larger than the list',
	  sub { my ($f, $l) = @_; set_u16($f, node_offset($l, 6) + 8, 2 * $l->{m} + 3) },
	  qr/node 6 has more neighbours than fit/ ],
	[ 'graph_type', 'a graph page with the wrong page type',
	  sub { my ($f, $l) = @_; set_u16($f, BLCKSZ + SPECIAL, PAGE_VECTOR) },
	  qr/block 1 has a bad page header or the wrong page type/ ],
	[ 'vector_type', 'a vector page with the wrong page type',
	  sub { my ($f, $l) = @_; set_u16($f, $l->{first_vector_block} * BLCKSZ + SPECIAL, PAGE_GRAPH) },
	  undef ],    # the block number is filled in below
	[ 'vector_lower', 'a vector page header whose pd_lower hides the vectors',
	  sub { my ($f, $l) = @_; set_u16($f, $l->{first_vector_block} * BLCKSZ + 12, PAGE_HEADER) },
	  qr/the vector slot of node 0 is not on its page/ ],
	[ 'entry_range', 'an entry point out of range',
	  sub { my ($f, $l) = @_; set_u32($f, PAGE_HEADER + 48, $l->{nnodes} + 7) },
	  undef ],
	[ 'entry_level', 'an entry point that is not on the top layer',
	  sub { my ($f, $l) = @_; set_u16($f, PAGE_HEADER + 52, $l->{entry_level} + 1) },
	  undef ],
	[ 'magic', 'a metapage with a wrong magic number',
	  sub { my ($f, $l) = @_; set_u32($f, PAGE_HEADER + 0, 0x12345678) },
	  qr/is not an hnswmm index/ ],
	[ 'meta_type', 'a metapage with the wrong page type',
	  sub { my ($f, $l) = @_; set_u16($f, SPECIAL, PAGE_GRAPH) },
	  qr/block 0 has a bad page header or the wrong page type/ ],
	[ 'nnodes', 'a node count larger than the file',
	  sub { my ($f, $l) = @_; set_u32($f, PAGE_HEADER + 40, 100000) },
	  qr/the index is shorter than its 100000 nodes need/ ],
	[ 'flushed', 'a flushed watermark past the last node',
	  sub { my ($f, $l) = @_; set_u32($f, PAGE_HEADER + 56, $l->{nnodes} + 50) },
	  undef ],
	[ 'ring', 'a ring that loops back early',
	  sub { my ($f, $l) = @_; set_u32($f, node_offset($l, 10) + 20, 10) },
	  qr/the ring (is broken at node|misses graph nodes)/ ],
	[ 'flags', 'unknown node flags',
	  sub { my ($f, $l) = @_; set_u8($f, node_offset($l, 7) + 7, 0x80) },
	  qr/node 7 has invalid flags or layer/ ],
	[ 'level', 'a node layer above the maximum',
	  sub { my ($f, $l) = @_; set_u8($f, node_offset($l, 11) + 6, 20) },
	  qr/node 11 has invalid flags or layer/ ],
	[ 'dup_range', 'a duplicate chain link out of range',
	  sub { my ($f, $l) = @_; set_u32($f, node_offset($l, 8) + 16, $l->{nnodes} + 3) },
	  qr/node 8 has a duplicate chain link out of range/ ],
	[ 'heap_tid', 'a heap TID past the end of the table',
	  sub { my ($f, $l) = @_; set_u16($f, node_offset($l, 9), 0x000F); set_u16($f, node_offset($l, 9) + 2, 0x4240) },
	  qr/node 9 points to a heap tuple that does not exist/ ],
	[ 'deleted_link', 'a node flagged deleted that others still link',
	  sub {
		  my ($f, $l) = @_;
		  my $target = read_node($f, $l, 5)->{neighbors}[0];
		  my $off = node_offset($l, $target) + 7;
		  set_u8($f, $off, read_u8($f, $off) | NODE_DELETED);
	  },
	  qr/node \d+ links a deleted or duplicate node/ ],
	[ 'upper_offset', 'an upper record past the end of its page',
	  sub { my ($f, $l) = @_; set_u16($f, node_offset($l, $l->{upper_node}) + 12, PAYLOAD - 8) },
	  undef ],
	[ 'upper_page', 'an upper record on a page outside the extent',
	  sub { my ($f, $l) = @_; set_u16($f, node_offset($l, $l->{upper_node}) + 10, $l->{upper_pages} + 5) },
	  undef ],
	[ 'upper_count', 'an upper layer with more neighbours than fit',
	  sub {
		  my ($f, $l) = @_;
		  my $n = read_node($f, $l, $l->{upper_node});
		  my $blk = extent_start($l, int($l->{upper_node} / $l->{nodes_per_extent})) +
			$l->{graph_pages} + $n->{upper_page};
		  set_u32($f, $blk * BLCKSZ + PAGE_HEADER + $n->{upper_offset}, $l->{m} + 5);
	  },
	  undef ],
);

$node->safe_psql('postgres', qq{
	CREATE TABLE t (id bigint PRIMARY KEY, emb vector(16));
	INSERT INTO t SELECT i, tv(i) FROM generate_series(1, 400) i;
	CREATE INDEX idx_clean ON t USING hnswmm (emb) WITH (m = 4, ef_construction = 32);
});
# (the same build over the same rows: the same graph in every index)
for my $c (@cases)
{
	$node->safe_psql('postgres',
		"CREATE INDEX idx_$c->[0] ON t USING hnswmm (emb) WITH (m = 4, ef_construction = 32)");
}
$node->safe_psql('postgres', 'INSERT INTO t SELECT i, tv(i) FROM generate_series(401, 450) i');
like($node->safe_psql('postgres', "SELECT * FROM hnswmm_verify('idx_clean')"), qr/^450\|450\|/,
	'hnswmm_verify passes before the damage');
my %path = map { $_ => $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('idx_$_')") }
  ('clean', map { $_->[0] } @cases);
$node->stop;

# --- reading and writing the files

sub rw
{
	my ($file, $offset, $len, $data) = @_;
	open(my $fh, '+<', $file) or die "open $file: $!";
	binmode $fh;
	sysseek($fh, $offset, 0) or die "seek $file: $!";
	my $buf;
	if (defined $data)
	{
		syswrite($fh, $data) == length($data) or die "write $file: $!";
	}
	else
	{
		sysread($fh, $buf, $len) == $len or die "read $file at $offset: $!";
	}
	close($fh);
	return $buf;
}
sub read_u8  { unpack('C', rw($_[0], $_[1], 1)) }
sub read_u16 { unpack('v', rw($_[0], $_[1], 2)) }
sub read_u32 { unpack('V', rw($_[0], $_[1], 4)) }
sub set_u8   { rw($_[0], $_[1], 1, pack('C', $_[2])) }
sub set_u16  { rw($_[0], $_[1], 2, pack('v', $_[2])) }
sub set_u32  { rw($_[0], $_[1], 4, pack('V', $_[2])) }

# The layout, from the metapage (HnswmmMetaPageData at the payload start)
sub layout
{
	my ($file) = @_;
	my %l;
	@l{qw(magic version dimensions metric m ef_construction node_size nodes_per_graph_page
		nodes_per_extent graph_pages upper_pages vector_pages nnodes ndeleted entry_node
		entry_level unused flushed)} = unpack('V V V v v v v V V V V V V V V v v V', rw($file, PAGE_HEADER, 60));
	$l{extent_pages} = $l{graph_pages} + $l{upper_pages} + $l{vector_pages};
	$l{first_vector_block} = extent_start(\%l, 0) + $l{graph_pages} + $l{upper_pages};
	return \%l;
}

sub extent_start { my ($l, $e) = @_; return 1 + $e * $l->{extent_pages} }

# Byte offset in the file of node id's level-0 record
sub node_offset
{
	my ($l, $id) = @_;
	my $k = $id % $l->{nodes_per_extent};
	my $blk = extent_start($l, int($id / $l->{nodes_per_extent})) + int($k / $l->{nodes_per_graph_page});
	return $blk * BLCKSZ + PAGE_HEADER + ($k % $l->{nodes_per_graph_page}) * $l->{node_size};
}

sub read_node
{
	my ($file, $l, $id) = @_;
	my %n;
	@n{qw(bi_hi bi_lo posid level flags nneighbors upper_page upper_offset unused dup_next ring_next)} =
	  unpack('v v v C C v v v v V V', rw($file, node_offset($l, $id), NODE_HEADER));
	$n{neighbors} = [ unpack("V$n{nneighbors}", rw($file, node_offset($l, $id) + NODE_HEADER, 4 * $n{nneighbors})) ];
	return \%n;
}

# --- the format as this test reads it agrees with the index

my $l = layout($path{clean});
is(sprintf('%08X', $l->{magic}), '484E5357', 'the metapage starts with the magic number');
is("$l->{dimensions} $l->{m} $l->{nnodes}", '16 4 450', 'the metapage has dimensions, m and nodes where expected');
is($l->{node_size}, NODE_HEADER + 8 * $l->{m}, 'a node record is 24 + 8m bytes');
is(read_u16($path{clean}, SPECIAL), PAGE_META, 'block 0 is the metapage');
is(read_u16($path{clean}, BLCKSZ + SPECIAL), PAGE_GRAPH, 'block 1 is a graph page');
is(read_u16($path{clean}, (1 + $l->{graph_pages}) * BLCKSZ + SPECIAL), PAGE_UPPER, 'then come upper pages');
is(read_u16($path{clean}, $l->{first_vector_block} * BLCKSZ + SPECIAL), PAGE_VECTOR, 'then vector pages');
my $n5 = read_node($path{clean}, $l, 5);
cmp_ok($n5->{nneighbors}, '>=', 1, "node 5 has $n5->{nneighbors} neighbours");
ok(!(grep { $_ >= $l->{nnodes} } @{ $n5->{neighbors} }), 'its neighbour ids are node ids');
# a node of the build (the same in every index) with upper layers
my ($upper_node) = grep { read_node($path{clean}, $l, $_)->{level} > 0 && $_ != $l->{entry_node} } 0 .. 399;
ok(defined $upper_node, "node $upper_node has upper layers");
is(scalar(grep { read_node($path{clean}, $l, $_)->{ring_next} < $l->{nnodes} } 0 .. $l->{nnodes} - 1),
	$l->{nnodes}, 'every node has a ring successor');

# --- the damage
for my $c (@cases)
{
	my ($name, $what, $damage) = @$c;
	my $lc = layout($path{$name});
	# the builds are alike; the 50 inserts after them pick random layers,
	# so entry points may differ
	is(join(' ', @$lc{qw(nnodes nodes_per_extent first_vector_block)}),
		join(' ', @$l{qw(nnodes nodes_per_extent first_vector_block)}),
		"idx_$name is laid out like idx_clean");
	$lc->{upper_node} = $upper_node;
	$damage->($path{$name}, $lc);
	$c->[4] = $lc;
}
my %detail = (
	vector_type => sub { qr/block $_[0]{first_vector_block} has a bad page header or the wrong page type/ },
	entry_range => sub { qr/the entry point ${\($_[0]{nnodes} + 7)} is out of range/ },
	entry_level => sub { qr/the entry point $_[0]{entry_node} is deleted or not on the top layer/ },
	flushed => sub { qr/the flushed watermark ${\($_[0]{nnodes} + 50)} is past the last node/ },
	upper_offset => sub { qr/node $upper_node has an upper record past the end of its page/ },
	upper_page => sub { qr/node $upper_node has its upper layers on a page outside its extent/ },
	upper_count => sub { qr/node $upper_node has more neighbours than fit/ },
);

$node->start;
my ($ret, $out, $err) = $node->psql('postgres', "SELECT nodes, live FROM hnswmm_verify('idx_clean')");
is("$ret $out", '0 450|450', 'hnswmm_verify passes on the undamaged index');
for my $c (@cases)
{
	my ($name, $what) = @$c;
	my $want = $c->[3] // $detail{$name}->($c->[4]);
	($ret, $out, $err) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSELECT * FROM hnswmm_verify('idx_$name')");
	like($err, qr/ERROR:  XX002: index "idx_$name" is corrupted|ERROR:  XX002: index "idx_$name" is not an hnswmm index/,
		"$what: hnswmm_verify raises XX002");
	like($err, $want, "$what: the error names it") or diag($err);
}

# A scan of t through index idx_$name alone (the others dropped in a
# transaction rolled back); its error, if any
sub scan_alone
{
	my ($name) = @_;
	my (undef, undef, $err) = $node->psql('postgres', qq{
		SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnswmm.ef_search = 1000;
		BEGIN;
		DO \$\$ DECLARE r record; BEGIN
			FOR r IN SELECT indexrelid FROM pg_index WHERE indexrelid <> 'idx_$name'::regclass
				AND indrelid = 't'::regclass AND indexrelid::regclass::text LIKE 'idx_%'
			LOOP EXECUTE 'DROP INDEX ' || r.indexrelid::regclass; END LOOP; END \$\$;
		SELECT id FROM t ORDER BY emb <-> tv(3) LIMIT 5;
		ROLLBACK;});
	return $err;
}

# scans of the damaged indexes may fail but not crash
for my $c (@cases)
{
	$err = scan_alone($c->[0]);
	is($node->safe_psql('postgres', 'SELECT 1'), '1', "a scan of the index with $c->[1] does not take the server down")
	  or diag($err);
}
# Binary codes and INCLUDE values: a code that names a center the index
# does not have, and a metapage whose INCLUDE size disagrees with the
# index's columns.  Offsets: center_pages at 92, ncenters at 88 and
# include_size at 96 of HnswmmMetaPageData; the binary code follows the
# 2m neighbour slots, and its center number lies 12 bytes into it.
$node->safe_psql('postgres', q{
	CREATE INDEX idx_bincode ON t USING hnswmm (emb) WITH (m = 4, ef_construction = 32, quantization = 'binary');
	CREATE INDEX idx_incsize ON t USING hnswmm (emb) INCLUDE (id) WITH (m = 4, ef_construction = 32);
	CREATE TABLE tc AS SELECT * FROM t;
	CREATE INDEX idx_cut ON tc USING hnswmm (emb) WITH (m = 4, ef_construction = 32);
});
for my $name ('bincode', 'incsize', 'cut')
{
	$path{$name} = $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('idx_$name')");
	is($node->safe_psql('postgres', "SELECT live FROM hnswmm_verify('idx_$name')"), '450',
		"idx_$name passes before the damage");
}
$node->stop;
my $lb = layout($path{bincode});
my $center_pages = read_u32($path{bincode}, PAGE_HEADER + 92);
my $ncenters = read_u16($path{bincode}, PAGE_HEADER + 88);
is("$center_pages $ncenters", '1 1', 'the binary index has one center page and one center');
is(read_u16($path{bincode}, BLCKSZ + SPECIAL), 5, 'block 1 is its center page');
my $code = (1 + $center_pages + int(5 / $lb->{nodes_per_graph_page})) * BLCKSZ + PAGE_HEADER +
  (5 % $lb->{nodes_per_graph_page}) * $lb->{node_size} + NODE_HEADER + 8 * $lb->{m};
is(read_u16($path{bincode}, $code + 12), 0, "node 5's code names center 0");
set_u16($path{bincode}, $code + 12, 3);
is(read_u32($path{incsize}, PAGE_HEADER + 96), 12, 'INCLUDE (id) takes 12 bytes a slot: a null byte and a bigint, padded');
set_u32($path{incsize}, PAGE_HEADER + 96, 4);

# A node that no layer-0 list links any more: not corruption (the ring
# still reaches it), but hnswmm_verify counts it unreachable, and VACUUM
# links it again.  Node 20's incoming links are taken out of every list.
my $lcut = layout($path{cut});
my $cut = 20;
my $links_taken = 0;
for my $id (0 .. $lcut->{nnodes} - 1)
{
	my $n = read_node($path{cut}, $lcut, $id);
	my @kept = grep { $_ != $cut } @{ $n->{neighbors} };
	next if @kept == @{ $n->{neighbors} };
	$links_taken++;
	my $off = node_offset($lcut, $id);
	set_u16($path{cut}, $off + 8, scalar(@kept));
	rw($path{cut}, $off + NODE_HEADER, 4 * @{ $n->{neighbors} },
		pack('V*', @kept, (0xFFFFFFFF) x (@{ $n->{neighbors} } - @kept)));
}
cmp_ok($links_taken, '>', 0, "$links_taken lists linked node $cut; none does now");
$node->start;
my ($live, $unreachable) = split / /,
  $node->safe_psql('postgres', "SELECT live || ' ' || unreachable FROM hnswmm_verify('idx_cut')");
is($live, 450, 'hnswmm_verify passes on the index whose node lost its incoming links');
cmp_ok($unreachable, '>=', 1, "hnswmm_verify counts $unreachable nodes unreachable (node $cut, "
	  . 'and those reached only through it)');
$node->safe_psql('postgres', 'VACUUM tc');
is($node->safe_psql('postgres', "SELECT live || ' ' || unreachable FROM hnswmm_verify('idx_cut')"),
	'450 0', 'after VACUUM no node is unreachable');
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET enable_bitmapscan = off;
	SELECT count(*) FILTER (WHERE (SELECT i.id FROM tc i ORDER BY i.emb <-> o.emb LIMIT 1) = o.id)
	FROM tc o}), '450', 'every row is its own top-1 after VACUUM');
for my $d ([ 'bincode', qr/the code of node 5 names a center the metapage does not have/ ],
	[ 'incsize', qr/the metapage keeps 4 bytes of INCLUDE values, not what the columns need/ ])
{
	($ret, $out, $err) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSELECT * FROM hnswmm_verify('idx_$d->[0]')");
	like($err, qr/ERROR:  XX002: index "idx_$d->[0]" is corrupted/, "idx_$d->[0]: hnswmm_verify raises XX002");
	like($err, $d->[1], "idx_$d->[0]: the error names it") or diag($err);
	$err = scan_alone($d->[0]);
	is($node->safe_psql('postgres', 'SELECT 1'), '1', "a scan of idx_$d->[0] does not take the server down")
	  or diag($err);
}

is(server_crashed($node), '', 'no backend died of a signal');
$node->stop;
done_testing();
