"""The subscription aggregate and every change a shop operator or the buyer can make to it.

A subscription starts from its first completed order (cycle 1) and is `active`, `paused` or `canceled`
(final). `next_cycle_on` is where the schedule stands (kept while paused, so resuming knows the rhythm);
`next_due_on` is what the outside sees: the next delivery, or None when none will come. Cancelling "after the
current cycle" keeps it `active` with `ends_on` (the latest generated delivery, or today) and no next cycle;
the scheduler ends it after that day. Each function returns a `Changed`: the new state and which change it was,
or `change=None` when the request changes nothing (pausing a paused subscription).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.subscription.domain import schedule
from services.subscription.domain.contents import Contents, Line, check_lines
from services.subscription.domain.errors import (
    InvalidFirstOrder,
    SubscriptionCanceled,
    SubscriptionEnding,
    SubscriptionPaused,
)
from services.subscription.domain.schedule import RenewalTiming, Terms

_IDS = uuid.UUID("6f1c1a52-5b38-4a8e-9a0e-2f1d2f7f3c11")
"""Namespace of subscription ids derived from their first order (one order, one subscription, on any replica)."""


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELED = "canceled"


class Change(StrEnum):
    """The `change` of a `SubscriptionChanged` event."""

    PAUSED = "paused"
    RESUMED = "resumed"
    CYCLE_SKIPPED = "cycle_skipped"
    SCHEDULE_CHANGED = "schedule_changed"
    LINES_CHANGED = "lines_changed"
    CANCELED = "canceled"
    ENDED = "ended"


class CancelWhen(StrEnum):
    AT_ONCE = "at_once"
    AFTER_CURRENT_CYCLE = "after_current_cycle"


@dataclass(frozen=True, kw_only=True)
class Subscription:
    subscription_id: str
    shop_id: str
    member_id: str
    first_order_id: str
    contents: Contents
    terms: Terms
    anchor_day: int
    status: Status
    started_on: date
    next_cycle_on: date
    last_cycle_on: date
    """Delivery date of the latest generated cycle (the first order's date for cycle 1)."""
    cycle_count: int
    """Cycles generated so far, the first order included: the latest cycle number."""
    ends_on: date | None = None
    version: int = 0
    """Bumped by every change; the `subject_version` of the events it causes."""

    @property
    def ending(self) -> bool:
        return self.status is Status.ACTIVE and self.ends_on is not None

    @property
    def next_due_on(self) -> date | None:
        """The next delivery the scheduler will generate an order for; None when paused, canceled or ending."""
        return self.next_cycle_on if self.status is Status.ACTIVE and self.ends_on is None else None


@dataclass(frozen=True, kw_only=True)
class FirstOrder:
    """A completed order of the `subscription` cart: what a subscription starts from (R19)."""

    shop_id: str
    order_id: str
    order_date: date
    member_id: str | None
    contents: Contents
    terms: Terms
    subscription_id: str | None = None
    """Given by the order (checkout may name it); otherwise derived from the shop and order ids."""


@dataclass(frozen=True)
class Changed:
    subscription: Subscription
    change: Change | None


def subscription_id_for(shop_id: str, order_id: str) -> str:
    """The same id for the same first order on every replica and every redelivery."""
    return f"sub-{uuid.uuid5(_IDS, f'{shop_id}/{order_id}')}"


def start(first: FirstOrder) -> Subscription:
    """Cycle 1 is the first order; the next cycle is one period after its date (R19, R20)."""
    if not first.member_id:
        raise InvalidFirstOrder(f"order {first.order_id}: a subscription needs a member buyer (R19), not a guest")
    anchor = first.order_date.day
    return Subscription(
        subscription_id=first.subscription_id or subscription_id_for(first.shop_id, first.order_id),
        shop_id=first.shop_id, member_id=first.member_id, first_order_id=first.order_id, contents=first.contents,
        terms=first.terms, anchor_day=anchor, status=Status.ACTIVE, started_on=first.order_date,
        next_cycle_on=schedule.following(first.order_date, first.terms, anchor_day=anchor),
        last_cycle_on=first.order_date, cycle_count=1,
    )  # fmt: skip


def pause(sub: Subscription) -> Changed:
    """No order is generated while paused; an order already generated stays."""
    _changeable(sub)
    if sub.status is Status.PAUSED:
        return Changed(sub, None)
    return _changed(sub, Change.PAUSED, status=Status.PAUSED)


def resume(sub: Subscription, *, today: date) -> Changed:
    """The next delivery becomes the first cycle date on or after today (and after the latest generated one)."""
    _changeable(sub)
    if sub.status is Status.ACTIVE:
        return Changed(sub, None)
    earliest = max(today, sub.last_cycle_on + timedelta(days=1))
    next_on = schedule.first_on_or_after(sub.next_cycle_on, sub.terms, anchor_day=sub.anchor_day, earliest=earliest)
    return _changed(sub, Change.RESUMED, status=Status.ACTIVE, next_cycle_on=next_on)


def skip_next(sub: Subscription) -> Changed:
    """The next delivery is left out; the one after it becomes next."""
    _changeable(sub)
    if sub.status is Status.PAUSED:
        raise SubscriptionPaused("a paused subscription has no next cycle to skip: resume it first", sub)
    return _changed(sub, Change.CYCLE_SKIPPED, next_cycle_on=_after(sub, sub.next_cycle_on))


def change_schedule(sub: Subscription, *, terms: Terms | None = None, next_on: date | None = None,
                    today: date) -> Changed:
    """A new cycle, a new next date, or both; the cycle applies from the next delivery on."""
    _changeable(sub)
    new_terms = terms or sub.terms
    if next_on is not None:
        schedule.check_next_date(next_on, today=today, after=sub.last_cycle_on)
    new_next = next_on or sub.next_cycle_on
    anchor = schedule.anchor_for(new_terms, new_next, current=sub.anchor_day)
    if (new_terms, new_next, anchor) == (sub.terms, sub.next_cycle_on, sub.anchor_day):
        return Changed(sub, None)
    return _changed(sub, Change.SCHEDULE_CHANGED, terms=new_terms, next_cycle_on=new_next, anchor_day=anchor)


def change_lines(sub: Subscription, lines: Sequence[Line]) -> Changed:
    """New lines or quantities, delivered from the next generated cycle on."""
    _changeable(sub)
    check_lines(lines)
    if tuple(lines) == sub.contents.lines:
        return Changed(sub, None)
    return _changed(sub, Change.LINES_CHANGED, contents=sub.contents.with_lines(lines))


def cancel(sub: Subscription, *, when: CancelWhen, today: date) -> Changed:
    """At once: canceled now. After the current cycle: the latest generated delivery still comes, no more."""
    if sub.status is Status.CANCELED:
        raise SubscriptionCanceled(f"subscription {sub.subscription_id} is already canceled", sub)
    if when is CancelWhen.AT_ONCE:
        return _changed(sub, Change.CANCELED, status=Status.CANCELED)
    if sub.ending:
        return Changed(sub, None)
    return _changed(sub, Change.CANCELED, status=Status.ACTIVE, ends_on=max(sub.last_cycle_on, today))


def end(sub: Subscription) -> Changed:
    """The scheduler ends a subscription whose `ends_on` has passed."""
    return _changed(sub, Change.ENDED, status=Status.CANCELED)


def advance(sub: Subscription) -> Subscription:
    """The next cycle was generated: it becomes the latest, and the schedule moves one period on."""
    return replace(sub, cycle_count=sub.cycle_count + 1, last_cycle_on=sub.next_cycle_on,
                   next_cycle_on=_after(sub, sub.next_cycle_on), version=sub.version + 1)


def due_at(sub: Subscription, timing: RenewalTiming) -> datetime | None:
    """When the scheduler next acts on `sub`: generate its next order, or end it; None: never by itself."""
    if sub.status is not Status.ACTIVE:
        return None
    if sub.ends_on is not None:
        return schedule.end_of_day(sub.ends_on)
    return schedule.generation_time(sub.next_cycle_on, timing)


def _after(sub: Subscription, on: date) -> date:
    return schedule.following(on, sub.terms, anchor_day=sub.anchor_day)


def _changeable(sub: Subscription) -> None:
    if sub.status is Status.CANCELED:
        raise SubscriptionCanceled(f"subscription {sub.subscription_id} is canceled", sub)
    if sub.ending:
        raise SubscriptionEnding(f"subscription {sub.subscription_id} ends on {sub.ends_on}", sub)


def _changed(sub: Subscription, change: Change, **fields: object) -> Changed:
    return Changed(replace(sub, version=sub.version + 1, **fields), change)  # type: ignore[arg-type]
