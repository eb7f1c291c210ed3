"""Renewal orders from `subscriptions.commands` (design §6.6, R20-R22, I4): one order per subscription cycle.

`RenewalOrderRequested` always generates the cycle's order, whatever the shop's settings say (R20): pending
payment for the payment service to authorize with the member's registered card, or completed at once with its
payment skipped (R21) and both `OrderPlaced` and `OrderCompleted` emitted in the same unit of work. A redelivered
command, or the same cycle requested again under a new event id, finds the cycle's order and does nothing: the
repository's unique (subscription_id, cycle_no) makes a second order impossible even for two racing replicas.
"""

from __future__ import annotations

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.checkout import translate
from services.checkout.domain.order import Order, OrderStatus
from services.checkout.domain.payment_number import payment_number
from services.checkout.domain.renewal import RenewalRequest, place_renewal_order
from services.checkout.domain.values import jst_date
from services.checkout.handlers.deps import Deps
from services.checkout.handlers.shops import ShopNotFound

log = get_logger(__name__)


async def place_renewal(deps: Deps, renewal: RenewalRequest, *, inbound: Inbound | None = None) -> Order | None:
    """Generate the cycle's order once. Returns None when the event or the cycle was handled before; raises
    `ShopNotFound` for a shop checkout does not know (nothing is claimed: the subscriber dead-letters it)."""
    cycle = renewal.cycle
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return None
        if await uow.orders.by_cycle(cycle.subscription_id, cycle.cycle_no) is not None:
            log.info("renewal.repeated", subscription_id=cycle.subscription_id, cycle_no=cycle.cycle_no)
            return None
        shop = await uow.shops.get(renewal.shop_id)
        if shop is None:
            raise ShopNotFound(f"renewal of subscription {cycle.subscription_id} cycle {cycle.cycle_no}: "
                               f"no shop {renewal.shop_id!r}")
        now = deps.clock.now()
        number = payment_number(jst_date(now), await uow.orders.next_payment_sequence())
        order = place_renewal_order(renewal, shop, order_id=deps.ids.order_id(), payment_number=number, now=now)
        if not await uow.orders.add(order):
            return None  # a racing replica generated it first; its events stand
        await uow.emit(translate.renewal_placed(order), correlation_id=cycle.key, causation=inbound, subject_version=0)
        if order.status is OrderStatus.COMPLETED:
            await uow.emit(translate.order_event(order), correlation_id=cycle.key, causation=inbound,
                           subject_version=order.version)
    log.info("renewal.ordered", subscription_id=cycle.subscription_id, cycle_no=cycle.cycle_no,
             order_id=order.order_id, status=order.status.value, payment_number=order.payment_number,
             payment_skip_reason=order.payment_skip_reason)
    return order
