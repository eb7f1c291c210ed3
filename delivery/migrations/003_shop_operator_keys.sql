-- Per-shop operator keys (design §8, I6), queried by delivery/shop_keys.py in every service with an operator API:
-- checkout registers the SHA-256 of each shop's operator key (PUT /internal/v1/shops/{shop_id}/operator-key).
-- IF NOT EXISTS: databases migrated before this file have the table from a service's own migration.
CREATE TABLE IF NOT EXISTS shop_operator_keys (
    shop_id     text PRIMARY KEY,
    key_sha256  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
