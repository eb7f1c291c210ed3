-- Card management without an order (issue 10: design §6.8, R18, R22).

-- How 4MemRefM last showed the member's stored card (masked number, expiry month YYYY-MM, brand: never the
-- number), for the replacements counted by card_version (a read that raced a replacement is not kept), and
-- when the card now stored was stored (registered or last replaced; the shop's customer view shows it).
ALTER TABLE member_cards
    ADD COLUMN card_expiry   text,
    ADD COLUMN card_brand    text,
    ADD COLUMN card_version  integer NOT NULL DEFAULT 0,
    ADD COLUMN linked_at     timestamptz;
UPDATE member_cards SET linked_at = updated_at WHERE status = 'active';

-- A register (4MemAdd), replace (4MemChg) or delete (4MemInval + 4MemDel) asked for on the member's page or by
-- an operator. Each call is an attempt in gateway_attempts (attempt_id: the last one recorded); a step of
-- unknown outcome is resolved by a 4MemRefM read, never sent again. One open change per shop member.
CREATE TABLE card_changes (
    change_id     uuid PRIMARY KEY,
    shop_id       text NOT NULL,
    member_id     text NOT NULL,
    kind          text NOT NULL,
    source        text NOT NULL,
    requested_by  text,
    kaiin_id      text NOT NULL REFERENCES member_cards (kaiin_id),
    state         text NOT NULL,
    step          text NOT NULL,
    attempt_id    uuid,
    unsent        integer NOT NULL DEFAULT 0,
    before_card   jsonb,
    after_card    jsonb,
    codes         text[] NOT NULL DEFAULT '{}',
    reason        text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX card_changes_open ON card_changes (shop_id, member_id)
    WHERE state IN ('running', 'applied', 'unknown');
CREATE INDEX card_changes_unknown ON card_changes (updated_at) WHERE state = 'unknown';

-- The members' subscriptions as subscriptions.events last said (newest subject_version wins): a card that an
-- active or paused subscription renews with cannot be deleted (R18). Never asked of the subscription service.
CREATE TABLE member_subscriptions (
    subscription_id  text PRIMARY KEY,
    shop_id          text NOT NULL,
    member_id        text NOT NULL,
    status           text NOT NULL,
    version          bigint NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX member_subscriptions_by_member ON member_subscriptions (shop_id, member_id);
