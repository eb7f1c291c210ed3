-- Per-shop operator keys (design §8, I6): the table is now created by delivery's migration
-- 003_shop_operator_keys, shared by every service; this file stays so the version list of existing databases holds.
SELECT 1;
