"""Subscription (定期購入) contracts from the subscription service (design §6.6, R19-R22).

`RenewalOrderRequested` travels on `subscriptions.commands` (checkout acts on it and always generates exactly one
order per cycle, R20/I4); the lifecycle events on `subscriptions.events` (monitoring, mails and payment's card
guard read them). All are keyed by subscription id. Every lifecycle event carries the subscription's `status`
and `next_cycle_on` after the change, so a consumer's projection needs only the latest event.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.events.base import Event
from contracts.events.common import Buyer, Fee, Line, Shipping, SubscriptionTerms
from contracts.topics import SUBSCRIPTIONS_COMMANDS, SUBSCRIPTIONS_EVENTS
from contracts.types import Identifier, NonEmptyStr

SubscriptionStatus = Literal["active", "paused", "canceled"]
"""`canceled` is final; a subscription canceled "after the current cycle" stays `active` until `ends_on`."""


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


class SubscriptionEvent(Event):
    """Fields every subscription lifecycle event has. Not an event type itself."""

    TOPIC: ClassVar[str] = SUBSCRIPTIONS_EVENTS
    KEY_FIELD: ClassVar[str] = "subscription_id"

    subscription_id: Identifier
    shop_id: Identifier


class SubscriptionStarted(SubscriptionEvent):
    """A subscription was created from its first completed order."""

    TYPE: ClassVar[str] = "subscription.started.v1"

    member_id: Identifier
    first_order_id: Identifier
    terms: SubscriptionTerms
    started_on: date = Field(description="JST date of the first order.")
    next_cycle_on: date = Field(description="JST date the next cycle is due.")
    buyer: Buyer | None = Field(default=None, description="The buyer of the first order (a member).")
    shipping: Shipping | None = None
    lines: list[Line] = Field(default_factory=list)
    fees: list[Fee] = Field(default_factory=list)
    status: SubscriptionStatus = "active"


class SubscriptionChanged(SubscriptionEvent):
    """An operator, the buyer or the schedule changed a subscription: paused, resumed, skipped a cycle, changed
    its cycle, next date or lines, or canceled it. `change` says which; the other fields are the state after it."""

    TYPE: ClassVar[str] = "subscription.changed.v1"

    member_id: Identifier
    change: Literal["paused", "resumed", "cycle_skipped", "schedule_changed", "lines_changed", "canceled", "ended"]
    status: SubscriptionStatus
    next_cycle_on: date | None = Field(description="JST date the next cycle is due; null when none will be.")
    terms: SubscriptionTerms
    ends_on: date | None = Field(default=None, description="Set when canceled after the current cycle.")
    changed_by: str | None = Field(default=None, description="operator, buyer or schedule (who asked).")
    reason: str | None = None


class RenewalCycleSettled(SubscriptionEvent):
    """What became of one cycle's renewal order: `completed` (authorized, captured or skipped per R21) or
    `payment_failed` (R22: the order exists, flagged; not re-authorized unless the shop opted in to retries)."""

    TYPE: ClassVar[str] = "subscription.renewal_cycle_settled.v1"

    member_id: Identifier
    cycle_no: int = Field(ge=1)
    order_id: Identifier
    outcome: Literal["completed", "skipped", "payment_failed", "needs_review"]
    reason_code: NonEmptyStr | None = None


class RenewalCardExpiring(SubscriptionEvent):
    """The member's stored card expires before the next renewal would charge it: warn the buyer (once per cycle) so
    they can replace it on their card page (R18) before the renewal fails (R22)."""

    TYPE: ClassVar[str] = "subscription.renewal_card_expiring.v1"

    member_id: Identifier
    cycle_no: int = Field(ge=1, description="The cycle that would charge the expired card.")
    next_cycle_on: date
    card_expiry: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
