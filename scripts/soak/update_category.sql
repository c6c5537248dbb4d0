-- Change the category of a random row (a HOT update when the page has room)
\set c random(0, 9)
UPDATE soak SET category = :c
WHERE id = (SELECT id FROM soak ORDER BY random() LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED);
