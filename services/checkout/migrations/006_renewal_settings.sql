-- Renewal settings of the card method (受注生成 lead days and hour, the buyer's failure mail, opt-in retries):
-- stored in the card's JSON like every other card-method setting. Shops configured before get the defaults
-- written out, so every stored card reads back with all of its settings.
UPDATE shops
SET card = card || '{"renewal": {"lead_days": 0, "hour_jst": 0, "notify_buyer_on_failure": true, "retry": null}}'
WHERE card IS NOT NULL AND NOT card ? 'renewal';
