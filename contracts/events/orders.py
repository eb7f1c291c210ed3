"""Order lifecycle events, produced by checkout on `orders.events` (key = order id).

An order is `pending_payment` after `OrderPlaced` and ends in exactly one of `OrderCompleted`,
`OrderRejected`, `OrderNeedsReview` (design I1). A checkout refused before payment still gets an order id
and an `OrderRejected`, so every `checkout_id` maps to one order and one terminal event. Storefronts read
this topic, so rejections carry reasons and buyer messages but never raw gateway codes (R16: anti-fraud).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.events.base import Event
from contracts.events.common import Buyer, Fee, Line, PaymentChoice, Shipping, SubscriptionTerms
from contracts.topics import ORDERS_EVENTS
from contracts.types import (
    CardLinkMode,
    CartType,
    Identifier,
    NonEmptyStr,
    PaymentNumber,
    PayType,
    SalesMode,
    Yen,
)

SecureResult = Literal["0", "2", "3"]
ACCEPTABLE_RESULTS: tuple[SecureResult, ...] = ("0", "2", "3")
OrderOrigin = Literal["checkout", "renewal"]
"""`checkout`: from a storefront's `CheckoutRequested`; `renewal`: from a `RenewalOrderRequested`."""


class OrderEvent(Event):
    """Fields every order event has. Not an event type itself."""

    TOPIC: ClassVar[str] = ORDERS_EVENTS
    KEY_FIELD: ClassVar[str] = "order_id"

    order_id: Identifier
    shop_id: Identifier
    checkout_id: Identifier | None = Field(
        default=None, description="The storefront's checkout id; null for renewal orders."
    )
    subscription_id: Identifier | None = None
    cycle_no: int | None = Field(default=None, ge=1, description="Renewal cycle number; null otherwise.")


class AuthenticationRequest(BaseModel):
    """EMV 3-D Secure for this order (design §6.7): a new card, the buyer present, the shop's setting on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    deadline: datetime = Field(description="Abandoned if the buyer has not come back by then (UTC).")
    accepted_results: list[SecureResult] = Field(
        default_factory=lambda: list(ACCEPTABLE_RESULTS), description="SecureResultCodes the shop accepts.")
    return_url: str | None = Field(default=None, description="The storefront page the buyer is sent back to.")


class OrderPlaced(OrderEvent):
    """An order passed validation and awaits payment. The payment service acts on it.

    It snapshots the shop settings that decide the payment (`sales_mode`, `card_link_mode`) so the outcome
    does not depend on when payment's settings projection catches up. The one-time card token travels in
    `sealed_token`, encrypted for the payment service (`delivery.sealing`), and `payment.token` is null: no
    event after the storefront's own request shows a token (I5). `payment.pay_type` is already normalised by R6.
    When `payment_skip_reason` is set (R21, renewals), no gateway call must be made.
    """

    TYPE: ClassVar[str] = "order.placed.v1"

    origin: OrderOrigin
    cart_type: CartType
    payment_number: PaymentNumber
    amount: Yen = Field(description="The amount to authorize: lines + shipping + fees.")
    order_date: date = Field(description="Order date in JST.")
    buyer: Buyer
    payment: PaymentChoice
    sales_mode: SalesMode
    card_link_mode: CardLinkMode
    payment_skip_reason: str | None = Field(
        default=None, description="R21: why no authorization is made for this (renewal) order."
    )
    sealed_token: str | None = Field(
        default=None, description="The card token, sealed with the checkout/payment seal key (Fernet)."
    )
    authentication: AuthenticationRequest | None = Field(
        default=None, description="Set when the card must pass EMV 3-D Secure before it is charged; the order is "
                                  "then `awaiting_authentication`."
    )


class OrderCompleted(OrderEvent):
    """An order reached its successful terminal state. Carries everything the thanks mail needs (R23).

    The subscription service starts a subscription from the first `subscription` order using `subscription`,
    `lines`, `shipping` and `fees`.
    """

    TYPE: ClassVar[str] = "order.completed.v1"

    origin: OrderOrigin
    cart_type: CartType
    payment_number: PaymentNumber
    order_date: date = Field(description="Order date in JST.")
    buyer: Buyer
    shipping: Shipping
    lines: list[Line]
    fees: list[Fee] = Field(default_factory=list)
    total: Yen
    payment_method_name: NonEmptyStr = Field(description="The card method's display name at order time.")
    pay_type: PayType
    sales_mode: SalesMode
    payment_status: Literal["authorized", "captured", "skipped"]
    subscription: SubscriptionTerms | None = None
    payment_skip_reason: str | None = Field(
        default=None, description="R21: why a renewal order was completed without authorization (`skipped`)."
    )


class RenewalPaymentFailed(OrderEvent):
    """R22: a renewal order's authorization was declined. The order exists and stays, flagged with the error; it is
    not re-authorized automatically (unless the shop opted in to retries, and then only after they ran out).
    Raw gateway codes stay in checkout's and payment's operator views; here only the reason and the R16 message."""

    TYPE: ClassVar[str] = "order.renewal_payment_failed.v1"

    payment_number: PaymentNumber
    order_date: date = Field(description="Order date in JST.")
    buyer: Buyer
    total: Yen
    reason_code: NonEmptyStr = Field(description="e.g. card_declined, no_registered_card, gateway_refused.")
    reason: NonEmptyStr
    buyer_message: str | None = Field(default=None, description="The R16 message for the buyer.")


class OrderRejected(OrderEvent):
    """An order (or a checkout before it became one) was refused: validation (R1-R10) or a declined card.

    `reason_code` is a stable machine-readable code (e.g. `shipping_fee_unknown`, `payment_declined`),
    `reason` a precise message for storefront developers and operators, `buyer_message` what to show the
    buyer (for declines the R16 text).
    """

    TYPE: ClassVar[str] = "order.rejected.v1"

    payment_number: PaymentNumber | None = Field(default=None, description="Null if rejected before payment.")
    reason_code: NonEmptyStr
    reason: NonEmptyStr
    buyer_message: str | None = None


class OrderNeedsReview(OrderEvent):
    """The payment outcome is unknown (design §6.2): ops must resolve it; the buyer contacts the shop."""

    TYPE: ClassVar[str] = "order.needs_review.v1"

    payment_number: PaymentNumber = Field(description="What ops search for in Sony's screen.")
    reason_code: NonEmptyStr
    reason: NonEmptyStr
    buyer_message: str | None = None
    attempt_id: Identifier | None = Field(
        default=None, description="The gateway attempt whose outcome is unknown."
    )


class OrderAmountChanged(OrderEvent):
    """An operator edited a completed order (quantities, prices, shipping, fees) and its total changed.

    The payment service keeps the new total and refuses to capture until the hold is updated to it (R12):
    a capture never silently uses a stale amount. Carries the edited cart so readers need not ask.
    """

    TYPE: ClassVar[str] = "order.amount_changed.v1"

    payment_number: PaymentNumber
    previous_amount: Yen = Field(description="The order total before the edit.")
    amount: Yen = Field(description="The new order total: lines + shipping + fees.")
    lines: list[Line]
    shipping: Shipping
    fees: list[Fee] = Field(default_factory=list)
    edited_by: str | None = Field(default=None, description="Who edited (operator name), if given.")
