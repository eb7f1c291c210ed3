-- Per-shop storefront keys (design §8, I6), queried by delivery/shop_keys.py in every service with a storefront
-- API besides checkout (the subscription service's my-page API): checkout registers the SHA-256 of each shop's
-- storefront key (PUT /internal/v1/shops/{shop_id}/storefront-key). Every service gets the (small) table.
CREATE TABLE IF NOT EXISTS shop_storefront_keys (
    shop_id     text PRIMARY KEY,
    key_sha256  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
