"""Card changes whose outcome is unknown, interrupted or concurrent, through the real handlers on fakes (design
§6.2, §6.8): an unknown 4MemAdd/4MemChg/4MemInval/4MemDel is never sent again; the member's next card request (or
an order of the member, or an operator's resolve) reads the member with 4MemRefM and records what happened,
announcing a change exactly once; one member's card work runs one at a time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress

import pytest

from contracts.events import CardLinked, CardReplaced, CardUnlinked, Event
from services.payment.domain.card_changes import ChangeState
from services.payment.domain.card_rules import CardRefused
from services.payment.domain.cards import LinkStatus
from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.gateway import Outcome
from services.payment.handlers.cards import (
    CardChangePending,
    customer_card,
    delete_card,
    register_card,
    replace_card,
    resolve_card_change,
    view_card,
)
from services.payment.ports import GatewayAnswer, GatewayCall
from tests.fakes.payment import PaymentFakes
from tests.fakes.payment_gateway import answered
from tests.unit.payment.handlers.builders import SHOP, order_placed, place
from tests.unit.payment.handlers.card_builders import MEMBER, card_shop, my_page, registered

VISA, MASTERCARD = "4111111111111111", "5555555555554444"
LOST = answered(Outcome.UNKNOWN, reason="timeout")


@pytest.fixture
async def fakes() -> PaymentFakes:
    fakes = PaymentFakes()
    await card_shop(fakes)
    return fakes


def card_events(fakes: PaymentFakes) -> list[Event]:
    return [e for e in fakes.state.emitted() if isinstance(e, CardLinked | CardReplaced | CardUnlinked)]


async def lost_reply(fakes: PaymentFakes, op: Op) -> None:
    """The gateway processes the next `op` but its reply is lost on the way back."""
    async def processed_then_lost(call: GatewayCall) -> GatewayAnswer:
        fakes.gateway.process(call)
        return LOST
    fakes.gateway.script(op, processed_then_lost)


async def test_an_unknown_registration_is_answered_as_such_and_sent_only_once(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.MEM_ADD, LOST)
    outcome = await register_card(fakes.deps, my_page(), fakes.gateway.token())
    assert (outcome.change.state, fakes.gateway.sent()) == (ChangeState.UNKNOWN, [Op.MEM_ADD])
    assert (outcome.view.pending is not None, card_events(fakes)) == (True, [])


async def test_a_registration_that_happened_is_found_by_the_next_request_and_announced_once(
        fakes: PaymentFakes) -> None:
    await lost_reply(fakes, Op.MEM_ADD)
    first = await register_card(fakes.deps, my_page(), fakes.gateway.token(VISA))
    view = await view_card(fakes.deps, my_page())
    again = await view_card(fakes.deps, my_page())
    [linked] = card_events(fakes)
    assert isinstance(linked, CardLinked) and linked.card_expiry == "2030-12"
    assert (view.linked, view.pending, again.pending) == (True, None, None)
    assert fakes.gateway.sent(Op.MEM_ADD) == [Op.MEM_ADD]
    assert fakes.state.cards[first.change.kaiin_id].status is LinkStatus.ACTIVE


async def test_a_registration_that_did_not_happen_is_found_failed_and_a_new_one_may_start(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.MEM_ADD, LOST)  # never reached the gateway, we cannot know
    first = await register_card(fakes.deps, my_page(), fakes.gateway.token())
    second = await register_card(fakes.deps, my_page(), fakes.gateway.token(MASTERCARD))
    assert fakes.gateway.sent() == [Op.MEM_ADD, Op.MEM_REF, Op.MEM_ADD, Op.MEM_REF]
    assert fakes.state.card_changes[first.change.change_id].reason == "card_change_not_made"
    assert (second.change.state, fakes.state.cards[first.change.kaiin_id].status) == (ChangeState.DONE,
                                                                                      LinkStatus.FAILED)
    assert len(card_events(fakes)) == 1


async def test_an_unknown_replacement_is_recognised_by_the_card_the_gateway_now_shows(fakes: PaymentFakes) -> None:
    await registered(fakes, VISA)
    await lost_reply(fakes, Op.MEM_CHG)
    lost = await replace_card(fakes.deps, my_page(), fakes.gateway.token(MASTERCARD, "3101"))
    view = await view_card(fakes.deps, my_page())
    [_, replaced] = card_events(fakes)
    assert lost.change.state is ChangeState.UNKNOWN
    assert isinstance(replaced, CardReplaced) and replaced.card_expiry == "2031-01"
    assert view.face is not None and view.face.masked == "5555********4444"


async def test_an_unknown_replacement_that_did_not_happen_keeps_the_card_and_announces_nothing(
        fakes: PaymentFakes) -> None:
    await registered(fakes, VISA)
    fakes.gateway.script(Op.MEM_CHG, LOST)
    await replace_card(fakes.deps, my_page(), fakes.gateway.token(MASTERCARD))
    view = await view_card(fakes.deps, my_page())
    assert view.face is not None and (view.face.masked, view.pending) == ("4111********1111", None)
    assert len(card_events(fakes)) == 1  # the registration only


@pytest.mark.parametrize("lost_op", [Op.MEM_INVAL, Op.MEM_DEL])
async def test_an_unknown_removal_step_is_read_and_the_removal_finished(fakes: PaymentFakes, lost_op: Op) -> None:
    first = await registered(fakes)
    await lost_reply(fakes, lost_op)
    lost = await delete_card(fakes.deps, my_page())
    await view_card(fakes.deps, my_page())
    assert lost.change.state is ChangeState.UNKNOWN
    assert fakes.gateway.member_card(first.change.kaiin_id) == (VISA, "deleted")
    assert [type(e) for e in card_events(fakes)] == [CardLinked, CardUnlinked]
    assert fakes.gateway.sent(lost_op) == [lost_op]  # never sent again


async def test_an_invalidation_that_did_not_happen_is_sent_once_known_not_done(fakes: PaymentFakes) -> None:
    first = await registered(fakes)
    fakes.gateway.script(Op.MEM_INVAL, LOST)
    await delete_card(fakes.deps, my_page())
    await resolve_card_change(fakes.deps, shop_id=SHOP, member_id=MEMBER)
    assert fakes.gateway.sent() == [Op.MEM_INVAL, Op.MEM_REF, Op.MEM_INVAL, Op.MEM_DEL]
    assert fakes.gateway.member_card(first.change.kaiin_id) == (VISA, "deleted")


async def test_an_unresolvable_change_blocks_the_next_one_and_the_page_shows_it(fakes: PaymentFakes) -> None:
    await registered(fakes)
    fakes.gateway.script(Op.MEM_CHG, LOST)
    await replace_card(fakes.deps, my_page(), fakes.gateway.token(MASTERCARD))
    fakes.gateway.script(Op.MEM_REF, LOST)  # the read that would resolve it is lost too
    with pytest.raises(CardChangePending) as pending:
        await delete_card(fakes.deps, my_page())
    customer = await customer_card(fakes.deps, shop_id=SHOP, member_id=MEMBER)
    assert pending.value.change.state is ChangeState.UNKNOWN
    assert customer.pending is not None and customer.pending.kind.value == "replace"
    assert Op.MEM_INVAL not in fakes.gateway.sent()


async def test_a_change_whose_process_stopped_after_sending_is_resolved_not_resent(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.MEM_ADD, _processed_then_crashed(fakes))
    with pytest.raises(SystemExit):
        await register_card(fakes.deps, my_page(), fakes.gateway.token())
    fakes.state.leases.clear()  # the crashed request's lease expired
    view = await view_card(fakes.deps, my_page())
    assert (view.linked, fakes.gateway.sent(Op.MEM_ADD)) == (True, [Op.MEM_ADD])
    assert [type(e) for e in card_events(fakes)] == [CardLinked]


def _processed_then_crashed(fakes: PaymentFakes) -> Callable[[GatewayCall], Awaitable[GatewayAnswer]]:
    async def crash(call: GatewayCall) -> GatewayAnswer:
        fakes.gateway.process(call)
        raise SystemExit("the process died while the reply was on its way")
    return crash


async def test_an_order_of_the_member_settles_an_open_change_before_it_links(fakes: PaymentFakes) -> None:
    await lost_reply(fakes, Op.MEM_ADD)
    first = await register_card(fakes.deps, my_page(), fakes.gateway.token(VISA))
    await place(fakes, order_placed(token=fakes.gateway.token(MASTERCARD).get_secret_value(), member_id=MEMBER))
    assert fakes.gateway.sent()[1:] == [Op.MEM_REF, Op.MEM_CHG, Op.AUTH]  # the registered member, replaced
    assert fakes.gateway.member_card(first.change.kaiin_id) == (MASTERCARD, "valid")
    assert [card.kaiin_id for card in fakes.state.cards.values()] == [first.change.kaiin_id]  # no orphan id


async def test_a_card_request_waits_for_the_members_other_card_work_then_is_refused() -> None:
    fakes = PaymentFakes(card_busy_wait_s=0.05)
    await card_shop(fakes)
    async with fakes.uow() as uow:
        await uow.members.lease(SHOP, MEMBER, holder="ord-1", ttl_s=60.0)  # an order of the member is running
    with pytest.raises(CardRefused) as busy:
        await register_card(fakes.deps, my_page(), fakes.gateway.token())
    assert (busy.value.reason_code, fakes.gateway.sent()) == ("card_busy", [])


async def test_an_operator_resolve_without_an_open_change_is_refused(fakes: PaymentFakes) -> None:
    await registered(fakes)
    with pytest.raises(CardRefused) as refused:
        await resolve_card_change(fakes.deps, shop_id=SHOP, member_id=MEMBER)
    assert refused.value.reason_code == "no_open_card_change"


async def test_a_request_that_failed_midway_leaves_the_lease_free(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.MEM_ADD, RuntimeError("a bug"))
    with suppress(RuntimeError):
        await register_card(fakes.deps, my_page(), fakes.gateway.token())
    assert fakes.state.leases == {}
