"""A subscription starts when its first order completes (R19, `OrderCompleted` of the `subscription` cart). When
the member's card is known already and will have expired by the first renewal, the buyer is warned at once
(`RenewalCardExpiring`, `handlers/cards.py`)."""

from __future__ import annotations

from datetime import datetime

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.subscription import translate
from services.subscription.domain.cards import warning_for_next
from services.subscription.domain.cycles import first_cycle
from services.subscription.domain.errors import SubscriptionIdTaken
from services.subscription.domain.subscription import FirstOrder, Subscription, due_at, start
from services.subscription.handlers.cards import stage_warnings
from services.subscription.handlers.common import correlation, timing_of
from services.subscription.handlers.deps import Deps
from services.subscription.ports import Scheduled, UnitOfWork

log = get_logger(__name__)


async def start_subscription(deps: Deps, first: FirstOrder, *, inbound: Inbound | None = None) -> Subscription | None:
    """Create the subscription and its cycle 1 (the first order) and emit `SubscriptionStarted`, exactly once per
    first order: a redelivered event is absorbed by the inbox, a re-emitted one (another event id) by the
    subscription id derived from the order. Returns None when nothing was started now.

    The scheduler is not woken: the first renewal is a cycle away, and its poll bounds any earlier due time
    (a shop generating orders more days ahead than the cycle is long); waking it per start costs two queries
    per first order under load."""
    sub = start(first)
    now = deps.clock.now()
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return None
        timing = await timing_of(uow, sub.shop_id)
        if not await uow.subscriptions.add(Scheduled(sub, due_at(sub, timing))):
            await _check_same_first_order(uow, sub)
            log.info("subscription.already_started", subscription_id=sub.subscription_id, order_id=first.order_id)
            return None
        await uow.cycles.add([first_cycle(sub, at=now)])
        await uow.emit(translate.subscription_started(sub), correlation_id=correlation(inbound, sub.first_order_id),
                       causation=inbound, subject_version=sub.version)
        await _warn_if_card_expires_first(uow, sub, inbound=inbound, now=now)
    log.info("subscription.started", subscription_id=sub.subscription_id, shop_id=sub.shop_id,
             next_cycle_on=sub.next_cycle_on.isoformat())
    return sub


async def _warn_if_card_expires_first(uow: UnitOfWork, sub: Subscription, *, inbound: Inbound | None,
                                      now: datetime) -> None:
    """The member's card may be known already (its link event came first) and expire before the first renewal."""
    member = (sub.shop_id, sub.member_id)
    warning = warning_for_next(sub, (await uow.member_cards.of_members([member])).get(member), at=now)
    if warning is not None:
        await stage_warnings(uow, [warning], versions={sub.subscription_id: sub.version}, causation=inbound)


async def _check_same_first_order(uow: UnitOfWork, sub: Subscription) -> None:
    """Not added: fine when it is this first order's subscription; an id another first order holds is refused."""
    existing = await uow.subscriptions.get(sub.subscription_id)
    if existing is not None and (existing.shop_id, existing.first_order_id) != (sub.shop_id, sub.first_order_id):
        raise SubscriptionIdTaken(f"subscription {sub.subscription_id} belongs to order {existing.first_order_id} of "
                                  f"shop {existing.shop_id}, not to order {sub.first_order_id}")
