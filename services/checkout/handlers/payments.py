"""Payment outcomes from `payments.events` move orders to their terminal state (design §6.1, I1)."""

from __future__ import annotations

import logging
from uuid import UUID

from services.checkout import translate
from services.checkout.domain.order import Decision, PaymentOutcome, decide_payment
from services.checkout.handlers.deps import CONSUMER, Deps

log = logging.getLogger(__name__)


class UnknownOrder(LookupError):
    """A payment event names an order this service does not have (or of another shop / payment number)."""


async def record_payment_outcome(deps: Deps, *, order_id: str, shop_id: str, payment_number: str,
                                 outcome: PaymentOutcome, event_id: UUID) -> Decision | None:
    """Apply one payment outcome once; emit the order event when the status changes.

    Returns None for a redelivered event. Conflicting outcomes (e.g. an authorization for a rejected order)
    leave the status alone, are stored on the order as an anomaly and logged as errors for ops.
    """
    async with deps.uow() as uow:
        if not await uow.claim(CONSUMER, event_id):
            return None
        order = await uow.orders.get(order_id, for_update=True)
        if order is None or order.shop_id != shop_id or order.payment_number != payment_number:
            raise UnknownOrder(f"no order {order_id} of shop {shop_id} with payment number {payment_number}")
        decision = decide_payment(order, outcome)
        if decision.kind != "duplicate":
            await uow.orders.save(decision.order)
        if decision.status_changed:
            await uow.emit(translate.order_event(decision.order), correlation_id=order.checkout_id,
                           causation_id=str(event_id), subject_version=decision.order.version)
            await uow.announce_outcome(order.shop_id, order.checkout_id)
    if decision.kind == "conflict":
        log.error("order %s (payment number %s): %s", order_id, payment_number, decision.note)
    elif decision.status_changed:
        log.info("order %s -> %s", order_id, decision.order.status)
    return decision
