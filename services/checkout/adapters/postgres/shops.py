"""`ShopRepository` on PostgreSQL: one row per shop, settings in JSON columns, key digests unique."""

from __future__ import annotations

import asyncpg

from services.checkout.adapters.postgres import codec
from services.checkout.domain.shop import Shop
from services.checkout.ports import ShopKeys

_COLUMNS = "shop_id, shop_name, mail, carriers, card, credentials_set, version"
_GET = f"SELECT {_COLUMNS} FROM shops WHERE shop_id = $1"  # noqa: S608 - constant column list, $n params
_GET_FOR_UPDATE = _GET + " FOR UPDATE"
_BY_STOREFRONT_KEY = f"SELECT {_COLUMNS} FROM shops WHERE storefront_key_hash = $1"  # noqa: S608 - as above
_KEYS = "SELECT storefront_key_hash, operator_key_hash FROM shops WHERE shop_id = $1"
_INSERT = """
INSERT INTO shops (shop_id, shop_name, mail, carriers, card, credentials_set, version,
                   storefront_key_hash, operator_key_hash)
VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6, $7, $8, $9)
ON CONFLICT DO NOTHING
RETURNING true
"""
_UPDATE = """
UPDATE shops SET shop_name = $2, mail = $3::jsonb, carriers = $4::jsonb, card = $5::jsonb,
                 credentials_set = $6, version = $7, updated_at = now()
WHERE shop_id = $1
"""
_SET_SYNCED = "UPDATE shops SET operator_key_synced = $2 WHERE shop_id = $1"


class PostgresShops:
    def __init__(self, conn: asyncpg.Connection):
        self._conn = conn

    async def get(self, shop_id: str, *, for_update: bool = False) -> Shop | None:
        return _shop(await self._conn.fetchrow(_GET_FOR_UPDATE if for_update else _GET, shop_id))

    async def by_storefront_key(self, key_sha256: str) -> Shop | None:
        return _shop(await self._conn.fetchrow(_BY_STOREFRONT_KEY, key_sha256))

    async def keys(self, shop_id: str) -> ShopKeys | None:
        row = await self._conn.fetchrow(_KEYS, shop_id)
        return ShopKeys(row["storefront_key_hash"], row["operator_key_hash"]) if row else None

    async def add(self, shop: Shop, keys: ShopKeys) -> bool:
        """False if the shop id (or a key digest) already exists."""
        return bool(await self._conn.fetchval(_INSERT, *_values(shop), keys.storefront_sha256, keys.operator_sha256))

    async def save(self, shop: Shop) -> None:
        await self._conn.execute(_UPDATE, *_values(shop))

    async def set_operator_key_synced(self, shop_id: str, synced: bool) -> None:
        await self._conn.execute(_SET_SYNCED, shop_id, synced)


def _values(shop: Shop) -> tuple[object, ...]:
    return (shop.shop_id, shop.shop_name, codec.mail_to_json(shop.mail), codec.carriers_to_json(shop.carriers),
            codec.card_to_json(shop.card), shop.credentials_set, shop.version)


def _shop(row: asyncpg.Record | None) -> Shop | None:
    if row is None:
        return None
    return Shop(
        shop_id=row["shop_id"], shop_name=row["shop_name"], mail=codec.mail_from_json(row["mail"]),
        carriers=codec.carriers_from_json(row["carriers"]), card=codec.card_from_json(row["card"]),
        credentials_set=row["credentials_set"], version=row["version"],
    )  # fmt: skip
