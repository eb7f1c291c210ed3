-- Subscriptions (定期購入, design §6.6): one per first order; the contents each cycle delivers; the schedule.
-- `due_at` is when the scheduler acts next (the next order's generation time, or the end of an ending
-- subscription); null when it never acts by itself (paused, canceled). The scheduler finds its batches through
-- `subscriptions_due` with `FOR UPDATE SKIP LOCKED`.
CREATE TABLE subscriptions (
    subscription_id text PRIMARY KEY,
    shop_id         text NOT NULL,
    member_id       text NOT NULL,
    first_order_id  text NOT NULL,
    status          text NOT NULL CHECK (status IN ('active', 'paused', 'canceled')),
    every           integer NOT NULL CHECK (every >= 1),
    unit            text NOT NULL CHECK (unit IN ('day', 'week', 'month')),
    anchor_day      integer NOT NULL CHECK (anchor_day BETWEEN 1 AND 31),
    started_on      date NOT NULL,
    next_cycle_on   date NOT NULL,
    last_cycle_on   date NOT NULL,
    ends_on         date,
    cycle_count     integer NOT NULL CHECK (cycle_count >= 1),
    contents        jsonb NOT NULL,
    due_at          timestamptz,
    version         integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shop_id, first_order_id)
);
CREATE INDEX subscriptions_due ON subscriptions (due_at) WHERE status = 'active' AND due_at IS NOT NULL;
CREATE INDEX subscriptions_shop_member ON subscriptions (shop_id, member_id);
CREATE INDEX subscriptions_shop_created ON subscriptions (shop_id, created_at DESC);

-- Cycles: exactly one order per (subscription, cycle) (R20, I4). Cycle 1 is the first order; the scheduler
-- inserts each later one in the transaction that stages its RenewalOrderRequested; checkout's order events
-- fill in the order and its outcome.
CREATE TABLE cycles (
    subscription_id text NOT NULL REFERENCES subscriptions (subscription_id),
    cycle_no        integer NOT NULL CHECK (cycle_no >= 1),
    scheduled_for   date NOT NULL,
    requested_at    timestamptz NOT NULL,
    order_id        text,
    status          text NOT NULL CHECK (status IN ('requested', 'placed', 'completed', 'skipped',
                                                    'payment_failed', 'needs_review')),
    reason_code     text,
    settled_at      timestamptz,
    PRIMARY KEY (subscription_id, cycle_no)
);
CREATE UNIQUE INDEX cycles_order ON cycles (order_id) WHERE order_id IS NOT NULL;

-- Each shop's renewal timing from shops.settings (compacted): the latest snapshot wins (`as_of`).
CREATE TABLE shop_renewal_timings (
    shop_id   text PRIMARY KEY,
    lead_days integer NOT NULL CHECK (lead_days >= 0),
    hour_jst  integer NOT NULL CHECK (hour_jst BETWEEN 0 AND 23),
    as_of     timestamptz NOT NULL
);
