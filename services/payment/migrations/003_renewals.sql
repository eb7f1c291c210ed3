-- Renewal orders (design §6.6, R19-R22): a payment knows it charges a subscription's renewal (by the member's
-- stored card, never linking), and a shop may opt in to retrying soft-declined renewals (`renewal.retry` in
-- shops.settings; null: never, R22's default).
ALTER TABLE payments
    ADD COLUMN renewal  boolean NOT NULL DEFAULT false;

ALTER TABLE shop_settings
    ADD COLUMN renewal_retry_max_tries    integer,
    ADD COLUMN renewal_retry_within_days  integer;

-- The next retry of each renewal order waiting for one. Workers claim due rows with FOR UPDATE SKIP LOCKED
-- and push due_at forward while a retry runs, so any number of replicas run the same retry once; a row ends
-- (is deleted) when retrying ends: authorized, declined for good, or unknown (review).
CREATE TABLE payment_retries (
    order_id        text PRIMARY KEY REFERENCES payments (order_id),
    shop_id         text NOT NULL,
    first_tried_at  timestamptz NOT NULL,
    retries         integer NOT NULL,
    due_at          timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_retries_due ON payment_retries (due_at);
