"""Cycles: one per delivery, numbered from 1 (the first order), each with exactly one order (R20, I4).

The scheduler records a cycle (`requested`) in the same transaction that advances the subscription and stages
`RenewalOrderRequested`; checkout's order events then name the cycle's order (`placed`) and its outcome:
`completed` (authorized or captured), `skipped` (completed without authorization, R21), `payment_failed` (R22)
or `needs_review` (outcome unknown, design §6.2). `needs_review` is provisional: an operator's resolution moves
it to a final outcome, which is settled once more. Final outcomes never change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from services.subscription.domain import subscription as s
from services.subscription.domain.errors import CycleOrderConflict
from services.subscription.domain.schedule import RenewalTiming


class CycleStatus(StrEnum):
    REQUESTED = "requested"
    PLACED = "placed"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    PAYMENT_FAILED = "payment_failed"
    NEEDS_REVIEW = "needs_review"


FINAL = frozenset({CycleStatus.COMPLETED, CycleStatus.SKIPPED, CycleStatus.PAYMENT_FAILED})
SETTLED = FINAL | {CycleStatus.NEEDS_REVIEW}


@dataclass(frozen=True, kw_only=True)
class Cycle:
    subscription_id: str
    cycle_no: int
    scheduled_for: date
    """The delivery date (JST)."""
    requested_at: datetime
    order_id: str | None = None
    status: CycleStatus = CycleStatus.REQUESTED
    reason_code: str | None = None
    settled_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class OrderReport:
    """What an order event says about a renewal order: its cycle, its id and, once known, its outcome."""

    subscription_id: str
    shop_id: str
    cycle_no: int
    order_id: str
    outcome: CycleStatus
    """`placed`, or one of `SETTLED`."""
    reason_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class CycleDecision:
    cycle: Cycle
    changed: bool
    settled: bool
    """A (new) outcome to announce with `RenewalCycleSettled`."""


@dataclass(frozen=True)
class Renewal:
    """A due cycle: the cycle to record and the subscription moved on past it."""

    subscription: s.Subscription
    cycle: Cycle


def first_cycle(sub: s.Subscription, *, at: datetime) -> Cycle:
    """Cycle 1: the first order, completed when the subscription starts."""
    return Cycle(subscription_id=sub.subscription_id, cycle_no=1, scheduled_for=sub.started_on, requested_at=at,
                 order_id=sub.first_order_id, status=CycleStatus.COMPLETED, settled_at=at)


def run_due(sub: s.Subscription, *, now: datetime, timing: RenewalTiming) -> Renewal | s.Changed | None:
    """What the scheduler does with `sub` at `now`: a renewal, the end of an ending subscription, or nothing
    (not due after all, e.g. the shop moved its generation hour since the row was scheduled)."""
    due = s.due_at(sub, timing)
    if due is None or due > now:
        return None
    if sub.ending:
        return s.end(sub)
    cycle = Cycle(subscription_id=sub.subscription_id, cycle_no=sub.cycle_count + 1,
                  scheduled_for=sub.next_cycle_on, requested_at=now)
    return Renewal(s.advance(sub), cycle)


def record_order(cycle: Cycle, report: OrderReport, *, at: datetime) -> CycleDecision:
    """Apply one order event to its cycle. A repeated or late report changes nothing; a second order for the
    cycle is refused (`CycleOrderConflict`), never recorded."""
    if cycle.order_id is not None and cycle.order_id != report.order_id:
        raise CycleOrderConflict(f"cycle {cycle.cycle_no} of {cycle.subscription_id} has order {cycle.order_id}, "
                                 f"not {report.order_id}")
    if cycle.status in FINAL or cycle.status == report.outcome:
        return _unchanged_or_named(cycle, report)
    if report.outcome is CycleStatus.PLACED:
        if cycle.status is CycleStatus.REQUESTED:
            placed = replace(cycle, order_id=report.order_id, status=CycleStatus.PLACED)
            return CycleDecision(cycle=placed, changed=True, settled=False)
        return _unchanged_or_named(cycle, report)
    settled = replace(cycle, order_id=report.order_id, status=report.outcome, reason_code=report.reason_code,
                      settled_at=at)
    return CycleDecision(cycle=settled, changed=True, settled=True)


def _unchanged_or_named(cycle: Cycle, report: OrderReport) -> CycleDecision:
    if cycle.order_id is None:
        return CycleDecision(cycle=replace(cycle, order_id=report.order_id), changed=True, settled=False)
    return CycleDecision(cycle=cycle, changed=False, settled=False)
