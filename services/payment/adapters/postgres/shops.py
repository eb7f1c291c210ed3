"""Per-shop data in PostgreSQL: gateway credentials (encrypted), the operator key hash, the settings projection."""

from __future__ import annotations

import asyncpg

from services.payment.adapters.crypto import Cipher
from services.payment.domain.retries import RetryPolicy
from services.payment.ports import Credentials, ShopSettings

_PUT_SETTINGS = """
INSERT INTO shop_settings (shop_id, configured, sales_mode, card_link_mode, subscriptions_enabled, renewal_sales_mode,
    authorize_at_renewal, renewal_retry_max_tries, renewal_retry_within_days, card_authentication)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (shop_id) DO UPDATE SET configured = $2, sales_mode = $3, card_link_mode = $4, subscriptions_enabled = $5,
    renewal_sales_mode = $6, authorize_at_renewal = $7, renewal_retry_max_tries = $8, renewal_retry_within_days = $9,
    card_authentication = $10, updated_at = now()
"""


class ShopsSql:
    """One unit of work's view: credentials read once per shop and unit (opening a payment and recording its first
    call both need them), read again by the next unit."""

    def __init__(self, conn: asyncpg.Connection, cipher: Cipher) -> None:
        self._conn = conn
        self._cipher = cipher
        self._credentials: dict[str, Credentials | None] = {}

    async def credentials(self, shop_id: str) -> Credentials | None:
        if shop_id not in self._credentials:
            self._credentials[shop_id] = await self._read_credentials(shop_id)
        return self._credentials[shop_id]

    async def _read_credentials(self, shop_id: str) -> Credentials | None:
        row = await self._conn.fetchrow(
            "SELECT merchant_id, tenant_id, merchant_pass_enc, token_auth_code_enc, tds_key_enc, tds_iv_enc "
            "FROM shop_credentials WHERE shop_id = $1", shop_id)
        if row is None:
            return None
        key, iv = row["tds_key_enc"], row["tds_iv_enc"]
        return Credentials(merchant_id=row["merchant_id"], merchant_pass=self._cipher.decrypt(row["merchant_pass_enc"]),
                           token_auth_code=self._cipher.decrypt(row["token_auth_code_enc"]),
                           tenant_id=row["tenant_id"], tds_key=self._cipher.decrypt(key) if key else None,
                           tds_iv=self._cipher.decrypt(iv) if iv else None)

    async def put_credentials(self, shop_id: str, credentials: Credentials) -> None:
        self._credentials.pop(shop_id, None)
        await self._conn.execute(
            "INSERT INTO shop_credentials (shop_id, merchant_id, tenant_id, merchant_pass_enc, token_auth_code_enc, "
            "tds_key_enc, tds_iv_enc) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (shop_id) DO UPDATE SET "
            "merchant_id = $2, tenant_id = $3, merchant_pass_enc = $4, token_auth_code_enc = $5, tds_key_enc = $6, "
            "tds_iv_enc = $7, updated_at = now()",
            shop_id, credentials.merchant_id, credentials.tenant_id,
            self._cipher.encrypt(credentials.merchant_pass), self._cipher.encrypt(credentials.token_auth_code),
            self._cipher.encrypt(credentials.tds_key) if credentials.tds_key else None,
            self._cipher.encrypt(credentials.tds_iv) if credentials.tds_iv else None)

    async def put_settings(self, s: ShopSettings) -> None:
        retry = s.renewal_retry
        await self._conn.execute(_PUT_SETTINGS, *(
            s.shop_id, s.configured, s.sales_mode, s.card_link_mode, s.subscriptions_enabled, s.renewal_sales_mode,
            s.authorize_at_renewal, retry.max_tries if retry else None, retry.within_days if retry else None,
            list(s.card_authentication) if s.card_authentication is not None else None))

    async def settings(self, shop_id: str) -> ShopSettings | None:
        row = await self._conn.fetchrow(
            "SELECT shop_id, configured, sales_mode, card_link_mode, subscriptions_enabled, renewal_sales_mode, "
            "authorize_at_renewal, renewal_retry_max_tries, renewal_retry_within_days, card_authentication "
            "FROM shop_settings WHERE shop_id = $1", shop_id)
        if row is None:
            return None
        values = dict(row)
        tries, days = values.pop("renewal_retry_max_tries"), values.pop("renewal_retry_within_days")
        retry = RetryPolicy(max_tries=tries, within_days=days) if tries is not None and days is not None else None
        tds = values.pop("card_authentication")
        return ShopSettings(**values, renewal_retry=retry, card_authentication=tuple(tds) if tds is not None else None)
