-- Renewal mails (R21, R22): the notices of a skipped or failed renewal, the shop's switch for the buyer's notices,
-- and `suppressed`, the final state of a buyer's notice the shop switched off (kept, so a redelivery adds nothing).

-- renewal.notify_buyer_on_failure of the shop's card settings; the contract's default until the shop's next
-- ShopSettingsChanged arrives.
ALTER TABLE shops ADD COLUMN notify_buyer_on_failure boolean NOT NULL DEFAULT true;

ALTER TABLE mails DROP CONSTRAINT mails_kind_check;
ALTER TABLE mails ADD CONSTRAINT mails_kind_check CHECK (kind IN (
    'thanks', 'shop_copy', 'renewal_skipped_shop', 'renewal_skipped_buyer', 'renewal_failed_shop',
    'renewal_failed_buyer'
));

ALTER TABLE mails DROP CONSTRAINT mails_status_check;
ALTER TABLE mails ADD CONSTRAINT mails_status_check CHECK (status IN ('pending', 'sending', 'sent', 'failed',
                                                                      'suppressed'));
