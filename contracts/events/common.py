"""Value objects shared by several events: buyer, shipping, lines, fees, payment choice, subscription terms.

They are defined once so that what a storefront sends in `CheckoutRequested` is the same shape that
checkout forwards in order events and that the subscription service replays in `RenewalOrderRequested`.
"""

from __future__ import annotations

from pydantic import Field

from contracts.events.base import ValueModel
from contracts.types import Identifier, IntervalUnit, NonEmptyStr, PaymentMethod, PayType, SecretToken, Yen


class Buyer(ValueModel):
    """Who orders. `member_id` is the shop's member id, or null for a guest (guests never link cards, R10)."""

    name: NonEmptyStr = Field(description="Buyer name; sent to e-SCOTT as MerchantFree2 (R14).")
    name_kana: str = Field(description="Buyer name in katakana (may be empty).")
    email: NonEmptyStr = Field(description="Where the thanks mail goes.")
    member_id: Identifier | None = Field(default=None, description="Shop member id; null for guests.")


class Shipping(ValueModel):
    """Where and how the goods go. `fee` null means "to be advised": valid, but checkout rejects it (R2)."""

    carrier_id: Identifier
    fee: Yen | None = Field(description="Shipping fee in JPY, or null when not yet known.")
    recipient_name: NonEmptyStr
    postal_code: str = Field(description="Japanese postal code, e.g. 100-0001.")
    prefecture: str
    city: str
    address_line1: str
    address_line2: str = ""
    phone: str | None = None


class Line(ValueModel):
    """One cart line. Prices are tax-inclusive integer JPY."""

    sku: NonEmptyStr
    name: NonEmptyStr
    unit_price: Yen
    quantity: int = Field(ge=1)


class Fee(ValueModel):
    """An extra charge (e.g. 代引手数料, gift wrapping). `amount` null means "to be advised" (R2)."""

    name: NonEmptyStr
    amount: Yen | None


class PaymentChoice(ValueModel):
    """How the buyer wants to pay by card.

    `token` is the one-time card token (a secret, see `contracts.types.SecretToken`); null when paying with
    the registered card. `keep_card` is the buyer's "keep this card" box, meaningful only in `buyer_choice`
    link mode (R8). `pay_type` is the requested installment choice (R6 decides whether it is allowed).
    """

    method: PaymentMethod = "escott_card"
    token: SecretToken | None = None
    use_registered_card: bool = False
    keep_card: bool | None = None
    pay_type: PayType = "01"


class SubscriptionTerms(ValueModel):
    """The delivery cycle of a subscription: every `every` `unit`s (e.g. every 1 month)."""

    every: int = Field(ge=1)
    unit: IntervalUnit
