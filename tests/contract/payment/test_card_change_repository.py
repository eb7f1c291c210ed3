"""`CardChangeRepository` (`card_changes`) and `MemberSubscriptionRepository` (`member_subscriptions`): a change reads
back with every field as stored and saved (version + 1); one open change per shop member, a closed one frees the
member; the newest status of a subscription wins, and only active or paused subscriptions keep the card (R18)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import asyncpg
import pytest
from pydantic import SecretStr

from services.payment.domain.card_changes import CardChange, ChangeKind, ChangeSource, ChangeState
from services.payment.domain.card_face import CardFace
from services.payment.domain.cards import LinkStatus
from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.ports import MemberCard, MemberKey, SubscriptionStatus
from tests.contract.payment.builders import NOW
from tests.contract.payment.conftest import Store

BEFORE = CardFace(masked="4111********1111", expiry="2030-12", brand="Visa")
AFTER = CardFace(masked="5555********4444", expiry="2031-01", brand=None)


def change(member_id: str = "m-1", **changes: object) -> CardChange:
    base = CardChange(change_id=str(uuid.uuid4()), shop_id="shop-1", member_id=member_id, kind=ChangeKind.REPLACE,
                      source=ChangeSource.MY_PAGE, kaiin_id=f"K-{member_id}", step=Op.MEM_CHG, created_at=NOW,
                      updated_at=NOW, attempt_id=str(uuid.uuid4()), requested_by="my_page", before=BEFORE)
    return replace(base, **changes)  # type: ignore[arg-type]


async def with_members(store: Store, *member_ids: str) -> None:
    async with store.uow() as uow:
        for member_id in member_ids:
            record = MemberCard(kaiin_id=f"K-{member_id}", shop_id="shop-1", member_id=member_id,
                                status=LinkStatus.ACTIVE)
            await uow.members.register(record, MemberKey(record.kaiin_id, SecretStr("kaiinpass001")))


async def test_a_change_reads_back_as_added_and_saved(store: Store) -> None:
    await with_members(store, "m-1")
    added = change()
    async with store.uow() as uow:
        stored = await uow.card_changes.add(added)
    moved = replace(stored, state=ChangeState.FAILED, step=Op.MEM_REF, unsent=2, after=AFTER, codes=("G12", "C13"),
                    reason="card_declined", attempt_id=str(uuid.uuid4()), updated_at=NOW + timedelta(seconds=3))
    async with store.uow() as uow:
        saved = await uow.card_changes.save(moved)
    async with store.uow() as uow:
        found = await uow.card_changes.get(added.change_id)
    assert (stored, saved, found) == (replace(added, version=1), replace(moved, version=2), replace(moved, version=2))


async def test_a_member_has_at_most_one_open_change(store: Store) -> None:
    await with_members(store, "m-1", "m-2")
    first = change()
    async with store.uow() as uow:
        await uow.card_changes.add(first)
        await uow.card_changes.add(change("m-2", state=ChangeState.UNKNOWN))
    with pytest.raises(asyncpg.UniqueViolationError):
        async with store.uow() as uow:
            await uow.card_changes.add(change(state=ChangeState.APPLIED))
    async with store.uow() as uow:
        assert (await uow.card_changes.open_for("shop-1", "m-1") or first).change_id == first.change_id
        await uow.card_changes.save(replace(first, state=ChangeState.DONE))
        assert await uow.card_changes.open_for("shop-1", "m-1") is None
        await uow.card_changes.add(change())  # a closed change frees the member
        assert (await uow.card_changes.open_for("shop-2", "m-2"), await uow.card_changes.get(str(uuid.uuid4()))) == (
            None, None)


def status(subscription_id: str, state: str, version: int, member_id: str = "m-1") -> SubscriptionStatus:
    return SubscriptionStatus(subscription_id=subscription_id, shop_id="shop-1", member_id=member_id, status=state,
                              version=version)


async def test_the_newest_status_of_a_subscription_wins(store: Store) -> None:
    async with store.uow() as uow:
        applied = [await uow.subscriptions.record(s) for s in (
            status("sub-1", "active", 1), status("sub-1", "canceled", 3), status("sub-1", "paused", 2))]
        keeping = await uow.subscriptions.keeping_card("shop-1", "m-1")
    assert (applied, keeping) == ([True, True, False], [])


async def test_active_and_paused_subscriptions_keep_the_card_canceled_ones_do_not(store: Store) -> None:
    async with store.uow() as uow:
        for s in (status("sub-2", "paused", 1), status("sub-1", "active", 1), status("sub-3", "canceled", 1),
                  status("sub-4", "active", 1, member_id="m-2")):
            await uow.subscriptions.record(s)
    async with store.uow() as uow:
        assert await uow.subscriptions.keeping_card("shop-1", "m-1") == ["sub-1", "sub-2"]
        assert await uow.subscriptions.keeping_card("shop-2", "m-2") == []
