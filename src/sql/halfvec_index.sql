
-- halfvec: the index keeps each value as it is, two bytes a dimension;
-- support function 2 widens a query (or a value) to a vector

CREATE OPERATOR CLASS halfvec_l2_ops
	FOR TYPE halfvec USING hnswmm AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_l2_support(internal),
	FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);

CREATE OPERATOR CLASS halfvec_ip_ops
	FOR TYPE halfvec USING hnswmm AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_ip_support(internal),
	FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);

CREATE OPERATOR CLASS halfvec_cosine_ops
	FOR TYPE halfvec USING hnswmm AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_cosine_support(internal),
	FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);

CREATE OPERATOR CLASS halfvec_l1_ops
	FOR TYPE halfvec USING hnswmm AS
	OPERATOR 1 <+> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 hnswmm_l1_support(internal),
	FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);
