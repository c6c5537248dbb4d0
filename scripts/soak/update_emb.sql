-- Give a random row a new vector (a new index entry; the old one dies)
UPDATE soak SET emb = soak_rv()
WHERE id = (SELECT id FROM soak ORDER BY random() LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED);
