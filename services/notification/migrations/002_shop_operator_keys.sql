-- Per-shop operator keys (design §8, I6): checkout registers the SHA-256 of each shop's operator key
-- (PUT /internal/v1/shops/{shop_id}/operator-key); the mail log of a shop opens only with that shop's key.
CREATE TABLE shop_operator_keys (
    shop_id     text PRIMARY KEY,
    key_sha256  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
