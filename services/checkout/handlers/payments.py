"""Payment outcomes from `payments.events` move orders to their terminal state (design §6.1, I1); a renewal
order's declined authorization flags it `payment_failed` (R22) or, when payment will retry, keeps it pending."""

from __future__ import annotations

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.checkout import translate
from services.checkout.domain.order import Decision, Order, PaymentOutcome, decide_payment
from services.checkout.handlers.deps import Deps

log = get_logger(__name__)


def _action_ready(before: Order, decision: Decision) -> bool:
    """The 3-D Secure form just arrived: a storefront waiting for `action_required` may go on (design §6.7)."""
    after = decision.order.authentication
    return after is not None and after.ready and not (before.authentication and before.authentication.ready)


class UnknownOrder(LookupError):
    """A payment event names an order this service does not have (or of another shop / payment number)."""


async def record_payment_outcome(deps: Deps, *, order_id: str, shop_id: str, payment_number: str,
                                 outcome: PaymentOutcome, inbound: Inbound | None = None) -> Decision | None:
    """Apply one payment outcome once; emit the order event when the status changes.

    Returns None for a redelivered event. Conflicting outcomes (e.g. an authorization for a rejected order)
    leave the status alone, are stored on the order as an anomaly and logged as errors for ops.
    """
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return None
        order = await uow.orders.get(order_id, for_update=True)
        if order is None or order.shop_id != shop_id or order.payment_number != payment_number:
            raise UnknownOrder(f"no order {order_id} of shop {shop_id} with payment number {payment_number}")
        decision = decide_payment(order, outcome)
        if decision.kind != "duplicate":
            await uow.orders.save(decision.order)
        if decision.status_changed:
            await uow.emit(translate.order_event(decision.order), correlation_id=order.correlation_id,
                           causation=inbound, subject_version=decision.order.version)
        if (decision.status_changed or _action_ready(order, decision)) and order.checkout_id is not None:
            await uow.announce_outcome(order.shop_id, order.checkout_id)  # a storefront may be waiting on it
    if decision.kind == "conflict":
        log.error("order.payment_conflict", order_id=order_id, payment_number=payment_number, note=decision.note)
    elif decision.status_changed:
        log.info("order.status_changed", order_id=order_id, status=decision.order.status.value)
    return decision
