-- Orders: one per (shop, checkout_id), whatever the outcome (design I1). The card token is never stored.
CREATE SEQUENCE payment_number_seq;  -- the 12-digit tail of payment numbers: never reused

CREATE TABLE orders (
    order_id            text PRIMARY KEY,
    shop_id             text NOT NULL,
    checkout_id         text NOT NULL,
    status              text NOT NULL
                        CHECK (status IN ('pending_payment', 'completed', 'rejected', 'needs_review')),
    payment_status      text NOT NULL,
    version             integer NOT NULL DEFAULT 0,
    placed_at           timestamptz NOT NULL,
    order_date          date NOT NULL,                   -- JST
    payment_number      text UNIQUE CHECK (payment_number ~ '^[0-9]{20}$'),  -- null: refused before payment
    amount              bigint,                          -- null when a part was "to be advised"
    cart_type           text NOT NULL,
    buyer_name          text NOT NULL,
    buyer_name_kana     text NOT NULL,
    buyer_email         text NOT NULL,
    member_id           text,
    request             jsonb NOT NULL,                  -- the checkout without its token
    pay_type            text NOT NULL,
    payment_method_name text,
    sales_mode          text,
    card_link_mode      text,
    reason_code         text,
    reason              text,
    buyer_message       text,
    transaction_id      text,
    approval_number     text,
    gateway_codes       jsonb NOT NULL DEFAULT '[]',     -- raw codes of a decline, for operators only
    attempt_id          text,
    anomaly             text,                            -- a contradicting payment event, for operators
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shop_id, checkout_id)
);
CREATE INDEX orders_shop_date ON orders (shop_id, order_date DESC, placed_at DESC);
CREATE INDEX orders_shop_status ON orders (shop_id, status);

-- Checkouts accepted by POST /v1/checkouts and published, so a repeat answers before the order exists.
CREATE TABLE checkout_submissions (
    shop_id      text NOT NULL,
    checkout_id  text NOT NULL,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, checkout_id)
);
