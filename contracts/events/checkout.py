"""`CheckoutRequested` v1: the public contract storefronts publish on `checkout.requests` (design §6.1).

Field names are pinned (issue 4); the only allowed change is adding optional fields. The model accepts
everything well-formed, including values checkout must refuse (a fee "to be advised", a subscription in a
`zero_step` cart, installments the shop does not offer): checkout answers those with an `OrderRejected`
carrying a precise reason, which a storefront can act on, instead of a dead letter it never sees.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from contracts.events.base import Event
from contracts.events.common import Buyer, Fee, Line, PaymentChoice, Shipping, SubscriptionTerms
from contracts.topics import CHECKOUT_REQUESTS
from contracts.types import CartType, Identifier


class CheckoutRequested(Event):
    """A storefront asks to place an order and pay by card.

    `checkout_id` is the storefront's idempotency key: a repeat yields the first outcome, never a second
    order. It is also the Kafka key, so repeats land on the same partition in order.
    """

    TYPE: ClassVar[str] = "checkout.requested.v1"
    TOPIC: ClassVar[str] = CHECKOUT_REQUESTS
    KEY_FIELD: ClassVar[str] = "checkout_id"

    checkout_id: Identifier = Field(description="The storefront's idempotency key for this checkout.")
    shop_id: Identifier
    cart_type: CartType
    buyer: Buyer
    shipping: Shipping
    lines: list[Line]
    fees: list[Fee] = Field(default_factory=list)
    payment: PaymentChoice
    subscription: SubscriptionTerms | None = Field(
        default=None, description="Delivery cycle; set only for `subscription` carts."
    )
