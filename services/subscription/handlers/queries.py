"""Views for operators and buyers: always within the asker's own shop (and, for a buyer, their own member id)."""

from __future__ import annotations

from dataclasses import dataclass

from services.subscription.domain.cycles import Cycle
from services.subscription.domain.subscription import Subscription
from services.subscription.handlers.common import Requester, owned
from services.subscription.handlers.deps import Deps
from services.subscription.ports import SubscriptionQuery


@dataclass(frozen=True)
class SubscriptionDetail:
    subscription: Subscription
    cycles: list[Cycle]


async def search_subscriptions(deps: Deps, shop_id: str, query: SubscriptionQuery) -> list[Subscription]:
    async with deps.uow() as uow:
        return await uow.subscriptions.search(shop_id, query)


async def subscription_detail(deps: Deps, who: Requester, subscription_id: str) -> SubscriptionDetail:
    """The subscription with its cycles and their orders and outcomes; `SubscriptionNotFound` if not the asker's."""
    async with deps.uow() as uow:
        sub = await owned(uow, who, subscription_id)
        return SubscriptionDetail(sub, await uow.cycles.of_subscription(subscription_id))
