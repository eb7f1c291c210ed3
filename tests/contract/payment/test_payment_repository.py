"""`PaymentRepository`: a payment reads back whole as added (version 1) and as saved (version + 1), one payment
per order, the current hold's ProcessPass kept until replaced, moved aside with the old hold by an amount
update and dropped with it, and the checkout the order came from kept for correlation."""

from __future__ import annotations

from dataclasses import replace

import asyncpg
import pytest
from pydantic import SecretStr

from services.payment.domain.actions import HoldState, PreviousHold
from services.payment.domain.model import PaymentState
from services.payment.ports import ProcessKey
from tests.contract.payment.builders import operated, payment
from tests.contract.payment.conftest import Store

PASS_1, PASS_2 = SecretStr("A" * 32), SecretStr("B" * 32)


async def test_a_payment_reads_back_whole_as_added_and_as_saved(store: Store) -> None:
    async with store.uow() as uow:
        added = await uow.payments.add(payment(), correlation_id="chk-1")
        saved = await uow.payments.save(replace(operated(), version=added.version))
    async with store.uow() as uow:
        assert (added.version, saved.version) == (1, 2)
        assert await uow.payments.get("ord-1", lock=True) == saved == replace(operated(), version=2)
        assert (await uow.payments.correlation_id("ord-1"), await uow.payments.get("ord-2")) == ("chk-1", None)


async def test_a_subscription_orders_due_card_read_is_kept_as_added_and_cleared_by_a_save(store: Store) -> None:
    async with store.uow() as uow:
        added = await uow.payments.add(payment(card_read_due=True), correlation_id="chk-1")
        due = await uow.payments.get("ord-1")
        await uow.payments.save(replace(added, card_read_due=False, linked=True))
    async with store.uow() as uow:
        done = await uow.payments.get("ord-1")
    assert (due and due.card_read_due, done and done.card_read_due) == (True, False)


async def test_there_is_one_payment_per_order(store: Store) -> None:
    async with store.uow() as uow:
        await uow.payments.add(payment(), correlation_id="chk-1")
    with pytest.raises(asyncpg.UniqueViolationError):
        async with store.uow() as uow:
            await uow.payments.add(payment(amount=1), correlation_id="chk-2")
    async with store.uow() as uow:
        assert (await uow.payments.get("ord-1")) == payment(version=1)


async def test_the_current_process_pass_is_kept_until_a_new_one_replaces_it(store: Store) -> None:
    async with store.uow() as uow:
        added = await uow.payments.add(payment(process_id="P" * 32), correlation_id="chk-1")
        saved = await uow.payments.save(added, process_pass=PASS_1)
        saved = await uow.payments.save(saved)
        kept = await uow.payments.process_key("ord-1")
        await uow.payments.save(saved, process_pass=PASS_2)
        replaced = await uow.payments.process_key("ord-1")
    assert (kept, replaced) == (ProcessKey("P" * 32, PASS_1), ProcessKey("P" * 32, PASS_2))


async def test_a_new_hold_moves_the_old_pass_aside_until_the_old_hold_is_released(store: Store) -> None:
    async with store.uow() as uow:
        before = await uow.payments.save(await uow.payments.add(payment(process_id="P" * 32), correlation_id="c"),
                                         process_pass=PASS_1)
        assert await uow.payments.process_key("ord-1", previous=True) is None
        reauthorized = replace(before, process_id="N" * 32,
                               previous_hold=PreviousHold(process_id="P" * 32, transaction_id="T1", amount=5500))
        during = await uow.payments.save(reauthorized, process_pass=PASS_2, retire_pass=True)
        both = (await uow.payments.process_key("ord-1"), await uow.payments.process_key("ord-1", previous=True))
        await uow.payments.save(replace(during, previous_hold=None))
        after = await uow.payments.process_key("ord-1", previous=True)
    assert both == (ProcessKey("N" * 32, PASS_2), ProcessKey("P" * 32, PASS_1))
    assert after is None


async def test_a_payment_without_a_hold_names_no_transaction(store: Store) -> None:
    async with store.uow() as uow:
        await uow.payments.save(await uow.payments.add(payment(), correlation_id="c"), process_pass=PASS_1)
        assert await uow.payments.process_key("ord-1") is None  # no ProcessId: the pair is incomplete
        assert await uow.payments.process_key("ord-none") is None
        assert await uow.payments.correlation_id("ord-none") is None


async def test_the_payments_needing_an_operator_are_the_shops_unknown_ones_and_those_with_two_live_holds(
        store: Store) -> None:
    unknown_op = operated("ord-op")
    two_holds = replace(payment("ord-holds", state=PaymentState.AUTHORIZED),
                        previous_hold=replace(unknown_op.previous_hold, state=HoldState.RELEASE_FAILED))
    releasing = replace(two_holds, order_id="ord-releasing",
                        previous_hold=replace(unknown_op.previous_hold, state=HoldState.RELEASING))
    waiting = [payment("ord-unknown", state=PaymentState.UNKNOWN), replace(unknown_op, previous_hold=None), two_holds]
    others = [payment("ord-fine", state=PaymentState.AUTHORIZED), releasing,
              payment("ord-elsewhere", state=PaymentState.UNKNOWN, shop_id="shop-2")]
    async with store.uow() as uow:
        for item in [*waiting, *others]:
            await uow.payments.save(await uow.payments.add(replace(item, previous_hold=None), correlation_id="c"))
            if item.previous_hold is not None:
                current = await uow.payments.get(item.order_id)
                assert current is not None
                await uow.payments.save(replace(current, previous_hold=item.previous_hold))
    async with store.uow() as uow:
        found = await uow.payments.needing_operator("shop-1", limit=10)
        first = await uow.payments.needing_operator("shop-1", limit=1)
    assert sorted(p.order_id for p in found) == ["ord-holds", "ord-op", "ord-unknown"]
    assert len(first) == 1
