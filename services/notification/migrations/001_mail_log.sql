-- The notification service's own data (design §3): a projection of shop settings, the completed orders it
-- must mail, and the mail log. The log row is the exactly-once guard (I3): one original mail per
-- (order, kind), written before any SMTP conversation.

-- Latest ShopSettingsChanged per shop (what the mails need); settings_at orders snapshots.
CREATE TABLE shops (
    shop_id             text PRIMARY KEY,
    shop_name           text NOT NULL,
    sender_address      text NOT NULL,
    sender_name         text NOT NULL DEFAULT '',
    shop_copy_address   text NOT NULL,
    payment_method_name text,
    note_text           text NOT NULL DEFAULT '',
    note_in_thanks_mail boolean NOT NULL DEFAULT false,
    settings_at         timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- The OrderCompleted snapshot (contract JSON), kept so retries and operator resends can render the mail.
CREATE TABLE orders (
    order_id       text PRIMARY KEY,
    shop_id        text NOT NULL,
    event_id       uuid NOT NULL,
    correlation_id text NOT NULL,
    snapshot       jsonb NOT NULL,
    events_emitted integer NOT NULL DEFAULT 0,
    received_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mails (
    mail_id           uuid PRIMARY KEY,
    order_id          text NOT NULL REFERENCES orders (order_id),
    shop_id           text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('thanks', 'shop_copy')),
    resend_of         uuid REFERENCES mails (mail_id),
    status            text NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    message_id        text NOT NULL UNIQUE,
    recipient         text,
    sender_address    text,
    sender_name       text,
    reply_to          text,
    subject           text,
    body_text         text,
    body_html         text,
    attempts          integer NOT NULL DEFAULT 0,
    recoveries        integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL,
    lease_until       timestamptz,
    last_error        text,
    smtp_response     text,
    permanent_failure boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL,
    sent_at           timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- The dedupe key: a redelivered OrderCompleted finds these and adds nothing. Resends are extra rows.
CREATE UNIQUE INDEX mails_once_per_order_and_kind ON mails (order_id, kind) WHERE resend_of IS NULL;
CREATE INDEX mails_due ON mails (next_attempt_at) WHERE status = 'pending';
CREATE INDEX mails_leased ON mails (lease_until) WHERE status = 'sending';
CREATE INDEX mails_by_shop ON mails (shop_id, created_at DESC);
CREATE INDEX mails_by_order ON mails (order_id);
