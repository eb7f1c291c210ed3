"""`RetryRepository` (`payment_retries`): a renewal's schedule reads back as stored, replaced and deleted; due rows
are claimed oldest first up to the limit and come due again only when the claim lapses; a row another open
unit claimed is skipped (`FOR UPDATE SKIP LOCKED`) until that unit ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.payment.domain.retries import ScheduledRetry
from tests.contract.payment.builders import NOW, payment
from tests.contract.payment.conftest import Store

CLAIM = timedelta(minutes=5)


def retry(order_id: str, *, due_in: timedelta = timedelta(), retries: int = 0) -> ScheduledRetry:
    return ScheduledRetry(order_id=order_id, shop_id="shop-1", first_tried_at=NOW - timedelta(days=1),
                          retries=retries, due_at=NOW + due_in)


async def scheduled(store: Store, retries: list[ScheduledRetry]) -> None:
    async with store.uow() as uow:
        for r in retries:
            await uow.payments.add(payment(r.order_id, renewal=True), correlation_id="sub-1")
            await uow.retries.put(r)


async def test_a_schedule_reads_back_as_stored_replaced_and_deleted(store: Store) -> None:
    await scheduled(store, [retry("ord-1"), retry("ord-2")])
    later = retry("ord-1", due_in=timedelta(days=2), retries=1)
    async with store.uow() as uow:
        await uow.retries.put(later)
        await uow.retries.delete("ord-2")
    async with store.uow() as uow:
        assert (await uow.retries.get("ord-1"), await uow.retries.get("ord-2")) == (later, None)
        assert await uow.retries.next_due() == later.due_at


async def test_due_rows_are_claimed_oldest_first_up_to_the_limit_and_come_back_when_the_claim_lapses(
        store: Store) -> None:
    await scheduled(store, [retry("ord-1", due_in=-timedelta(hours=1)), retry("ord-2", due_in=-timedelta(hours=2)),
                            retry("ord-3"), retry("ord-4", due_in=timedelta(seconds=1))])
    async with store.uow() as uow:
        first = await uow.retries.claim_due(NOW, until=NOW + CLAIM, limit=2)
        second = await uow.retries.claim_due(NOW, until=NOW + CLAIM, limit=10)
    assert [(r.order_id, r.due_at) for r in first] == [("ord-1", NOW + CLAIM), ("ord-2", NOW + CLAIM)]
    assert [r.order_id for r in second] == ["ord-3"]
    async with store.uow() as uow:
        before_lapse = await uow.retries.claim_due(NOW + CLAIM - timedelta(seconds=1), until=NOW + 2 * CLAIM,
                                                   limit=10)
        lapsed = await uow.retries.claim_due(NOW + CLAIM, until=NOW + 2 * CLAIM, limit=10)
    assert before_lapse == [replace(retry("ord-4"), due_at=NOW + 2 * CLAIM)]
    assert [r.order_id for r in lapsed] == ["ord-1", "ord-2", "ord-3"]


async def test_a_row_claimed_by_an_open_unit_is_skipped_until_that_unit_ends(store: Store) -> None:
    await scheduled(store, [retry("ord-1")])
    with pytest.raises(RuntimeError):
        async with store.uow() as holder:
            assert [r.order_id for r in await holder.retries.claim_due(NOW, until=NOW + CLAIM, limit=10)] == ["ord-1"]
            async with store.uow() as other:
                assert await other.retries.claim_due(NOW, until=NOW + CLAIM, limit=10) == []
            raise RuntimeError("the holder's transaction rolls back")
    async with store.uow() as other:
        assert [r.order_id for r in await other.retries.claim_due(NOW, until=NOW + CLAIM, limit=10)] == ["ord-1"]
