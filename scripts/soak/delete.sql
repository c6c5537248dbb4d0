-- Delete one random row while the table holds more than 550
DELETE FROM soak
WHERE id = (SELECT id FROM soak ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED)
  AND (SELECT count(*) FROM soak) > 550;
