-- EMV 3-D Secure (design §6.7): the shop's 3-D Secure key and IV (Fernet ciphertext like every credential), a
-- payment's round trip (request, ProcNo, result; JSON, no secret) and, while it waits, the order's card token
-- (sealed with the checkout/payment key; dropped once the charge has been sent).
ALTER TABLE shop_credentials ADD COLUMN tds_key_enc bytea;
ALTER TABLE shop_credentials ADD COLUMN tds_iv_enc bytea;
ALTER TABLE payments ADD COLUMN authentication jsonb;
ALTER TABLE payments ADD COLUMN token_sealed text;
CREATE INDEX payments_awaiting_authentication ON payments ((authentication ->> 'deadline'))
    WHERE state = 'awaiting_authentication';
