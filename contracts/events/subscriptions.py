"""Subscription (定期購入) contracts from the subscription service (design §6.6, R19-R22).

`RenewalOrderRequested` travels on `subscriptions.commands` (checkout acts on it and always generates the
order, R20); `SubscriptionStarted` on `subscriptions.events`. Both are keyed by subscription id.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from contracts.events.base import Event
from contracts.events.common import Buyer, Fee, Line, Shipping, SubscriptionTerms
from contracts.topics import SUBSCRIPTIONS_COMMANDS, SUBSCRIPTIONS_EVENTS
from contracts.types import Identifier


class RenewalOrderRequested(Event):
    """A cycle is due: checkout must generate exactly one order for (`subscription_id`, `cycle_no`) (I4).

    The buyer is always a member (the first order linked the card, R19); the renewal pays lump sum with the
    stored card. Contents are those of the subscription, replayed from its first order.
    """

    TYPE: ClassVar[str] = "subscription.renewal_order_requested.v1"
    TOPIC: ClassVar[str] = SUBSCRIPTIONS_COMMANDS
    KEY_FIELD: ClassVar[str] = "subscription_id"

    subscription_id: Identifier
    cycle_no: int = Field(ge=1)
    shop_id: Identifier
    scheduled_for: date = Field(description="The cycle's delivery date (JST).")
    first_order_id: Identifier
    buyer: Buyer
    shipping: Shipping
    lines: list[Line]
    fees: list[Fee] = Field(default_factory=list)
    terms: SubscriptionTerms


class SubscriptionStarted(Event):
    """A subscription was created from its first completed order."""

    TYPE: ClassVar[str] = "subscription.started.v1"
    TOPIC: ClassVar[str] = SUBSCRIPTIONS_EVENTS
    KEY_FIELD: ClassVar[str] = "subscription_id"

    subscription_id: Identifier
    shop_id: Identifier
    member_id: Identifier
    first_order_id: Identifier
    terms: SubscriptionTerms
    started_on: date = Field(description="JST date of the first order.")
    next_cycle_on: date = Field(description="JST date the next cycle is due.")
