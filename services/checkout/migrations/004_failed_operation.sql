-- Operator operations (issue 6): the last operation on the order's payment that did not happen (refused,
-- declined with raw gateway codes, or of unknown outcome), from `PaymentOperationFailed`, for the order view.
ALTER TABLE orders ADD COLUMN failed_operation jsonb;
