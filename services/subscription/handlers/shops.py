"""The shops' renewal timing (lead days, hour JST) from `shops.settings`: a projection, and the due times of
the shop's active subscriptions follow it (a new generation hour applies from the next cycle on)."""

from __future__ import annotations

from datetime import datetime

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.subscription.domain.schedule import RenewalTiming
from services.subscription.domain.subscription import due_at
from services.subscription.handlers.deps import Deps
from services.subscription.ports import Scheduled

log = get_logger(__name__)


async def update_renewal_timing(deps: Deps, shop_id: str, timing: RenewalTiming, *, as_of: datetime,
                                inbound: Inbound | None = None) -> bool:
    """Store the shop's timing unless a later snapshot was stored (the compacted topic may replay older ones);
    when it changed, reschedule the shop's active subscriptions. True if the timing changed."""
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return False
        before = (await uow.shops.of_shops([shop_id])).get(shop_id)
        if not await uow.shops.put(shop_id, timing, as_of=as_of) or before == timing:
            return False
        if before is None and timing == RenewalTiming():
            return False  # the defaults were in force already
        subs = await uow.subscriptions.active_of_shop(shop_id)
        await uow.subscriptions.save([Scheduled(sub, due_at(sub, timing)) for sub in subs])
    deps.scheduler.wake()
    log.info("shop.renewal_timing", shop_id=shop_id, lead_days=timing.lead_days, hour_jst=timing.hour_jst,
             rescheduled=len(subs))
    return True
