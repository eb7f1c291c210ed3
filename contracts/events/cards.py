"""Member card links (カード紐づけ, R7-R10, R18), produced by payment on `payments.events`.

The card itself lives at the gateway (`KaiinId`); these events say only that a member of a shop has (or no
longer has) a stored card, plus its masked number. The Kafka key is `<shop_id>:<member_id>`, not the order
id, so links and unlinks of one member stay in order even when made by different orders or by the member's
card management page.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.events.base import Event
from contracts.topics import PAYMENTS_EVENTS
from contracts.types import Identifier, NonEmptyStr


class CardLinkEvent(Event):
    """Fields every card link event has. Not an event type itself."""

    TOPIC: ClassVar[str] = PAYMENTS_EVENTS
    KEY_FIELD: ClassVar[str] = "member_id"

    shop_id: Identifier
    member_id: Identifier
    order_id: Identifier | None = Field(default=None, description="The order that caused it, if any.")

    def kafka_key(self) -> str:
        """Member ids are unique per shop only, so the key is `<shop_id>:<member_id>`."""
        return f"{self.shop_id}:{self.member_id}"


CardSource = Literal["checkout", "my_page", "operator"]
"""Who made the change: an order's checkout (R7-R9), the member's card page (R18) or an operator."""


class CardLinked(CardLinkEvent):
    """A member's card is now stored at the gateway (4MemAdd), or replaced by another card (4MemChg).

    Since `card.replaced.v1` a replacement made on the member's card page or by an operator is announced as
    `CardReplaced`; an order that links "another card" (R7) still announces `CardLinked` with `replaced` true."""

    TYPE: ClassVar[str] = "card.linked.v1"

    replaced: bool = Field(description="True when an existing link now points to another card.")
    masked_card: str | None = Field(
        default=None, description="Masked number as the gateway shows it (first 4 + last 4 digits)."
    )
    card_expiry: str | None = Field(
        default=None, pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="Expiry month of the stored card, YYYY-MM."
    )
    source: CardSource = "checkout"


class CardReplaced(CardLinkEvent):
    """The member replaced the stored card by another (4MemChg; no authorization, no charge). The next renewal
    uses the new card; orders already generated keep theirs (R22). No card data: only the new expiry month."""

    TYPE: ClassVar[str] = "card.replaced.v1"

    card_expiry: str | None = Field(
        default=None, pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="Expiry month of the new card, YYYY-MM."
    )
    source: CardSource


class CardUnlinked(CardLinkEvent):
    """A member's stored card was removed (4MemInval + 4MemDel)."""

    TYPE: ClassVar[str] = "card.unlinked.v1"

    reason: NonEmptyStr = Field(description="keep_card_unchecked, link_mode_never, member_request, ...")
    source: CardSource = "checkout"
