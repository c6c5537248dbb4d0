CREATE EXTENSION IF NOT EXISTS vector;
-- every type of pgvector 0.8, as frameworks and users lay them out
CREATE TABLE items (
    id bigserial PRIMARY KEY,
    content text,
    metadata jsonb,
    embedding vector(3),
    half halfvec(3),
    bits bit(8),
    sparse sparsevec(6)
);
INSERT INTO items (content, metadata, embedding, half, bits, sparse)
SELECT 'doc ' || i, jsonb_build_object('page', i % 7),
       ARRAY[sin(i), cos(i), sin(i * 0.5)]::vector(3),
       ARRAY[cos(i), sin(i * 0.3), 0.125 * (i % 5)]::halfvec(3),
       (i * 37 % 256)::bit(8),
       format('{%s:%s,%s:%s}/6', 1 + i % 6, round((i % 11)::numeric / 4, 2), 1 + (i + 2) % 6, -1.5)::sparsevec(6)
FROM generate_series(1, 500) i;
-- special values: an all-zero vector, a null row, the extremes of halfvec
INSERT INTO items (content, embedding, half, bits, sparse)
VALUES ('zeros', '[0,0,0]', '[0,0,0]', B'00000000', '{}/6'),
       ('nulls', NULL, NULL, NULL, NULL),
       ('extremes', '[1e-38,-65000,65000]', '[65504,-65504,6e-8]', B'11111111', '{6:1e-30}/6');
CREATE TABLE untyped (id int, v vector, h halfvec, s sparsevec, b bit varying);
INSERT INTO untyped VALUES (1, '[1,2,3,4]', '[1.5,2.5]', '{2:3}/100000', B'101');
-- an index of each kind pgvector's documentation shows
CREATE INDEX items_embedding_cos ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX items_embedding_l2 ON items USING hnsw (embedding vector_l2_ops);
CREATE INDEX items_embedding_ip ON items USING hnsw (embedding vector_ip_ops);
CREATE INDEX items_embedding_l1 ON items USING hnsw (embedding vector_l1_ops);
CREATE INDEX items_half_l2 ON items USING hnsw (half halfvec_l2_ops);
CREATE INDEX items_half_expr ON items USING hnsw ((embedding::halfvec(3)) halfvec_cosine_ops);
CREATE INDEX items_bits_hamming ON items USING hnsw (bits bit_hamming_ops);
CREATE INDEX items_bits_jaccard ON items USING hnsw (bits bit_jaccard_ops);
CREATE INDEX items_bq ON items USING hnsw ((binary_quantize(embedding)::bit(3)) bit_hamming_ops);
CREATE INDEX items_sparse_l2 ON items USING hnsw (sparse sparsevec_l2_ops);
CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 10);
