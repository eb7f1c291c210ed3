"""The order flow's real handlers on fakes: `place_payment` (authorize once, decline, unknown, member cards) and
`resolve_payment`. Every gateway call goes through the fake gateway, which fails a call made inside a unit of
work."""

from __future__ import annotations

import pytest

from contracts.events import (
    CardLinked,
    CardUnlinked,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentOutcomeUnknown,
)
from delivery.errors import PermanentError
from services.payment.domain.cards import LinkStatus
from services.payment.domain.codes import BUYER_CARD_COMPANY, BUYER_SHOP
from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.gateway import Outcome
from services.payment.domain.model import InvalidTransition, PaymentState, Resolution
from services.payment.handlers.orders import resolve_payment
from services.payment.handlers.steps import PaymentNotFound
from services.payment.ports import GatewayAnswer
from tests.fakes.payment import PaymentFakes
from tests.fakes.payment_gateway import answered
from tests.unit.payment.handlers.builders import SHOP, inbound, order_placed, place


@pytest.fixture
async def fakes() -> PaymentFakes:
    fakes = PaymentFakes()
    await fakes.add_shop(SHOP)
    return fakes


def history(fakes: PaymentFakes, order_id: str) -> list[tuple[str, str]]:
    attempts = sorted((a for a in fakes.state.attempts.values() if a.order_id == order_id),
                      key=lambda a: a.started_at)
    return [(a.operation.value, a.status.value) for a in attempts]


async def test_a_guest_token_order_is_authorized_once_with_one_1auth(fakes: PaymentFakes) -> None:
    event = order_placed(token=fakes.gateway.token().get_secret_value(), amount=7610)
    payment = await place(fakes, event)
    [authorized] = fakes.state.emitted(PaymentAuthorized)
    assert (payment.state, fakes.gateway.sent()) == (PaymentState.AUTHORIZED, [Op.AUTH])
    assert (authorized.amount, authorized.card_source, authorized.captured) == (7610, "token", False)
    assert history(fakes, event.order_id) == [("1Auth", "ok")]
    [call] = fakes.gateway.calls
    assert (call.free1, call.free2) == (event.payment_number, "山田 太郎")  # R14


async def test_a_redelivered_order_placed_is_a_no_op(fakes: PaymentFakes) -> None:
    event = order_placed(token=fakes.gateway.token().get_secret_value())
    first = inbound(event)
    await place(fakes, event, delivered=first)
    emitted = list(fakes.state.outbox)
    await place(fakes, event, delivered=first)  # the same event again
    await place(fakes, event)  # the same order under a new event id
    assert (fakes.gateway.sent(), fakes.state.outbox) == ([Op.AUTH], emitted)


async def test_a_declined_card_is_declined_with_its_codes_and_the_r16_message(fakes: PaymentFakes) -> None:
    event = order_placed(token=fakes.gateway.token("4000000000000002").get_secret_value())
    payment = await place(fakes, event)
    [declined] = fakes.state.emitted(PaymentDeclined)
    assert (payment.state, declined.codes, declined.buyer_message) == (PaymentState.DECLINED, ["G12"],
                                                                       BUYER_CARD_COMPANY)


def processed_then(fakes: PaymentFakes, ending: GatewayAnswer | BaseException):
    """A scripted call the gateway processes (spending the token) before its reply is lost or its sender dies."""
    async def on_the_wire(call):
        fakes.gateway.process(call)
        if isinstance(ending, BaseException):
            raise ending
        return ending

    return on_the_wire


async def test_an_unknown_outcome_is_reported_and_never_sent_again(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, processed_then(fakes, answered(Outcome.UNKNOWN, reason="timeout")))
    event = order_placed(token=fakes.gateway.token().get_secret_value())
    await place(fakes, event)
    await place(fakes, event)
    [unknown] = fakes.state.emitted(PaymentOutcomeUnknown)
    assert (unknown.operation, unknown.reason) == ("1Auth", "timeout")
    assert fakes.gateway.sent() == [Op.AUTH, Op.TOKEN_SEARCH]  # the probe found the token spent (KI2)


async def test_an_attempt_interrupted_after_sending_is_unknown_when_the_order_comes_back(
        fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, processed_then(fakes, RuntimeError("process died after sending")))
    event = order_placed(token=fakes.gateway.token().get_secret_value())
    with pytest.raises(RuntimeError):
        await place(fakes, event)
    payment = await place(fakes, event)
    [unknown] = fakes.state.emitted(PaymentOutcomeUnknown)
    assert (payment.state, unknown.reason) == (PaymentState.UNKNOWN, "interrupted")
    assert fakes.gateway.sent() == [Op.AUTH, Op.TOKEN_SEARCH]


async def test_an_unknown_token_charge_whose_token_is_unspent_is_sent_again_not_reviewed(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.UNKNOWN, reason="http_5xx"))  # never processed
    event = order_placed(token=fakes.gateway.token().get_secret_value())
    payment = await place(fakes, event)
    assert payment.state is PaymentState.AUTHORIZED and not fakes.state.emitted(PaymentOutcomeUnknown)
    assert history(fakes, event.order_id) == [("1Auth", "not_sent"), ("1TokenSearch", "ok"), ("1Auth", "ok")]


async def test_a_charge_interrupted_before_the_gateway_processed_it_is_probed_and_sent_again(
        fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, RuntimeError("process died before the call arrived"))
    event = order_placed(token=fakes.gateway.token().get_secret_value())
    with pytest.raises(RuntimeError):
        await place(fakes, event)
    payment = await place(fakes, event)
    assert payment.state is PaymentState.AUTHORIZED and not fakes.state.emitted(PaymentOutcomeUnknown)
    assert fakes.gateway.sent() == [Op.AUTH, Op.TOKEN_SEARCH, Op.AUTH]


async def test_a_probe_of_unknown_outcome_proves_nothing_and_the_charge_stays_unknown(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.UNKNOWN, reason="timeout"))
    fakes.gateway.script(Op.TOKEN_SEARCH, answered(Outcome.UNKNOWN, reason="timeout"))
    event = order_placed(token=fakes.gateway.token().get_secret_value())
    payment = await place(fakes, event)
    assert payment.state is PaymentState.UNKNOWN and fakes.gateway.sent() == [Op.AUTH, Op.TOKEN_SEARCH]


async def test_a_call_that_never_left_is_sent_again_within_the_budget_then_declined(fakes: PaymentFakes) -> None:
    fakes.gateway.down = True
    event = order_placed(token=fakes.gateway.token().get_secret_value())
    payment = await place(fakes, event)
    assert (payment.state, payment.reason) == (PaymentState.DECLINED, "gateway_unreachable")
    assert history(fakes, event.order_id) == [("1Auth", "not_sent")] * 3


async def test_a_shop_without_credentials_is_declined_without_a_gateway_call(fakes: PaymentFakes) -> None:
    event = order_placed(token=fakes.gateway.token().get_secret_value(), shop_id="shop-2")
    payment = await place(fakes, event)
    [declined] = fakes.state.emitted(PaymentDeclined)
    assert (payment.reason, declined.buyer_message, fakes.gateway.calls) == ("gateway_credentials_missing",
                                                                            BUYER_SHOP, [])


async def test_a_k40_decline_voids_the_hold_it_left(fakes: PaymentFakes) -> None:
    event = order_placed(token=fakes.gateway.token("4000000000000036").get_secret_value())
    await place(fakes, event)
    assert history(fakes, event.order_id) == [("1Auth", "declined"), ("1Delete", "ok")]
    [void] = [c for c in fakes.gateway.calls if c.operation is Op.DELETE]
    assert void.process is not None  # the pair of the hold the K40 reply named


async def test_an_order_under_an_event_id_used_before_with_another_body_is_paid_once_then_dead_lettered(
        fakes: PaymentFakes) -> None:
    """The claim comes last, in the unit that applies the last answer: its refusal must not undo that unit (the
    charge stands, recorded, announced) nor keep the member's card lease; the record is dead-lettered after."""
    first = order_placed(token=fakes.gateway.token().get_secret_value())
    used = inbound(first)
    await place(fakes, first, delivered=used)
    other = order_placed(token=fakes.gateway.token().get_secret_value(), member_id="m-1")
    with pytest.raises(PermanentError, match="idempotency_key_reused"):
        await place(fakes, other, delivered=inbound(other, event_id=used.envelope.event_id))
    assert history(fakes, other.order_id) == [("4MemAdd", "ok"), ("1Auth", "ok")]
    assert [e.order_id for e in fakes.state.emitted(PaymentAuthorized)] == [first.order_id, other.order_id]
    assert fakes.state.leases == {}


async def test_a_member_order_links_the_card_then_charges_the_member(fakes: PaymentFakes) -> None:
    event = order_placed(token=fakes.gateway.token().get_secret_value(), member_id="m-1")
    payment = await place(fakes, event)
    [linked] = fakes.state.emitted(CardLinked)
    [authorized] = fakes.state.emitted(PaymentAuthorized)
    assert fakes.gateway.sent() == [Op.MEM_ADD, Op.AUTH]
    assert (linked.member_id, linked.replaced, authorized.card_source) == ("m-1", False, "member")
    assert fakes.state.cards[payment.kaiin_id or ""].status is LinkStatus.ACTIVE
    assert fakes.state.leases == {}  # the member's card lease is released


async def test_a_registered_card_pays_without_a_token_and_another_card_replaces_it(fakes: PaymentFakes) -> None:
    await place(fakes, order_placed(token=fakes.gateway.token().get_secret_value(), member_id="m-1"))
    registered = await place(fakes, order_placed(member_id="m-1", registered=True))
    replaced = await place(fakes, order_placed(token=fakes.gateway.token("5555555555554444").get_secret_value(),
                                               member_id="m-1"))
    assert fakes.gateway.sent() == [Op.MEM_ADD, Op.AUTH, Op.AUTH, Op.MEM_CHG, Op.AUTH]
    assert registered.kaiin_id == replaced.kaiin_id
    assert [e.replaced for e in fakes.state.emitted(CardLinked)] == [False, True]


async def test_an_order_that_must_not_keep_the_card_pays_by_token_and_removes_the_link(fakes: PaymentFakes) -> None:
    first = await place(fakes, order_placed(token=fakes.gateway.token().get_secret_value(), member_id="m-1"))
    paid = await place(fakes, order_placed(token=fakes.gateway.token().get_secret_value(), member_id="m-1",
                                           link_mode="never"))
    [unlinked] = fakes.state.emitted(CardUnlinked)
    assert fakes.gateway.sent()[2:] == [Op.AUTH, Op.MEM_INVAL, Op.MEM_DEL]
    assert (paid.plan and paid.plan.source.value, unlinked.reason) == ("token", "link_mode_never")
    assert fakes.state.cards[first.kaiin_id or ""].status is LinkStatus.DELETED


async def test_a_declined_link_declines_the_order_without_charging(fakes: PaymentFakes) -> None:
    event = order_placed(token=fakes.gateway.token("4000000000000002").get_secret_value(), member_id="m-1")
    payment = await place(fakes, event)
    [declined] = fakes.state.emitted(PaymentDeclined)
    assert (declined.operation, declined.codes, fakes.gateway.sent()) == ("4MemAdd", ["G12"], [Op.MEM_ADD])
    assert fakes.state.cards[payment.kaiin_id or ""].status is LinkStatus.FAILED


async def test_an_operator_resolves_an_unknown_outcome_as_authorized(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, processed_then(fakes, answered(Outcome.UNKNOWN, reason="connection_reset")))
    event = order_placed(token=fakes.gateway.token().get_secret_value())
    await place(fakes, event)
    resolution = Resolution(authorized=True, transaction_id="1000000000077", approval_number="1234567")
    payment = await resolve_payment(fakes.deps, resolution, shop_id=SHOP, order_id=event.order_id)
    [authorized] = fakes.state.emitted(PaymentAuthorized)
    [attempt] = [a for a in fakes.state.attempts.values() if a.operation is Op.AUTH]
    assert (payment.state, authorized.resolution, attempt.resolution) == (PaymentState.AUTHORIZED, "operator",
                                                                          "authorized")
    assert fakes.state.outbox[-1].correlation_id == event.checkout_id  # no inbound: the order's checkout
    with pytest.raises(InvalidTransition):
        await resolve_payment(fakes.deps, Resolution(authorized=False), shop_id=SHOP, order_id=event.order_id)


async def test_resolving_another_shops_payment_is_not_found(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, processed_then(fakes, answered(Outcome.UNKNOWN, reason="timeout")))
    event = order_placed(token=fakes.gateway.token().get_secret_value())
    await place(fakes, event)
    with pytest.raises(PaymentNotFound):
        await resolve_payment(fakes.deps, Resolution(authorized=False), shop_id="shop-2", order_id=event.order_id)


async def test_the_fake_gateway_refuses_a_call_made_inside_a_unit_of_work(fakes: PaymentFakes) -> None:
    """The guard every test above relies on: sending while a transaction is open fails the test."""
    event = order_placed(token=fakes.gateway.token().get_secret_value())
    await place(fakes, event)
    async with fakes.uow():
        with pytest.raises(AssertionError, match="inside a unit of work"):
            await fakes.gateway.send(fakes.gateway.calls[0])
