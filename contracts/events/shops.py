"""A shop's card-method settings, produced by checkout on the compacted `shops.settings` topic.

The topic keeps only the latest message per shop id, so every `ShopSettingsChanged` is a complete snapshot,
never a delta: a consumer starting from the beginning rebuilds every shop from one message each. Gateway
credentials (merchant id, password, token auth code, tenant code) are never here: checkout sends them to the
payment service's write-only endpoint (issue 4, design §8).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from contracts.events.base import Event, ValueModel
from contracts.topics import SHOPS_SETTINGS
from contracts.types import CardLinkMode, Identifier, NonEmptyStr, SalesMode, Yen


class Carrier(ValueModel):
    """A delivery carrier of the shop and whether it accepts the card method (R1)."""

    carrier_id: Identifier
    name: NonEmptyStr
    accepts_card: bool


class MailSettings(ValueModel):
    """Who sends the thanks mail and who receives the shop's copy (受注通知, R23)."""

    sender_address: NonEmptyStr
    sender_name: str = ""
    shop_copy_address: NonEmptyStr


class CardNote(ValueModel):
    """The shop's note about the card method and where it is shown (the confirmation page always shows it)."""

    text: str = ""
    on_payment_page: bool = False
    in_thanks_mail: bool = False


class RenewalRetry(ValueModel):
    """Opt-in (default off): retry a renewal authorization declined with a soft ("try later") code; hard declines
    (lost, stolen, expired, invalid card) and unknown outcomes are never retried (R22)."""

    max_tries: int = Field(default=2, ge=1, le=5, description="Retries after the first decline.")
    within_days: int = Field(default=7, ge=1, le=14, description="No retry later than this after the first try.")


class RenewalSettings(ValueModel):
    """How renewal orders are generated (受注生成) and what a failure tells whom."""

    lead_days: int = Field(default=0, ge=0, le=60, description="Generate the order this many days before delivery.")
    hour_jst: int = Field(default=0, ge=0, le=23, description="Hour of day (JST) orders are generated.")
    notify_buyer_on_failure: bool = Field(
        default=True, description="Send the buyer a 'please update your card' mail when a renewal fails or is skipped."
    )
    retry: RenewalRetry | None = Field(default=None, description="Null: never retried (R22's default).")


class CardThreeDSecure(ValueModel):
    """EMV 3-D Secure on the card method (design §6.7): asked of a new card at checkout and when the member
    registers or replaces a card on their card page; never of renewal charges."""

    enabled: bool = False
    accepted_results: list[str] = Field(default_factory=lambda: ["0", "2", "3"],
                                        description="SecureResultCodes the shop accepts (always 0; never 1, 8, 9).")


class CardMethodSettings(ValueModel):
    """The card method as the shop configured it. `configured` is the manual's 設定済み (R1)."""

    configured: bool
    display_name: NonEmptyStr = Field(description="Shown on the payment page and in the thanks mail.")
    min_amount: Yen | None = Field(default=None, description="R3: not offered below this amount.")
    max_amount: Yen | None = Field(default=None, description="R3: not offered above this amount.")
    note: CardNote = Field(default_factory=CardNote)
    logo_url: str | None = None
    logo_alt: str | None = None
    sales_mode: SalesMode
    show_installments: bool = False
    card_link_mode: CardLinkMode = "always"
    subscriptions_enabled: bool = False
    renewal_sales_mode: SalesMode = "auth"
    authorize_at_renewal: bool = True
    contract_start: date | None = Field(default=None, description="Gateway contract period start (JST).")
    contract_end: date | None = Field(default=None, description="Gateway contract period end (JST).")
    renewal: RenewalSettings = Field(default_factory=RenewalSettings)
    notify_card_changes: bool = Field(
        default=True, description="Send the buyer a short notice when their stored card is replaced or removed on "
        "their card page or by an operator, and before a renewal would charge an expired card (R18).",
    )
    three_d_secure: CardThreeDSecure | None = Field(
        default=None, description="Null from a producer that predates it: 3-D Secure off.")


class ShopSettingsChanged(Event):
    """The full, current settings of one shop. `card` null means the card method is not added."""

    TYPE: ClassVar[str] = "shop.settings_changed.v1"
    TOPIC: ClassVar[str] = SHOPS_SETTINGS
    KEY_FIELD: ClassVar[str] = "shop_id"

    shop_id: Identifier
    shop_name: NonEmptyStr
    mail: MailSettings
    carriers: list[Carrier] = Field(default_factory=list)
    card: CardMethodSettings | None = None
