"""The `shop_renewal_timings` table: each shop's latest renewal timing from `shops.settings`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import asyncpg

from services.subscription.domain.schedule import RenewalTiming

_PUT = """
INSERT INTO shop_renewal_timings (shop_id, lead_days, hour_jst, as_of) VALUES ($1, $2, $3, $4)
ON CONFLICT (shop_id) DO UPDATE SET lead_days = $2, hour_jst = $3, as_of = $4
    WHERE shop_renewal_timings.as_of <= $4
RETURNING true
"""


class PostgresShopTimings:
    """`ShopTimings` on the unit of work's connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def of_shops(self, shop_ids: Iterable[str]) -> dict[str, RenewalTiming]:
        rows = await self._conn.fetch(
            "SELECT shop_id, lead_days, hour_jst FROM shop_renewal_timings WHERE shop_id = ANY($1::text[])",
            list(shop_ids))
        return {row["shop_id"]: RenewalTiming(lead_days=row["lead_days"], hour_jst=row["hour_jst"]) for row in rows}

    async def put(self, shop_id: str, timing: RenewalTiming, *, as_of: datetime) -> bool:
        return bool(await self._conn.fetchval(_PUT, shop_id, timing.lead_days, timing.hour_jst, as_of))
