-- Card notices (R18): a member's stored card replaced, removed or about to make a renewal fail. They are mails
-- without an order: their row in `orders` keeps the card event under the notice's reference (card-...), so the
-- log's dedupe key (order_id, kind), its numbering of mail events and resends work as for orders.

-- notify_card_changes of the shop's card settings; the contract's default until its next ShopSettingsChanged.
ALTER TABLE shops ADD COLUMN notify_card_changes boolean NOT NULL DEFAULT true;

-- Each member's latest name and address per shop, from the orders mailed (OrderCompleted, RenewalPaymentFailed
-- with a member buyer): the newest order event (`as_of`, its occurred_at) wins.
CREATE TABLE members (
    shop_id     text NOT NULL,
    member_id   text NOT NULL,
    buyer_name  text NOT NULL,
    buyer_email text NOT NULL,
    as_of       timestamptz NOT NULL,
    PRIMARY KEY (shop_id, member_id)
);

ALTER TABLE mails DROP CONSTRAINT mails_kind_check;
ALTER TABLE mails ADD CONSTRAINT mails_kind_check CHECK (kind IN (
    'thanks', 'shop_copy', 'renewal_skipped_shop', 'renewal_skipped_buyer', 'renewal_failed_shop',
    'renewal_failed_buyer', 'card_replaced', 'card_removed', 'card_expiring'
));

-- `unsendable`: final, like `suppressed`: a card notice whose member never got a known address.
ALTER TABLE mails DROP CONSTRAINT mails_status_check;
ALTER TABLE mails ADD CONSTRAINT mails_status_check CHECK (status IN ('pending', 'sending', 'sent', 'failed',
                                                                      'suppressed', 'unsendable'));
