-- Renewal orders (design §6.6, R20-R22, I4): one order per subscription cycle, whatever happens to its payment.
-- A renewal order has no storefront checkout id; its cycle is its unique key, so a redelivered
-- RenewalOrderRequested, or the same cycle under a new event id, can never make a second order.
ALTER TABLE orders ALTER COLUMN checkout_id DROP NOT NULL;
ALTER TABLE orders
    ADD COLUMN origin              text NOT NULL DEFAULT 'checkout' CHECK (origin IN ('checkout', 'renewal')),
    ADD COLUMN subscription_id     text,
    ADD COLUMN cycle_no            integer CHECK (cycle_no >= 1),
    ADD COLUMN scheduled_for       date,         -- the cycle's delivery date (JST)
    ADD COLUMN first_order_id      text,
    ADD COLUMN payment_skip_reason text,         -- R21: why the renewal was completed without authorization
    ADD COLUMN retry_at            timestamptz,  -- a declined renewal authorization payment retries then (opt-in)
    ADD CONSTRAINT orders_one_per_cycle UNIQUE (subscription_id, cycle_no),
    ADD CONSTRAINT orders_origin_keys CHECK (
        (origin = 'checkout' AND checkout_id IS NOT NULL AND subscription_id IS NULL AND cycle_no IS NULL)
        OR (origin = 'renewal' AND checkout_id IS NULL AND subscription_id IS NOT NULL AND cycle_no IS NOT NULL
            AND scheduled_for IS NOT NULL AND first_order_id IS NOT NULL));

-- R22: a renewal order whose authorization was declined for good is `payment_failed` (not rejected).
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('pending_payment', 'completed', 'rejected', 'needs_review', 'payment_failed'));
