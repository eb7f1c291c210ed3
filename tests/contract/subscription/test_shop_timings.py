"""`ShopTimings`: each shop's latest renewal timing; an older snapshot never replaces a newer one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.subscription.domain.schedule import RenewalTiming

AS_OF = datetime(2025, 2, 1, tzinfo=UTC)


async def test_the_latest_timing_of_each_known_shop_is_read_back(store):
    async with store.uow() as uow:
        assert await uow.shops.put("a", RenewalTiming(lead_days=3, hour_jst=9), as_of=AS_OF)
        assert await uow.shops.put("b", RenewalTiming(), as_of=AS_OF)
        assert await uow.shops.put("a", RenewalTiming(lead_days=5, hour_jst=10), as_of=AS_OF)  # same instant: stored
    async with store.uow() as uow:
        assert await uow.shops.of_shops(["a", "b", "unknown"]) == {"a": RenewalTiming(lead_days=5, hour_jst=10),
                                                                  "b": RenewalTiming()}
        assert await uow.shops.of_shops([]) == {}


async def test_an_older_snapshot_is_not_stored(store):
    async with store.uow() as uow:
        await uow.shops.put("a", RenewalTiming(hour_jst=9), as_of=AS_OF)
        assert not await uow.shops.put("a", RenewalTiming(hour_jst=20), as_of=AS_OF - timedelta(seconds=1))
        assert await uow.shops.of_shops(["a"]) == {"a": RenewalTiming(hour_jst=9)}
