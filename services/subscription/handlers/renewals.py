"""Renewal cycles (R20, design §6.6, I4): the scheduler's batches, and what became of each renewal order.

`generate_due_renewals` is one transaction per batch: lock the due subscriptions (`FOR UPDATE SKIP LOCKED`, so
replicas never take the same one), record each cycle under its unique (subscription_id, cycle_no), move the
subscription on, and stage `RenewalOrderRequested` in the outbox; when the member's card will have expired by the
following cycle, that cycle's `RenewalCardExpiring` too (once per cycle, `handlers/cards.py`). All of it commits
together or not at all: a crash before the commit generates the cycle again later, a crash after it loses nothing
(the relay publishes the staged request), and nothing is ever generated twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.subscription import translate
from services.subscription.domain.cards import warning_for_next
from services.subscription.domain.cycles import CycleDecision, OrderReport, Renewal, record_order, run_due
from services.subscription.domain.errors import UnknownCycle
from services.subscription.domain.schedule import RenewalTiming
from services.subscription.domain.subscription import Changed, Subscription, due_at
from services.subscription.handlers.cards import stage_warnings
from services.subscription.handlers.common import Actor, cycle_correlation
from services.subscription.handlers.deps import Deps
from services.subscription.ports import Scheduled, UnitOfWork

log = get_logger(__name__)


@dataclass(kw_only=True)
class _Batch:
    """What one batch decided: renewals to record and request, subscriptions ended, everything to save."""

    renewals: list[Renewal] = field(default_factory=list)
    ended: list[Changed] = field(default_factory=list)
    saved: list[Scheduled] = field(default_factory=list)


async def generate_due_renewals(deps: Deps, *, limit: int) -> int:
    """One batch of due subscriptions (one query finds them); returns how many were due (`limit`: maybe more)."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        due = await uow.subscriptions.claim_due(now=now, limit=limit)
        if not due:
            return 0
        batch = _decide(due, now=now, timings=await uow.shops.of_shops({sub.shop_id for sub in due}))
        recorded = await uow.cycles.add([renewal.cycle for renewal in batch.renewals])
        await uow.subscriptions.save(batch.saved)
        await _emit(uow, batch, recorded)
        warned = await _warn_expiring_cards(uow, [r for r in batch.renewals if _key(r) in recorded], now=now)
    log.info("renewals.generated", due=len(due), requested=len(recorded), ended=len(batch.ended), warned=warned)
    return len(due)


def _decide(due: Sequence[Subscription], *, now: datetime, timings: dict[str, RenewalTiming]) -> _Batch:
    batch = _Batch()
    for sub in due:
        timing = timings.get(sub.shop_id, RenewalTiming())
        step = run_due(sub, now=now, timing=timing)
        after = sub if step is None else step.subscription
        if isinstance(step, Renewal):
            batch.renewals.append(step)
        elif isinstance(step, Changed):
            batch.ended.append(step)
        batch.saved.append(Scheduled(after, due_at(after, timing)))
    return batch


async def _emit(uow: UnitOfWork, batch: _Batch, recorded: set[tuple[str, int]]) -> None:
    for renewal in batch.renewals:
        sub, cycle = renewal.subscription, renewal.cycle
        if (cycle.subscription_id, cycle.cycle_no) not in recorded:  # cannot happen while the row lock holds
            log.error("renewals.cycle_exists", subscription_id=sub.subscription_id, cycle_no=cycle.cycle_no)
            continue
        await uow.emit(translate.renewal_order_requested(sub, cycle), subject_version=sub.version,
                       correlation_id=cycle_correlation(sub.subscription_id, cycle.cycle_no))
    for ended in batch.ended:
        assert ended.change is not None
        sub = ended.subscription
        await uow.emit(translate.subscription_changed(sub, ended.change, changed_by=Actor.SCHEDULE.value),
                       correlation_id=sub.subscription_id, subject_version=sub.version)


async def _warn_expiring_cards(uow: UnitOfWork, renewals: Sequence[Renewal], *, now: datetime) -> int:
    """The following cycle of each renewal, if the member's card will have expired by its date: one query for the
    batch's members, then the warnings not given yet (a card event may have given one already)."""
    if not renewals:
        return 0
    cards = await uow.member_cards.of_members({_member(r.subscription) for r in renewals})
    warnings = [w for r in renewals
                if (w := warning_for_next(r.subscription, cards.get(_member(r.subscription)), at=now)) is not None]
    versions = {r.subscription.subscription_id: r.subscription.version for r in renewals}
    return len(await stage_warnings(uow, warnings, versions=versions))


def _key(renewal: Renewal) -> tuple[str, int]:
    return renewal.cycle.subscription_id, renewal.cycle.cycle_no


def _member(sub: Subscription) -> tuple[str, str]:
    return sub.shop_id, sub.member_id


async def next_due_at(deps: Deps) -> datetime | None:
    """When the scheduler has work next (it sleeps until then, or until woken)."""
    async with deps.uow() as uow:
        return await uow.subscriptions.earliest_due()


async def record_renewal_order(deps: Deps, report: OrderReport, *,
                               inbound: Inbound | None = None) -> CycleDecision | None:
    """Record a renewal order's id and outcome on its cycle; a new outcome is announced once with
    `RenewalCycleSettled`. Raises `UnknownCycle` for a cycle never requested (or of another shop), and
    `CycleOrderConflict` for a second order of one cycle. None: a redelivered event."""
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return None
        sub = await uow.subscriptions.get(report.subscription_id)
        cycle = await uow.cycles.get(report.subscription_id, report.cycle_no, for_update=True)
        if sub is None or cycle is None or sub.shop_id != report.shop_id:
            raise UnknownCycle(f"no cycle {report.cycle_no} of subscription {report.subscription_id} "
                               f"in shop {report.shop_id}")
        decision = record_order(cycle, report, at=deps.clock.now())
        if decision.changed:
            await uow.cycles.save(decision.cycle)
        if decision.settled:
            await uow.emit(translate.renewal_cycle_settled(sub, decision.cycle), causation=inbound,
                           correlation_id=cycle_correlation(sub.subscription_id, cycle.cycle_no),
                           subject_version=sub.version)
    if decision.settled:
        log.info("renewal.settled", subscription_id=sub.subscription_id, cycle_no=cycle.cycle_no,
                 order_id=report.order_id, outcome=decision.cycle.status.value)
    return decision
