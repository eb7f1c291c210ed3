"""Views for operators and buyers: always within the asker's own shop (and, for a buyer, their own member id)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.subscription.domain.cards import expires_before_next
from services.subscription.domain.cycles import Cycle
from services.subscription.domain.subscription import Subscription
from services.subscription.handlers.common import Requester, owned
from services.subscription.handlers.deps import Deps
from services.subscription.ports import SubscriptionQuery, UnitOfWork


@dataclass(frozen=True)
class SubscriptionDetail:
    subscription: Subscription
    cycles: list[Cycle]
    card_expires_first: bool = False
    """The member's card on file will have expired by the next renewal: the buyer should replace it (R18, R22)."""


async def search_subscriptions(deps: Deps, shop_id: str, query: SubscriptionQuery) -> list[Subscription]:
    async with deps.uow() as uow:
        return await uow.subscriptions.search(shop_id, query)


async def subscription_detail(deps: Deps, who: Requester, subscription_id: str) -> SubscriptionDetail:
    """The subscription with its cycles and their orders and outcomes; `SubscriptionNotFound` if not the asker's."""
    async with deps.uow() as uow:
        sub = await owned(uow, who, subscription_id)
        expiring = await _expiring(uow, [sub])
        return SubscriptionDetail(sub, await uow.cycles.of_subscription(subscription_id),
                                  card_expires_first=sub.subscription_id in expiring)


async def cards_expiring_first(deps: Deps, subs: Sequence[Subscription]) -> set[str]:
    """The ids of `subs` whose member's card will have expired by their next renewal (one query for all)."""
    if not subs:
        return set()
    async with deps.uow() as uow:
        return await _expiring(uow, subs)


async def _expiring(uow: UnitOfWork, subs: Sequence[Subscription]) -> set[str]:
    cards = await uow.member_cards.of_members({(s.shop_id, s.member_id) for s in subs})
    return {s.subscription_id for s in subs if expires_before_next(s, cards.get((s.shop_id, s.member_id)))}
