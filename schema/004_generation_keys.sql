-- patternd schema, version 4: raw-row keys ordered by generation.
--
-- The version 3 keys are hashes, so every new row went to a random page of
-- its unique index. Once the indexes outgrow the page cache (about 10
-- million rows), each message read a page back and wrote about two: 9 KB
-- written per message, and a quarter of the empty-database throughput.
--
-- A key now packs the generation its row was stored in (bits 62..44, about
-- 4,096 rows each) with the top 44 bits of the version 3 hash (bits 43..0).
-- New keys sort after the old ones: a batch's inserts share the few pages of
-- the newest generation. A duplicate stored in an older generation is found
-- through an in-memory directory of (hash, generation) that the writer loads
-- at start-up (store/key_space.hpp), then one probe of the index.
--
-- Existing rows take generation 1 + id / 4096. Two rows whose keys now agree
-- (the same 44 bits within a generation: about one pair in 10^6 per
-- generation) are told apart as after a collision: the later one is stored
-- unkeyed, under the partial unique index on its full value.

DROP INDEX workflow_history_key;
UPDATE workflow_history
SET workflow_key = (min(1 + (id >> 12), 524287) << 44) | ((workflow_key >> 20) & 17592186044415)
WHERE workflow_key IS NOT NULL;
UPDATE workflow_history SET workflow_key = NULL
WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY workflow_key ORDER BY id) AS n
                             FROM workflow_history WHERE workflow_key IS NOT NULL)
             WHERE n > 1);
CREATE UNIQUE INDEX workflow_history_key ON workflow_history (workflow_key);

DROP INDEX extraction_events_key;
UPDATE extraction_events
SET identity_key = (min(1 + (id >> 12), 524287) << 44) | ((identity_key >> 20) & 17592186044415)
WHERE identity_key IS NOT NULL;
UPDATE extraction_events SET identity_key = NULL
WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY identity_key ORDER BY id) AS n
                             FROM extraction_events WHERE identity_key IS NOT NULL)
             WHERE n > 1);
CREATE UNIQUE INDEX extraction_events_key ON extraction_events (identity_key);
