"""Renewal orders (design §6.6, R20-R22, I4): the order of one subscription cycle, generated in every case.

The subscription service asks for it (`RenewalOrderRequested`); checkout makes exactly one order per
(subscription_id, cycle_no), the repository's unique key, with its own payment number. The buyer is a member who
pays lump sum (R6) with the card registered at the gateway (no token), in the shop's renewal sales mode (R11).
When R21 says the gateway must stay out of it (authorize at renewal off, an amount the method's conditions refuse,
a fee "to be advised", a date outside the contract period, the card method not configured), the order is
generated and completed at once with its payment `skipped` and the reason, and no authorization is ever made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.checkout.domain.order import (
    Order,
    OrderStatus,
    PaymentStatus,
    RenewalCycle,
    transition,
)
from services.checkout.domain.rules import LUMP_SUM, renewal_skip
from services.checkout.domain.shop import DEFAULT_DISPLAY_NAME, CardMethod, Shop
from services.checkout.domain.values import (
    Buyer,
    CartType,
    CheckoutRequest,
    Fee,
    Line,
    PaymentChoice,
    Shipping,
    SubscriptionTerms,
    jst_date,
)

REGISTERED_CARD = PaymentChoice(has_token=False, use_registered_card=True, keep_card=None, pay_type=LUMP_SUM)
"""How every renewal pays: the member's card stored at the gateway (KaiinId), one payment (R6, R19)."""


@dataclass(frozen=True, kw_only=True)
class RenewalRequest:
    """A due cycle as the subscription service replays it: the subscription's contents at generation time."""

    cycle: RenewalCycle
    shop_id: str
    buyer: Buyer
    shipping: Shipping
    lines: tuple[Line, ...]
    fees: tuple[Fee, ...]
    terms: SubscriptionTerms

    def contents(self) -> CheckoutRequest:
        """The order's contents in the shape every order keeps (`Order.request`), keyed by the cycle."""
        return CheckoutRequest(
            checkout_id=self.cycle.key, shop_id=self.shop_id, cart_type=CartType.SUBSCRIPTION, buyer=self.buyer,
            shipping=self.shipping, lines=self.lines, fees=self.fees, payment=REGISTERED_CARD,
            subscription=self.terms,
        )  # fmt: skip


def place_renewal_order(renewal: RenewalRequest, shop: Shop, *, order_id: str, payment_number: str,
                        now: datetime) -> Order:
    """The cycle's order: pending payment (authorize the registered card), or, when R21 says so, completed with
    its payment skipped and the reason (version 1: `OrderPlaced` was version 0)."""
    request = renewal.contents()
    card = shop.card or CardMethod()
    order = Order(
        order_id=order_id, shop_id=shop.shop_id, checkout_id=None, request=request,
        status=OrderStatus.PENDING_PAYMENT, placed_at=now, payment_status=PaymentStatus.PENDING,
        amount=request.total, payment_number=payment_number, pay_type=LUMP_SUM,
        payment_method_name=card.display_name.strip() or DEFAULT_DISPLAY_NAME, sales_mode=card.renewal_sales_mode,
        card_link_mode=card.card_link_mode, renewal=renewal.cycle,
    )  # fmt: skip
    skip = renewal_skip(shop, request, jst_date(now))
    if skip is None:
        return order
    return transition(order, OrderStatus.COMPLETED, payment_status=PaymentStatus.SKIPPED,
                      payment_skip_reason=skip.code, reason=skip.message)
