"""The members' subscriptions as `subscriptions.events` says them (R18): the projection the card delete guard reads,
so the request path never calls the subscription service. Applied once per event (inbox); the newest status of a
subscription wins (its subject_version), so a copy of an older event changes nothing."""

from __future__ import annotations

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.payment.handlers.deps import Deps
from services.payment.ports import SubscriptionStatus

log = get_logger(__name__)


async def record_subscription(deps: Deps, status: SubscriptionStatus, *, inbound: Inbound | None = None) -> None:
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return
        if await uow.subscriptions.record(status):
            log.info("subscription.projected", subscription_id=status.subscription_id, shop_id=status.shop_id,
                     status=status.status, version=status.version)
