-- The relay deletes rows once Kafka acknowledged them (payloads may carry a one-time card token), so every
-- row in the table is unpublished and the published_at marker goes.
DROP INDEX IF EXISTS outbox_unpublished;
DROP INDEX IF EXISTS outbox_unpublished_key;
ALTER TABLE outbox DROP COLUMN IF EXISTS published_at;
CREATE INDEX outbox_key_id ON outbox (key, id);
