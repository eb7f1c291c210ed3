"""Value objects of a checkout as the domain sees it: the cart, the buyer and the buyer's card choice.

They mirror the public `CheckoutRequested` contract minus the card token: the domain only needs to know
whether a token was sent, never its value, so the token cannot leak into orders or the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

JST = timezone(timedelta(hours=9), "JST")


def jst_date(moment: datetime) -> date:
    """The Japanese calendar date of an aware timestamp (business dates are JST, design §4)."""
    return moment.astimezone(JST).date()


class CartType(StrEnum):
    THREE_STEP = "three_step"
    ZERO_STEP = "zero_step"
    SUBSCRIPTION = "subscription"


class SalesMode(StrEnum):
    """R11: `auth` reserves the amount (captured later by hand); `auth_capture` records the sale at once."""

    AUTH = "auth"
    AUTH_CAPTURE = "auth_capture"


class CardLinkMode(StrEnum):
    """R7-R9: when a member's card is stored at the gateway."""

    ALWAYS = "always"
    BUYER_CHOICE = "buyer_choice"
    NEVER = "never"


@dataclass(frozen=True, kw_only=True)
class Buyer:
    name: str
    name_kana: str
    email: str
    member_id: str | None = None

    @property
    def is_member(self) -> bool:
        return self.member_id is not None


@dataclass(frozen=True, kw_only=True)
class Shipping:
    """Where the goods go; `fee` None means "to be advised" (R2)."""

    carrier_id: str
    fee: int | None
    recipient_name: str
    postal_code: str
    prefecture: str
    city: str
    address_line1: str
    address_line2: str = ""
    phone: str | None = None


@dataclass(frozen=True, kw_only=True)
class Line:
    sku: str
    name: str
    unit_price: int
    quantity: int

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Fee:
    """An extra charge; `amount` None means "to be advised" (R2)."""

    name: str
    amount: int | None


@dataclass(frozen=True, kw_only=True)
class PaymentChoice:
    """The buyer's card choice. `has_token` replaces the token itself (see the module docstring)."""

    has_token: bool
    use_registered_card: bool = False
    keep_card: bool | None = None
    pay_type: str = "01"


@dataclass(frozen=True)
class SubscriptionTerms:
    every: int
    unit: str


@dataclass(frozen=True, kw_only=True)
class CheckoutRequest:
    """One storefront checkout, identified by the storefront's own idempotency key `checkout_id`. A renewal
    order's contents take the same shape, with the renewal cycle's key as `checkout_id` (`RenewalCycle.key`)."""

    checkout_id: str
    shop_id: str
    cart_type: CartType
    buyer: Buyer
    shipping: Shipping
    lines: tuple[Line, ...]
    fees: tuple[Fee, ...]
    payment: PaymentChoice
    subscription: SubscriptionTerms | None = None
    return_url: str | None = None  # 3-D Secure: the storefront page the buyer's browser comes back to

    @property
    def amount_is_final(self) -> bool:
        """R2: every part of the billable amount is known."""
        return self.shipping.fee is not None and all(f.amount is not None for f in self.fees)

    @property
    def total(self) -> int | None:
        """Lines + shipping + fees, or None while any part is "to be advised"."""
        return self.known_total if self.amount_is_final else None

    @property
    def known_total(self) -> int:
        """Lines + shipping + fees as far as known ("to be advised" parts count as 0)."""
        return (sum(line.subtotal for line in self.lines) + (self.shipping.fee or 0)
                + sum(f.amount or 0 for f in self.fees))
