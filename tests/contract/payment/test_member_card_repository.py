"""`MemberCardRepository`: a member record reads back with its key; at most one current record per shop member
(R10); status and the card as shown change in place, a read is remembered only for the card it read, the link date
is set once; the latest record is found in any status; a member's card lease is held by one order at a time until
released or expired; card events are numbered per member."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest
from pydantic import SecretStr

from services.payment.domain.card_face import CardFace
from services.payment.domain.cards import LinkStatus
from services.payment.ports import MemberCard, MemberKey
from tests.contract.payment.conftest import Store
from tests.waiting import eventually

LINKED, REPLACED = datetime(2025, 6, 1, 3, 0, tzinfo=UTC), datetime(2025, 7, 1, 3, 0, tzinfo=UTC)
VISA = CardFace(masked="4111********1111", expiry="2030-12", brand="Visa")
MASTERCARD = CardFace(masked="5555********4444", expiry="2031-01", brand="Mastercard")


def card(kaiin_id: str, member_id: str = "m-1", status: LinkStatus = LinkStatus.REGISTERING) -> MemberCard:
    return MemberCard(kaiin_id=kaiin_id, shop_id="shop-1", member_id=member_id, status=status)


def key(kaiin_id: str) -> MemberKey:
    return MemberKey(kaiin_id, SecretStr(f"pass-of-{kaiin_id}"))


async def test_a_member_record_reads_back_with_its_key(store: Store) -> None:
    async with store.uow() as uow:
        await uow.members.register(card("K1"), key("K1"))
    async with store.uow() as uow:
        assert (await uow.members.get("K1"), await uow.members.current("shop-1", "m-1")) == (card("K1"),) * 2
        assert await uow.members.key("K1") == key("K1")
        assert (await uow.members.get("K2"), await uow.members.key("K2")) == (None, None)
        assert await uow.members.current("shop-2", "m-1") is None


async def test_a_shop_member_has_at_most_one_current_record(store: Store) -> None:
    async with store.uow() as uow:
        await uow.members.register(card("K1", status=LinkStatus.ACTIVE), key("K1"))
    with pytest.raises(asyncpg.UniqueViolationError):
        async with store.uow() as uow:
            await uow.members.register(card("K2"), key("K2"))
    async with store.uow() as uow:
        await uow.members.set_status("K1", LinkStatus.DELETED)
        await uow.members.register(card("K2"), key("K2"))
        assert (await uow.members.current("shop-1", "m-1")) == card("K2")


async def test_status_and_masked_number_change_in_place(store: Store) -> None:
    async with store.uow() as uow:
        await uow.members.register(card("K1"), key("K1"))
        await uow.members.set_status("K1", LinkStatus.ACTIVE, at=LINKED)
        await uow.members.remember_face("K1", VISA, card_version=0)
    async with store.uow() as uow:
        expected = MemberCard(kaiin_id="K1", shop_id="shop-1", member_id="m-1", status=LinkStatus.ACTIVE,
                              masked_card="4111********1111", card_expiry="2030-12", card_brand="Visa",
                              linked_at=LINKED)
        assert await uow.members.get("K1") == expected
        await uow.members.card_replaced("K1", at=LINKED)
        assert (await uow.members.get("K1") or expected).masked_card is None


async def test_a_card_read_is_remembered_only_for_the_card_it_read(store: Store) -> None:
    async with store.uow() as uow:
        await uow.members.register(card("K1", status=LinkStatus.ACTIVE), key("K1"))
        await uow.members.card_replaced("K1", at=REPLACED)  # a replacement while a read of the old card was out
        stale = await uow.members.remember_face("K1", VISA, card_version=0)
        fresh = await uow.members.remember_face("K1", MASTERCARD, card_version=1)
    async with store.uow() as uow:
        found = await uow.members.get("K1")
    assert (stale, fresh) == (False, True)
    assert found is not None and (found.face, found.card_version, found.linked_at) == (MASTERCARD, 1, REPLACED)


async def test_the_link_date_is_set_once_when_the_record_becomes_active(store: Store) -> None:
    async with store.uow() as uow:
        await uow.members.register(card("K1"), key("K1"))
        await uow.members.set_status("K1", LinkStatus.ACTIVE, at=LINKED)
        await uow.members.set_status("K1", LinkStatus.ACTIVE, at=REPLACED)
        await uow.members.register(card("K2", member_id="m-2"), key("K2"))
        await uow.members.set_status("K2", LinkStatus.FAILED, at=LINKED)
    async with store.uow() as uow:
        assert [(c.linked_at if c else None) for c in (await uow.members.get("K1"), await uow.members.get("K2"))] == [
            LINKED, None]


async def test_the_latest_record_of_a_member_is_found_in_any_status(store: Store) -> None:
    async with store.uow() as uow:
        await uow.members.register(card("K1", status=LinkStatus.DELETED), key("K1"))
    async with store.uow() as uow:
        await uow.members.register(card("K2", status=LinkStatus.INVALIDATED), key("K2"))
    async with store.uow() as uow:
        latest = await uow.members.latest("shop-1", "m-1")
        assert (latest.kaiin_id if latest else None, await uow.members.latest("shop-1", "m-9")) == ("K2", None)


async def lease(store: Store, holder: str, ttl_s: float = 60.0) -> bool:
    async with store.uow() as uow:
        return await uow.members.lease("shop-1", "m-1", holder=holder, ttl_s=ttl_s)


async def test_a_members_lease_is_held_by_one_order_until_released(store: Store) -> None:
    assert (await lease(store, "ord-1"), await lease(store, "ord-2"), await lease(store, "ord-1")) == (
        True, False, True)
    async with store.uow() as uow:
        await uow.members.release("shop-1", "m-1", holder="ord-2")  # not the holder: nothing happens
    assert await lease(store, "ord-2") is False
    async with store.uow() as uow:
        await uow.members.release("shop-1", "m-1", holder="ord-1")
    assert await lease(store, "ord-2") is True


async def test_a_lease_whose_holder_went_silent_expires(store: Store) -> None:
    assert await lease(store, "ord-1")
    assert await lease(store, "ord-2", ttl_s=60.0) is False
    assert await eventually(lambda: lease(store, "ord-2", ttl_s=0.05), timeout=5, message="the lease expired")


async def test_card_events_are_numbered_per_member(store: Store) -> None:
    async with store.uow() as uow:
        numbers = [await uow.members.next_version("shop-1", m) for m in ("m-1", "m-1", "m-2", "m-1")]
    assert numbers == [1, 2, 1, 3]
