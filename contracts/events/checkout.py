"""`CheckoutRequested` v1: the public contract storefronts publish on `checkout.requests` (design §6.1).

Field names are pinned (issue 4); the only allowed change is adding optional fields. The model accepts
everything well-formed, including values checkout must refuse (a fee "to be advised", a subscription in a
`zero_step` cart, installments the shop does not offer): checkout answers those with an `OrderRejected`
carrying a precise reason, which a storefront can act on, instead of a dead letter it never sees.

The card token: a storefront publishing here itself sends `payment.token`. Checkout's HTTP gateway
(`POST /v1/checkouts`) publishes the same request with the token in `sealed_token` instead (encrypted for
checkout and payment, `delivery.sealing`), so a request our code publishes never shows a readable token (I5).
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

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
    return_url: str | None = Field(
        default=None, max_length=2048, pattern=r"^https?://",
        description="EMV 3-D Secure: the storefront page the buyer's browser is sent back to after the "
                    "authentication (design §6.7); the storefront then reads the outcome.")
    sealed_token: str | None = Field(
        default=None, description="Set only by checkout's HTTP gateway, in place of `payment.token`: the card "
                                  "token sealed with the checkout/payment seal key (Fernet)."
    )

    @model_validator(mode="after")
    def _one_form_of_token(self) -> Self:
        if self.sealed_token is not None and self.payment.token is not None:
            raise ValueError("send the card token either in payment.token or sealed, not both")
        return self
