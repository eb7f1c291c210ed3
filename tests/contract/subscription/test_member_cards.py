"""`MemberCards` and `CardWarnings`: each member's card reads back as the newest event left it (an older event
never replaces it, an unlink is kept), and a cycle is warned about once (fake and PostgreSQL alike)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from services.subscription.domain import subscription as s
from services.subscription.domain.cards import CardWarning, ExpiryMonth, MemberCard
from services.subscription.ports import Scheduled
from tests.unit.subscription.builders import first_order

AS_OF = datetime(2025, 2, 1, tzinfo=UTC)
SUB = s.start(first_order())


def card(expiry: str | None = "2025-03", *, member_id: str = "m-1001", shop_id: str = "demo-shop") -> MemberCard:
    return MemberCard(shop_id=shop_id, member_id=member_id, linked=True,
                      expiry=ExpiryMonth.parse(expiry) if expiry else None)


def warning(cycle_no: int, *, expiry: str = "2025-01") -> CardWarning:
    return CardWarning(subscription_id=SUB.subscription_id, shop_id=SUB.shop_id, member_id=SUB.member_id,
                       cycle_no=cycle_no, next_cycle_on=date(2025, cycle_no, 28), card_expiry=ExpiryMonth.parse(expiry),
                       warned_at=AS_OF)


async def test_each_members_card_reads_back_as_stored_and_unknown_members_are_absent(store):
    async with store.uow() as uow:
        assert await uow.member_cards.put(card(), as_of=AS_OF)
        assert await uow.member_cards.put(card(None, member_id="m-2"), as_of=AS_OF)
        assert await uow.member_cards.put(card("2026-01", shop_id="other-shop"), as_of=AS_OF)
    async with store.uow() as uow:
        found = await uow.member_cards.of_members([("demo-shop", "m-1001"), ("demo-shop", "m-2"),
                                                   ("demo-shop", "m-none"), ("demo-shop", "m-1001")])
        assert found == {("demo-shop", "m-1001"): card(), ("demo-shop", "m-2"): card(None, member_id="m-2")}
        assert await uow.member_cards.of_members([]) == {}


async def test_the_newest_event_wins_and_an_unlink_is_kept(store):
    unlinked = MemberCard(shop_id="demo-shop", member_id="m-1001", linked=False)
    async with store.uow() as uow:
        await uow.member_cards.put(card("2025-03"), as_of=AS_OF)
        assert await uow.member_cards.put(card("2030-12"), as_of=AS_OF)  # the same instant: the later write wins
        assert await uow.member_cards.put(unlinked, as_of=AS_OF + timedelta(minutes=1))
        assert not await uow.member_cards.put(card("2025-03"), as_of=AS_OF + timedelta(seconds=59))
    async with store.uow() as uow:
        assert await uow.member_cards.of_members([("demo-shop", "m-1001")]) == {("demo-shop", "m-1001"): unlinked}


async def test_a_cycle_is_warned_about_once_and_the_warnings_read_back_by_cycle(store):
    async with store.uow() as uow:
        await uow.subscriptions.add(Scheduled(SUB, None))
        assert await uow.card_warnings.add([warning(3), warning(2)]) == {(SUB.subscription_id, 2),
                                                                         (SUB.subscription_id, 3)}
    async with store.uow() as uow:
        assert await uow.card_warnings.add([replace(warning(3), card_expiry=ExpiryMonth(2024, 12)), warning(4)]) == {
            (SUB.subscription_id, 4)}
        assert await uow.card_warnings.add([]) == set()
    async with store.uow() as uow:
        assert await uow.card_warnings.of_subscription(SUB.subscription_id) == [warning(2), warning(3), warning(4)]
        assert await uow.card_warnings.of_subscription("sub-none") == []
