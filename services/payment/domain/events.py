"""What the payment domain reports. `translate.py` maps these to the published contracts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, kw_only=True)
class PaymentAuthorized:
    order_id: str
    shop_id: str
    payment_number: str
    amount: int
    pay_type: str
    captured: bool
    card_source: str
    transaction_id: str
    approval_number: str | None
    resolution: str = "gateway"


@dataclass(frozen=True, kw_only=True)
class PaymentDeclined:
    """`codes` are the gateway's raw codes (empty when we refused before or without an answer; see `reason`).
    `retry_at`: a renewal the shop lets payment try again then (R22 opt-in); None: the decline is final."""

    order_id: str
    shop_id: str
    payment_number: str
    amount: int
    operation: str
    codes: tuple[str, ...]
    buyer_message: str
    reason: str | None = None
    resolution: str = "gateway"
    retry_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentAuthenticationRequired:
    """3-D Secure (design §6.7): the browser form for the gateway, sealed for checkout, and the payment's deadline."""

    order_id: str
    shop_id: str
    payment_number: str
    amount: int
    action_url: str
    sealed_form: str
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class PaymentOutcomeUnknown:
    order_id: str
    shop_id: str
    payment_number: str
    attempt_id: str
    operation: str
    amount: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class CardLinked:
    """A card is stored for the member: by an order (`checkout`, R7-R9) or on the member's page (`my_page`, R18).
    `masked_card` and `card_expiry` (YYYY-MM) when a 4MemRefM after the change could read them."""

    shop_id: str
    member_id: str
    order_id: str | None
    replaced: bool
    masked_card: str | None = None
    card_expiry: str | None = None
    source: str = "checkout"


@dataclass(frozen=True, kw_only=True)
class CardReplaced:
    """The member's stored card was replaced by another (4MemChg, no charge) on their page or by an operator: the
    next renewal uses it (R22). No card data but the new expiry month."""

    shop_id: str
    member_id: str
    order_id: str | None = None
    card_expiry: str | None = None
    source: str


@dataclass(frozen=True, kw_only=True)
class CardUnlinked:
    shop_id: str
    member_id: str
    order_id: str | None
    reason: str
    source: str = "checkout"


@dataclass(frozen=True, kw_only=True)
class PaymentCaptured:
    order_id: str
    shop_id: str
    payment_number: str
    amount: int
    transaction_id: str
    sales_date: date
    requested_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentCanceled:
    order_id: str
    shop_id: str
    payment_number: str
    amount: int
    transaction_id: str
    requested_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentAmountUpdated:
    """`previous_hold_released` False: the replaced hold is still live (two holds, flagged, design §6.5)."""

    order_id: str
    shop_id: str
    payment_number: str
    previous_amount: int
    amount: int
    transaction_id: str
    previous_transaction_id: str
    previous_hold_released: bool
    requested_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentHoldReleased:
    order_id: str
    shop_id: str
    payment_number: str
    amount: int
    transaction_id: str
    requested_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentOperationFailed:
    """`outcome`: refused (rules, `reason` = refusal code), declined (gateway `codes`), unknown (never resent)."""

    order_id: str
    shop_id: str
    payment_number: str
    operation: str
    outcome: str
    reason: str
    gateway_operation: str | None = None
    codes: tuple[str, ...] = ()
    requested_by: str | None = None


CARD_EVENTS = (CardLinked, CardReplaced, CardUnlinked)
"""Events about a member's stored card: keyed by the member, numbered by the member's own counter."""

DomainEvent = (PaymentAuthorized | PaymentDeclined | PaymentOutcomeUnknown | CardLinked | CardReplaced | CardUnlinked
               | PaymentCaptured | PaymentCanceled | PaymentAmountUpdated | PaymentHoldReleased
               | PaymentOperationFailed | PaymentAuthenticationRequired)
