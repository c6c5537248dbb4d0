# Helpers shared by the Perl TAP tests: a cluster with hnswmm, and the
# fashion-mnist data set from Debian's dataset-fashion-mnist package.
package HnswmmTest;

use strict;
use warnings;
use Exporter 'import';
use IO::Uncompress::Gunzip qw($GunzipError);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(hnswmm_node fmnist_copy_file);

my $FMNIST = $ENV{HNSWMM_FMNIST} // '/usr/share/datasets/fashion-mnist';

# A started cluster with the extension created in database postgres.
sub hnswmm_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
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
	my $path = PostgreSQL::Test::Utils::tempdir() . "/$split-$first-$count.copy";
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

1;
