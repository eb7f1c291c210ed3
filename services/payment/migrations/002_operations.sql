-- Operator operations (issue 6, design R12-R15, §6.5): the order's current total (checkout's edits), the
-- operation holding the payment (the guard that keeps two gateway operations off one transaction), an
-- operation whose outcome is unknown, and the hold an amount update replaced (two live holds when its release
-- failed). Nested values are JSON written and read by the adapter; the old hold's ProcessPass is encrypted.
ALTER TABLE payments
    ADD COLUMN order_total        integer,
    ADD COLUMN sales_date         date,
    ADD COLUMN in_progress        jsonb,
    ADD COLUMN unknown_operation  jsonb,
    ADD COLUMN previous_hold      jsonb,
    ADD COLUMN previous_pass_enc  bytea;
CREATE INDEX payments_two_live_holds ON payments (updated_at) WHERE previous_hold IS NOT NULL;

-- Attempts of operator operations name the operation, who asked and the amount sent (R15); the order flow's
-- own attempts keep `action` null.
ALTER TABLE gateway_attempts
    ADD COLUMN action        text,
    ADD COLUMN requested_by  text,
    ADD COLUMN amount        integer;
