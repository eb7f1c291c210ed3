"""The shop projection: what the mails need from each shop's settings (R23)."""

from __future__ import annotations

from datetime import datetime

from delivery.envelopes import Inbound
from delivery.units import after_commit
from services.notification.domain.model import ShopProfile
from services.notification.handlers.deps import Deps


async def update_shop(deps: Deps, shop: ShopProfile, *, as_of: datetime, inbound: Inbound | None = None) -> bool:
    """Keep the newest settings (the topic is compacted and replayed: an older snapshot changes nothing); mails
    that waited for this shop are due at once. True if these settings are now the shop's."""
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return False
        if not await uow.mail_log.save_shop(shop, as_of=as_of):
            return False
        waiting = await uow.mail_log.retry_waiting_for_shop(shop.shop_id, now=deps.clock.now())
    if waiting:
        after_commit(deps.wakeup.wake)  # in a batch: once the batch committed
    return True
