-- Transactional outbox: events are written here in the same transaction as the state change (design §6.3);
-- the relay publishes them (and, since 002, deletes them).
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    topic        text NOT NULL,
    key          bytea,
    headers      jsonb NOT NULL DEFAULT '[]',
    payload      bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_unpublished_key ON outbox (key, id) WHERE published_at IS NULL;

-- Inbox: one row per (consumer, event) processed, written in the same transaction as the effects,
-- so a redelivered event is recognised and acknowledged without a second effect.
CREATE TABLE inbox (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
