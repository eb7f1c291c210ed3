-- Members' stored cards (R18) as payment's card events tell them (CardLinked, CardReplaced, CardUnlinked on
-- payments.events): only the expiry month, to warn before a renewal would charge an expired card (R22).
-- An unlinked card keeps its row (linked false, no expiry) so an older event replayed later cannot bring it back:
-- the newest event (`as_of`, the envelope's occurred_at) wins.
CREATE TABLE member_cards (
    shop_id     text NOT NULL,
    member_id   text NOT NULL,
    linked      boolean NOT NULL,
    card_expiry text CHECK (card_expiry ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    as_of       timestamptz NOT NULL,
    PRIMARY KEY (shop_id, member_id)
);

-- RenewalCardExpiring given: exactly one per (subscription, cycle), recorded in the transaction that stages it.
CREATE TABLE card_warnings (
    subscription_id text NOT NULL REFERENCES subscriptions (subscription_id),
    cycle_no        integer NOT NULL CHECK (cycle_no >= 2),
    shop_id         text NOT NULL,
    member_id       text NOT NULL,
    next_cycle_on   date NOT NULL,
    card_expiry     text NOT NULL,
    warned_at       timestamptz NOT NULL,
    PRIMARY KEY (subscription_id, cycle_no)
);
