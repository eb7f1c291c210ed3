-- EMV 3-D Secure (design §6.7): an order paid with a new card in a shop with 3-D Secure on waits in
-- `awaiting_authentication`; `authentication` holds its deadline, accepted results, the storefront's return page
-- and, once payment built it, the gateway form (its fields sealed with the checkout/payment key).
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('pending_payment', 'completed', 'rejected', 'needs_review', 'payment_failed',
                      'awaiting_authentication'));
ALTER TABLE orders ADD COLUMN authentication jsonb;
