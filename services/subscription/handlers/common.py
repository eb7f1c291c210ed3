"""Steps the subscription handlers share: the shop's renewal timing, saving with the due time, who asks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from delivery.envelopes import Inbound
from services.subscription.domain.errors import SubscriptionNotFound
from services.subscription.domain.schedule import RenewalTiming
from services.subscription.domain.subscription import Subscription, due_at
from services.subscription.ports import Scheduled, UnitOfWork


class Actor(StrEnum):
    """Who changed a subscription (`SubscriptionChanged.changed_by`)."""

    OPERATOR = "operator"
    BUYER = "buyer"
    SCHEDULE = "schedule"


@dataclass(frozen=True, kw_only=True)
class Requester:
    """Who asks over HTTP: an operator of `shop_id`, or the buyer `member_id` through the shop's storefront.
    A subscription of another shop or member is "not found" to them (404, I6)."""

    shop_id: str
    actor: Actor
    member_id: str | None = None


async def timing_of(uow: UnitOfWork, shop_id: str) -> RenewalTiming:
    """The shop's renewal timing; a shop whose settings were not seen yet gets the defaults (0 days, 00:00)."""
    return (await uow.shops.of_shops([shop_id])).get(shop_id, RenewalTiming())


async def save(uow: UnitOfWork, sub: Subscription, timing: RenewalTiming) -> None:
    await uow.subscriptions.save([Scheduled(sub, due_at(sub, timing))])


async def owned(uow: UnitOfWork, who: Requester, subscription_id: str, *, for_update: bool = False) -> Subscription:
    sub = await uow.subscriptions.get(subscription_id, for_update=for_update)
    if sub is None or sub.shop_id != who.shop_id or (who.member_id is not None and sub.member_id != who.member_id):
        raise SubscriptionNotFound(f"no subscription {subscription_id!r} here")
    return sub


def correlation(inbound: Inbound | None, default: str) -> str:
    """The chain an event belongs to: the inbound event's, or `default` (the subscription or cycle) for a chain
    this service starts (design §4)."""
    return inbound.envelope.correlation_id if inbound is not None else default


def cycle_correlation(subscription_id: str, cycle_no: int) -> str:
    """The correlation id of everything one renewal cycle causes (design §4: the subscription cycle)."""
    return f"{subscription_id}:{cycle_no}"
