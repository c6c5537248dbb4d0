-- Insert one row while the table holds fewer than 850
\set c random(0, 9)
INSERT INTO soak (category, emb)
SELECT :c, soak_rv() WHERE (SELECT count(*) FROM soak) < 850;
