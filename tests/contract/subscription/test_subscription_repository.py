"""`SubscriptionRepository`: a subscription reads back exactly as added or saved, one per id and per first order;
search filters, orders and pages as the operator API promises; the scheduler's claims take only due, active,
unlocked subscriptions, earliest first (fake and PostgreSQL alike)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from services.subscription.domain import subscription as s
from services.subscription.domain.contents import Line
from services.subscription.domain.subscription import CancelWhen, Status, Subscription
from services.subscription.ports import Scheduled, SubscriptionQuery
from tests.unit.subscription.builders import contents, first_order

T0 = datetime(2025, 2, 27, 15, 0, tzinfo=UTC)


def sub(n: int, *, shop_id: str = "demo-shop", member_id: str = "m-1001") -> Subscription:
    return s.start(first_order(order_id=f"ord-{n}", shop_id=shop_id, member_id=member_id,
                               contents=contents(member_id)))


async def add(store, items: list[Scheduled]) -> None:
    async with store.uow() as uow:
        for item in items:
            assert await uow.subscriptions.add(item)


async def test_a_subscription_reads_back_whole_as_added_and_as_saved(store):
    first = sub(1)
    await add(store, [Scheduled(first, T0)])
    changed = s.change_lines(s.pause(first).subscription, [Line(sku="X", name="玉露", unit_price=10, quantity=3)])
    ending = s.cancel(s.resume(changed.subscription, today=date(2025, 3, 1)).subscription,
                      when=CancelWhen.AFTER_CURRENT_CYCLE, today=date(2025, 3, 1)).subscription
    async with store.uow() as uow:
        assert await uow.subscriptions.get(first.subscription_id) == first
        await uow.subscriptions.save([Scheduled(ending, None)])
    async with store.uow() as uow:
        assert await uow.subscriptions.get(first.subscription_id, for_update=True) == ending
        assert await uow.subscriptions.get("sub-none") is None


async def test_one_subscription_per_id_and_per_first_order(store):
    await add(store, [Scheduled(sub(1), T0)])
    async with store.uow() as uow:
        assert not await uow.subscriptions.add(Scheduled(sub(1), T0))
        assert not await uow.subscriptions.add(Scheduled(replace(sub(1), subscription_id="sub-other"), T0))
        assert await uow.subscriptions.add(Scheduled(sub(1, shop_id="other-shop"), T0))


async def test_search_filters_by_status_and_member_newest_first_in_pages(store):
    for n in range(1, 5):
        await add(store, [Scheduled(sub(n, member_id="m-a" if n % 2 else "m-b"), T0)])
    await add(store, [Scheduled(sub(9, shop_id="other-shop"), T0)])
    async with store.uow() as uow:
        await uow.subscriptions.save([Scheduled(s.pause(sub(3, member_id="m-a")).subscription, None)])
        every = await uow.subscriptions.search("demo-shop", SubscriptionQuery())
        paused = await uow.subscriptions.search("demo-shop", SubscriptionQuery(status=Status.PAUSED))
        of_b = await uow.subscriptions.search("demo-shop", SubscriptionQuery(member_id="m-b"))
        page = await uow.subscriptions.search("demo-shop", SubscriptionQuery(limit=2, offset=1))
    assert [x.first_order_id for x in every] == ["ord-4", "ord-3", "ord-2", "ord-1"]
    assert [x.first_order_id for x in paused] == ["ord-3"]
    assert [x.first_order_id for x in of_b] == ["ord-4", "ord-2"]
    assert [x.first_order_id for x in page] == ["ord-3", "ord-2"]


async def test_claims_take_due_active_subscriptions_earliest_first_up_to_the_limit(store):
    paused = s.pause(sub(4)).subscription
    await add(store, [Scheduled(sub(1), T0 + timedelta(hours=2)), Scheduled(sub(2), T0),
              Scheduled(sub(3), T0 + timedelta(days=1)), Scheduled(paused, None), Scheduled(sub(5), None),
              Scheduled(sub(6), T0 + timedelta(hours=1))])
    async with store.uow() as uow:
        claimed = await uow.subscriptions.claim_due(now=T0 + timedelta(hours=2), limit=2)
        assert [x.first_order_id for x in claimed] == ["ord-2", "ord-6"]
        assert await uow.subscriptions.earliest_due() == T0
    async with store.uow() as uow:
        claimed = await uow.subscriptions.claim_due(now=T0 + timedelta(hours=2), limit=10)
        assert [x.first_order_id for x in claimed] == ["ord-2", "ord-6", "ord-1"]


async def test_a_subscription_claimed_by_one_unit_is_skipped_by_another_until_that_unit_ends(store):
    await add(store, [Scheduled(sub(1), T0), Scheduled(sub(2), T0 + timedelta(minutes=1))])
    async with store.uow() as first:
        assert [x.first_order_id for x in await first.subscriptions.claim_due(now=T0, limit=10)] == ["ord-1"]
        async with store.uow() as second:
            later = await second.subscriptions.claim_due(now=T0 + timedelta(hours=1), limit=10)
            assert [x.first_order_id for x in later] == ["ord-2"]
    async with store.uow() as third:
        again = await third.subscriptions.claim_due(now=T0 + timedelta(hours=1), limit=10)
        assert [x.first_order_id for x in again] == ["ord-1", "ord-2"]


async def test_nothing_scheduled_has_no_earliest_due_time(store):
    await add(store, [Scheduled(s.pause(sub(1)).subscription, None)])
    async with store.uow() as uow:
        assert await uow.subscriptions.earliest_due() is None


async def test_the_active_subscriptions_of_a_shop_are_listed_for_rescheduling(store):
    await add(store, [Scheduled(sub(1), T0), Scheduled(s.pause(sub(2)).subscription, None),
              Scheduled(sub(3, shop_id="other-shop"), T0)])
    async with store.uow() as uow:
        assert [x.first_order_id for x in await uow.subscriptions.active_of_shop("demo-shop")] == ["ord-1"]


async def test_a_unit_that_fails_saves_nothing(store):
    await add(store, [Scheduled(sub(1), T0)])
    try:
        async with store.uow() as uow:
            await uow.subscriptions.save([Scheduled(s.pause(sub(1)).subscription, None)])
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    async with store.uow() as uow:
        assert (await uow.subscriptions.get(sub(1).subscription_id)) == sub(1)
        assert await uow.subscriptions.earliest_due() == T0


async def test_the_active_subscriptions_of_a_member_are_listed_for_their_card_check(store):
    await add(store, [Scheduled(sub(2), T0), Scheduled(sub(1), T0), Scheduled(s.pause(sub(3)).subscription, None),
              Scheduled(sub(4, member_id="m-other"), T0), Scheduled(sub(5, shop_id="other-shop"), T0)])
    async with store.uow() as uow:
        found = await uow.subscriptions.active_of_member("demo-shop", "m-1001")
        assert sorted(x.first_order_id for x in found) == ["ord-1", "ord-2"]
        assert [x.subscription_id for x in found] == sorted(x.subscription_id for x in found)
        assert await uow.subscriptions.active_of_member("demo-shop", "m-none") == []
