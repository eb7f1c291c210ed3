"""The renewal scheduler worker on fakes: it sleeps until the earliest due time or a wake-up, generates what became
due, survives a failed pass, and a batch that fails before its commit leaves nothing behind (it runs again)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from contracts.events import RenewalOrderRequested
from services.subscription.entrypoints.scheduler import RenewalScheduler, SchedulerWakeup
from services.subscription.handlers.renewals import generate_due_renewals
from services.subscription.handlers.starting import start_subscription
from services.subscription.settings import SchedulerSettings
from services.subscription.translate import first_order
from tests.fakes.subscription import FakeCycles, SubscriptionFakes
from tests.unit.subscription import events
from tests.waiting import eventually

SLEEPY = SchedulerSettings(poll_interval_s=60.0, min_pause_s=0.01)


async def started(fakes: SubscriptionFakes) -> None:
    first = first_order(events.first_order())
    assert first is not None
    await start_subscription(fakes.deps, first)


def requested(fakes: SubscriptionFakes) -> int:
    return len(fakes.state.emitted(RenewalOrderRequested))


async def test_the_scheduler_sleeps_until_woken_and_then_generates_what_became_due():
    fakes = SubscriptionFakes()
    await started(fakes)
    wakeup = SchedulerWakeup()
    scheduler = RenewalScheduler(replace(fakes.deps, scheduler=wakeup), SLEEPY, wakeup)
    scheduler.start()
    try:
        await eventually(lambda: _at_least(fakes.uow.commits, 3), timeout=5, message="a first pass")
        assert requested(fakes) == 0 and scheduler.healthy
        fakes.clock.advance(timedelta(days=31))
        wakeup.wake()
        await eventually(lambda: _value(requested(fakes)), timeout=5, message="the due cycle requested")
    finally:
        await scheduler.stop()
    assert not scheduler.healthy


async def test_a_failed_pass_is_retried_and_the_scheduler_stays_healthy(monkeypatch):
    fakes = SubscriptionFakes()
    await started(fakes)
    fakes.clock.advance(timedelta(days=31))
    failing = _failing_once(monkeypatch, FakeCycles, "add")
    wakeup = SchedulerWakeup()
    scheduler = RenewalScheduler(replace(fakes.deps, scheduler=wakeup), SLEEPY, wakeup)
    scheduler.start()
    try:
        await eventually(lambda: _value(requested(fakes)), timeout=5, message="requested after the retry")
        assert scheduler.healthy and failing["calls"] >= 2
    finally:
        await scheduler.stop()


async def test_a_batch_that_fails_before_its_commit_leaves_nothing_and_runs_again_once(monkeypatch):
    fakes = SubscriptionFakes()
    await started(fakes)
    fakes.clock.advance(timedelta(days=31))
    due_before = dict(fakes.state.due)
    _failing_once(monkeypatch, FakeCycles, "add")
    with pytest.raises(RuntimeError):
        await generate_due_renewals(fakes.deps, limit=10)
    assert (requested(fakes), len(fakes.state.cycles), fakes.state.due) == (0, 1, due_before)
    assert await generate_due_renewals(fakes.deps, limit=10) == 1
    assert await generate_due_renewals(fakes.deps, limit=10) == 0
    assert requested(fakes) == 1 and len(fakes.state.cycles) == 2


def _failing_once(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> dict[str, int]:
    original = getattr(cls, name)
    seen = {"calls": 0}

    async def fail_first(self, *args, **kwargs):
        seen["calls"] += 1
        if seen["calls"] == 1:
            raise RuntimeError("the process died here")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, fail_first)
    return seen


async def _at_least(value: int, minimum: int) -> bool:
    return value >= minimum


async def _value(value: int) -> int:
    return value
