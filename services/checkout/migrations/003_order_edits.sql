-- Operator operations (issue 6): what the gateway holds or captured for the order, as payment events report it,
-- so the order view can say "hold differs from order total — update required" after an edit (R12).
ALTER TABLE orders ADD COLUMN payment_amount bigint;
UPDATE orders SET payment_amount = amount WHERE payment_status IN ('authorized', 'captured');
