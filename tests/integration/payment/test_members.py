"""Member card flows R7-R10 against the emulator's members: link, registered card, replace, unlink, guests."""

from __future__ import annotations

import pytest

from contracts.events import CardLinked, CardUnlinked, PaymentAuthorized, PaymentDeclined
from services.payment.domain.codes import BUYER_CARD_COMPANY
from tests.integration.payment.support import SHOP, PaymentHarness, order_placed
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
VALID, DELETED = 0, 4


async def pay(harness: PaymentHarness, **kwargs) -> PaymentAuthorized:
    order = order_placed(**kwargs)
    await harness.publish(order)
    return (await harness.outcome(order.order_id)).event_as(PaymentAuthorized)


async def link_events(harness: PaymentHarness, member_id: str, count: int) -> list:
    async def arrived() -> list:
        found = [e.event() for e in harness.events_of(f"{SHOP}:{member_id}")]
        return found if len(found) >= count else []
    return await eventually(arrived, message=f"{count} card events of {member_id}")


async def test_a_member_links_on_the_first_order_pays_with_the_registered_card_and_replaces_it(
        harness: PaymentHarness) -> None:
    first = await pay(harness, member_id="m-1", token=await harness.token())
    [member] = await harness.members()
    assert (member["status"], member["card"]) == (VALID, "4111********1111")
    [charge] = await harness.ledger(MerchantFree1=first.payment_number)
    assert (charge["kind"], charge["kaiin_id"], first.card_source) == ("1Auth", member["kaiin_id"], "member")
    assert await harness.stored_card("m-1") == {"linked": True, "masked_card_no": "4111********1111"}

    registered = await pay(harness, member_id="m-1", registered=True)
    [charge] = await harness.ledger(MerchantFree1=registered.payment_number)
    assert (charge["kaiin_id"], registered.card_source) == (member["kaiin_id"], "member")

    await pay(harness, member_id="m-1", token=await harness.token("5555555555554444"))
    [member] = await harness.members()
    assert (member["kaiin_id"], member["card"]) == (charge["kaiin_id"], "5555********4444")
    assert await harness.stored_card("m-1") == {"linked": True, "masked_card_no": "5555********4444"}
    linked = await link_events(harness, "m-1", 2)
    assert [(type(e), e.replaced) for e in linked] == [(CardLinked, False), (CardLinked, True)]


@pytest.mark.parametrize(("link_mode", "keep_card", "reason"), [
    ("buyer_choice", False, "keep_card_unchecked"),
    ("never", None, "link_mode_never"),
])
async def test_an_order_that_must_not_keep_the_card_pays_by_token_and_removes_the_link(
        harness: PaymentHarness, link_mode, keep_card, reason) -> None:
    await pay(harness, member_id="m-2", token=await harness.token())
    paid = await pay(harness, member_id="m-2", token=await harness.token("5555555555554444"),
                     link_mode=link_mode, keep_card=keep_card)
    [charge] = await harness.ledger(MerchantFree1=paid.payment_number)
    assert (charge["kaiin_id"], charge["card"], paid.card_source) == (None, "5555********4444", "token")
    unlinked = (await link_events(harness, "m-2", 2))[-1]
    assert isinstance(unlinked, CardUnlinked) and unlinked.reason == reason
    [member] = await harness.members()
    assert member["status"] == DELETED
    assert await harness.stored_card("m-2") == {"linked": False, "masked_card_no": None}
    history = [(a["operation"], a["status"]) for a in (await harness.payment(paid.order_id)).json()["history"]]
    assert history == [("1Auth", "ok"), ("4MemInval", "ok"), ("4MemDel", "ok")]


async def test_a_new_link_after_an_unlink_uses_a_new_member_id(harness: PaymentHarness) -> None:
    await pay(harness, member_id="m-3", token=await harness.token())
    await pay(harness, member_id="m-3", token=await harness.token(), link_mode="never")
    await pay(harness, member_id="m-3", token=await harness.token())
    members = await harness.members()
    assert sorted(m["status"] for m in members) == [VALID, DELETED]
    assert len({m["kaiin_id"] for m in members}) == 2


async def test_guests_never_link_whatever_the_mode(harness: PaymentHarness) -> None:
    for mode, keep in (("always", None), ("buyer_choice", True)):
        paid = await pay(harness, token=await harness.token(), link_mode=mode, keep_card=keep)
        assert paid.card_source == "token"
    assert await harness.members() == []


async def test_a_declined_card_is_not_linked_and_the_payment_is_declined_at_4memadd(harness: PaymentHarness) -> None:
    order = order_placed(member_id="m-4", token=await harness.token("4000000000000002"))
    await harness.publish(order)
    event = (await harness.outcome(order.order_id)).event_as(PaymentDeclined)
    assert (event.operation, event.codes, event.buyer_message) == ("4MemAdd", ["G12"], BUYER_CARD_COMPANY)
    assert await harness.members() == [] and await harness.ledger() == []
    assert await harness.stored_card("m-4") == {"linked": False, "masked_card_no": None}


async def test_two_orders_of_one_member_at_once_keep_one_card_at_the_gateway(harness: PaymentHarness) -> None:
    orders = [order_placed(member_id="m-5", token=await harness.token(pan))
              for pan in ("4111111111111111", "5555555555554444")]
    for order in orders:
        await harness.publish(order)
    events = [(await harness.outcome(o.order_id)).event_as(PaymentAuthorized) for o in orders]
    assert [e.card_source for e in events] == ["member", "member"]
    [member] = await harness.members()  # one 4MemAdd, then one 4MemChg: never two members for m-5
    assert member["status"] == VALID
    linked = await link_events(harness, "m-5", 2)
    assert sorted(e.replaced for e in linked) == [False, True]
