"""The subscription service on real PostgreSQL and Kafka: started from a published first order, twelve monthly
cycles on its dev clock give exactly twelve renewal requests, and renewal orders settle their cycles once."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.events import RenewalCycleSettled, RenewalOrderRequested, SubscriptionStarted
from services.subscription.domain.subscription import subscription_id_for
from tests.integration.subscription.support import (
    advance,
    cycles_recorded,
    lifecycle,
    operator,
    publish,
    renewal_requests,
    running,
    start,
    subscriptions_started,
)
from tests.unit.subscription import events
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
SUB = subscription_id_for("demo-shop", "ord-0001")


async def test_a_published_first_order_starts_a_subscription_with_its_next_cycle_date(database_url, isolated_kafka):
    async with running(start(database_url, isolated_kafka)) as client:
        await publish(isolated_kafka, [events.first_order()])
        await subscriptions_started(database_url, 1)
        view = (await client.get(f"/v1/shops/demo-shop/subscriptions/{SUB}", headers=operator())).json()
        [started] = await lifecycle(isolated_kafka, at_least=1)
    assert isinstance(started, SubscriptionStarted)
    assert (started.subscription_id, started.next_cycle_on, started.member_id) == (SUB, date(2025, 2, 28), "m-1001")
    assert (view["status"], view["next_cycle_on"], view["cycle_count"]) == ("active", "2025-02-28", 1)
    assert [(c["cycle_no"], c["order_id"], c["status"]) for c in view["cycles"]] == [(1, "ord-0001", "completed")]


async def test_twelve_monthly_cycles_on_the_dev_clock_produce_exactly_twelve_renewal_requests(
        database_url, isolated_kafka):
    async with running(start(database_url, isolated_kafka)) as client:
        await publish(isolated_kafka, [events.first_order()])
        await subscriptions_started(database_url, 1)
        for month in range(1, 13):
            await advance(client, days=31)  # each step passes exactly one more month-end (Jan 31 anchor)
            await cycles_recorded(database_url, 1 + month)
        requests = await renewal_requests(isolated_kafka, at_least=12, settle=1.5)
    assert all(isinstance(r, RenewalOrderRequested) for r in requests)
    assert [(r.cycle_no, r.scheduled_for) for r in requests] == [  # type: ignore[attr-defined]
        (2, date(2025, 2, 28)), (3, date(2025, 3, 31)), (4, date(2025, 4, 30)), (5, date(2025, 5, 31)),
        (6, date(2025, 6, 30)), (7, date(2025, 7, 31)), (8, date(2025, 8, 31)), (9, date(2025, 9, 30)),
        (10, date(2025, 10, 31)), (11, date(2025, 11, 30)), (12, date(2025, 12, 31)), (13, date(2026, 1, 31))]


async def test_renewal_orders_record_their_cycle_and_settle_it_once(database_url, isolated_kafka):
    async with running(start(database_url, isolated_kafka)) as client:
        await publish(isolated_kafka, [events.first_order()])
        await subscriptions_started(database_url, 1)
        await advance(client, days=31)
        await cycles_recorded(database_url, 2)
        completed = events.renewal_completed(SUB, 2, order_id="ord-r2")
        await publish(isolated_kafka, [events.renewal_placed(SUB, 2, order_id="ord-r2"), completed, completed])

        async def settled() -> list:
            view = (await client.get(f"/v1/shops/demo-shop/subscriptions/{SUB}", headers=operator())).json()
            return [c for c in view["cycles"] if c["cycle_no"] == 2 and c["status"] == "completed"]

        [cycle] = await eventually(settled, message="cycle 2 completed")
        found = await lifecycle(isolated_kafka, at_least=2, settle=1.0)
    assert cycle["order_id"] == "ord-r2" and cycle["scheduled_for"] == "2025-02-28"
    [settlement] = [e for e in found if isinstance(e, RenewalCycleSettled)]
    assert (settlement.cycle_no, settlement.order_id, settlement.outcome) == (2, "ord-r2", "completed")
