-- The payment service's own data (design §3). Secrets (merchant password, token auth code, KaiinPass,
-- ProcessPass) are stored only as Fernet ciphertext (*_enc columns, key PAYMENT_ENCRYPTION_KEY, design §8).

-- Gateway credentials per shop: written by checkout through the internal endpoint, never returned.
CREATE TABLE shop_credentials (
    shop_id              text PRIMARY KEY,
    merchant_id          text NOT NULL,
    tenant_id            text NOT NULL,
    merchant_pass_enc    bytea NOT NULL,
    token_auth_code_enc  bytea NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- shop_operator_keys (the SHA-256 of each shop's operator key, I6) is created by delivery's migrations.

-- Local projection of shops.settings (the order itself carries the settings that decide its payment).
CREATE TABLE shop_settings (
    shop_id               text PRIMARY KEY,
    configured            boolean NOT NULL,
    sales_mode            text,
    card_link_mode        text,
    subscriptions_enabled boolean NOT NULL DEFAULT false,
    renewal_sales_mode    text,
    authorize_at_renewal  boolean NOT NULL DEFAULT true,
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- One payment per order: the guard against a second authorization (design §6.2, I2).
CREATE TABLE payments (
    order_id          text PRIMARY KEY,
    shop_id           text NOT NULL,
    payment_number    text NOT NULL,
    amount            integer NOT NULL,
    pay_type          text NOT NULL,
    sales_mode        text NOT NULL,
    buyer_name        text NOT NULL,
    member_id         text,
    card_source       text,            -- the card plan (R7-R10); null when refused before planning
    link_operation    text,
    unlink_after      boolean NOT NULL DEFAULT false,
    unlink_reason     text,
    kaiin_id          text,
    state             text NOT NULL,
    linked            boolean NOT NULL DEFAULT false,
    cleanup           text NOT NULL,
    unsent            integer NOT NULL DEFAULT 0,
    transaction_id    text,
    approval_number   text,
    process_id        text,
    process_pass_enc  bytea,
    codes             text[] NOT NULL DEFAULT '{}',
    reason            text,
    buyer_message     text,
    resolution        text,
    correlation_id    text NOT NULL,
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_by_number ON payments (shop_id, payment_number);
CREATE INDEX payments_unknown ON payments (updated_at) WHERE state = 'unknown';

-- Every gateway call, recorded before it is sent and completed after (design §6.2); the operation
-- history of R15. Never card data, tokens or passwords.
CREATE TABLE gateway_attempts (
    attempt_id      uuid PRIMARY KEY,
    shop_id         text NOT NULL,
    order_id        text REFERENCES payments (order_id),
    operation       text NOT NULL,
    kaiin_id        text,
    status          text NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    codes           text[] NOT NULL DEFAULT '{}',
    transaction_id  text,
    reason          text,
    resolution      text
);
CREATE INDEX gateway_attempts_by_order ON gateway_attempts (order_id, started_at);
CREATE INDEX gateway_attempts_sending ON gateway_attempts (order_id) WHERE status = 'sending';

-- Gateway members (KaiinId). Ids are random and rows are never deleted, so an id is never reused (K69).
CREATE TABLE member_cards (
    kaiin_id        text PRIMARY KEY,
    shop_id         text NOT NULL,
    member_id       text NOT NULL,
    kaiin_pass_enc  bytea NOT NULL,
    status          text NOT NULL,
    masked_card     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One member, at most one card per shop (R10).
CREATE UNIQUE INDEX member_cards_current ON member_cards (shop_id, member_id)
    WHERE status IN ('registering', 'active');

-- One order at a time does card work for a member (orders of one member may arrive concurrently under
-- different order keys). `version` orders the member's card events (subject_version).
CREATE TABLE member_leases (
    shop_id    text NOT NULL,
    member_id  text NOT NULL,
    holder     text,
    since      timestamptz,
    version    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (shop_id, member_id)
);
