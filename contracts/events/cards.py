"""Member card links (カード紐づけ, R7-R10, R18), produced by payment on `payments.events`.

The card itself lives at the gateway (`KaiinId`); these events say only that a member of a shop has (or no
longer has) a stored card, plus its masked number. The Kafka key is `<shop_id>:<member_id>`, not the order
id, so links and unlinks of one member stay in order even when made by different orders or by the member's
card management page.
"""

from __future__ import annotations

from typing import ClassVar

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


class CardLinked(CardLinkEvent):
    """A member's card is now stored at the gateway (4MemAdd), or replaced by another card (4MemChg)."""

    TYPE: ClassVar[str] = "card.linked.v1"

    replaced: bool = Field(description="True when an existing link now points to another card.")
    masked_card: str | None = Field(
        default=None, description="Masked number as the gateway shows it (first 4 + last 4 digits)."
    )


class CardUnlinked(CardLinkEvent):
    """A member's stored card was removed (4MemInval + 4MemDel)."""

    TYPE: ClassVar[str] = "card.unlinked.v1"

    reason: NonEmptyStr = Field(description="keep_card_unchecked, link_mode_never, member_request, ...")
