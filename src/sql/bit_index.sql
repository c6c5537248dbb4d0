
-- bit: the index keeps each bit string as it is, a bit a dimension, up to
-- 64,000 bits; on 0s and 1s squared L2 distance is the Hamming distance,
-- which <~> orders by

CREATE OPERATOR CLASS bit_hamming_ops
	FOR TYPE bit USING hnswmm AS
	OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_l2_support(internal);
