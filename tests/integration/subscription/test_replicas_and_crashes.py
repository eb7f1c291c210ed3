"""I4 under concurrency and crashes: two scheduler replicas at once still request each cycle exactly once, and a
process that dies after the scheduler committed but before its outbox relay published loses nothing and
duplicates nothing (the next process publishes what was staged and generates nothing twice)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import pytest

from contracts.events import RenewalOrderRequested
from contracts.topics import SUBSCRIPTIONS_COMMANDS
from delivery.db import create_pool
from delivery.units import UnitOfWorkFactory
from services.subscription.adapters.dev_clock import DevClock
from services.subscription.adapters.postgres.uow import SubscriptionUnitOfWork
from services.subscription.entrypoints.scheduler import RenewalScheduler, SchedulerWakeup
from services.subscription.handlers import Deps
from services.subscription.settings import SchedulerSettings
from tests.integration.subscription.support import (
    START,
    advance,
    count,
    cycles_recorded,
    publish,
    renewal_requests,
    running,
    start,
    subscriptions_started,
)
from tests.kafka_reading import read_topic
from tests.unit.subscription import events
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def cycle_keys(requests: list) -> list[tuple[str, int]]:
    assert all(isinstance(r, RenewalOrderRequested) for r in requests)
    return [(r.subscription_id, r.cycle_no) for r in requests]


async def test_two_scheduler_replicas_at_once_request_each_cycle_exactly_once(database_url, isolated_kafka):
    subscriptions, months = 30, 3
    replicas = [start(database_url, isolated_kafka, batch_size=3) for _ in range(2)]
    async with running(replicas[0]) as first, running(replicas[1]) as second:
        await publish(isolated_kafka, [events.first_order(f"ord-{n}") for n in range(subscriptions)])
        await subscriptions_started(database_url, subscriptions)
        for month in range(1, months + 1):
            await asyncio.gather(advance(first, days=31), advance(second, days=31))  # both wake and race
            await cycles_recorded(database_url, subscriptions * (1 + month))
        requests = await renewal_requests(isolated_kafka, at_least=subscriptions * months, settle=2.0)
    keys = cycle_keys(requests)
    assert len(keys) == subscriptions * months and len(set(keys)) == subscriptions * months
    assert await count(database_url, "SELECT count(*) FROM cycles") == subscriptions * (1 + months)


@dataclass(frozen=True)
class _Runtime:
    pool: asyncpg.Pool


async def scheduler_without_relay(database_url: str, *, days: int) -> int:
    """A scheduler pass in a process that has no outbox relay (it dies right after committing)."""
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        clock = DevClock(start=START + timedelta(days=days))
        wakeup = SchedulerWakeup()
        deps = Deps(uow=UnitOfWorkFactory(_Runtime(pool), SubscriptionUnitOfWork), clock=clock, scheduler=wakeup)
        return await RenewalScheduler(deps, SchedulerSettings(batch_size=2), wakeup).run_once()
    finally:
        await pool.close()


async def test_a_crash_between_recording_and_publishing_loses_nothing_and_duplicates_nothing(
        database_url, isolated_kafka):
    orders = [events.first_order(f"ord-{n}") for n in range(5)]
    async with running(start(database_url, isolated_kafka)):
        await publish(isolated_kafka, orders)
        await subscriptions_started(database_url, 5)
    assert await scheduler_without_relay(database_url, days=31) == 5
    assert await count(database_url, "SELECT count(*) FROM outbox WHERE topic LIKE '%subscriptions.commands'") == 5
    assert await read_topic(isolated_kafka, isolated_kafka.topic(SUBSCRIPTIONS_COMMANDS), at_least=0) == []

    async with running(start(database_url, isolated_kafka, at=START + timedelta(days=31))) as client:
        await eventually(lambda: _outbox_empty(database_url), message="staged requests published")
        published = await renewal_requests(isolated_kafka, at_least=5, settle=1.5)
        await advance(client, days=31)  # and the schedule goes on from there
        await cycles_recorded(database_url, 15)
        after = await renewal_requests(isolated_kafka, at_least=10, settle=1.5)
    assert len(cycle_keys(published)) == 5 and {c for _, c in cycle_keys(published)} == {2}
    assert len(after) == 10 and len(set(cycle_keys(after))) == 10
    assert await count(database_url, "SELECT count(*) FROM cycles") == 15


async def _outbox_empty(database_url: str) -> bool:
    return await count(database_url, "SELECT count(*) FROM outbox") == 0
