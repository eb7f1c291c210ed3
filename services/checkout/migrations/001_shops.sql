-- Shops and their card-method settings (design §3: checkout owns them). API keys are stored as SHA-256
-- digests only; gateway credentials are never stored here (the payment service keeps them, encrypted).
CREATE TABLE shops (
    shop_id             text PRIMARY KEY,
    shop_name           text NOT NULL,
    storefront_key_hash text NOT NULL UNIQUE,
    operator_key_hash   text NOT NULL UNIQUE,
    operator_key_synced boolean NOT NULL DEFAULT false,  -- payment service received the operator key digest
    mail                jsonb NOT NULL,
    carriers            jsonb NOT NULL DEFAULT '[]',
    card                jsonb,                           -- null: the card method is not added
    credentials_set     boolean NOT NULL DEFAULT false,  -- payment service accepted the gateway credentials
    version             integer NOT NULL DEFAULT 0,      -- subject_version of the shops.settings snapshot
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
