-- EMV 3-D Secure on the member's card page (design §6.8): the shop's setting as `shops.settings` says it (the
-- accepted SecureResultCodes; NULL: off) and a card change's round trip while it waits for the member's browser
-- (request, ProcNo, result: JSON, no secret; the token went to the gateway inside the encrypted form).
ALTER TABLE shop_settings ADD COLUMN card_authentication text[];
ALTER TABLE card_changes ADD COLUMN authentication jsonb;
DROP INDEX card_changes_open;
CREATE UNIQUE INDEX card_changes_open ON card_changes (shop_id, member_id)
    WHERE state IN ('running', 'applied', 'unknown', 'awaiting_authentication');
