"""A subscription order that links the member's card reads it once (4MemRefM) before announcing `CardLinked`, so
the subscription service learns the card's expiry (its expiring-card warning); a read that fails never fails or
delays the order, and other carts make no read."""

from __future__ import annotations

import pytest

from contracts.events import CardLinked, PaymentAuthorized
from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.gateway import Outcome
from services.payment.domain.model import PaymentState
from tests.fakes.payment import PaymentFakes
from tests.fakes.payment_gateway import answered
from tests.unit.payment.handlers.builders import SHOP, order_placed, place


@pytest.fixture
async def fakes() -> PaymentFakes:
    fakes = PaymentFakes()
    await fakes.add_shop(SHOP)
    return fakes


def history(fakes: PaymentFakes, order_id: str) -> list[tuple[str, str]]:
    attempts = sorted((a for a in fakes.state.attempts.values() if a.order_id == order_id),
                      key=lambda a: a.started_at)
    return [(a.operation.value, a.status.value) for a in attempts]


async def test_a_subscription_first_order_announces_the_linked_cards_expiry(fakes: PaymentFakes) -> None:
    token = fakes.gateway.token("4111111111111111", exp="2711").get_secret_value()
    event = order_placed(token=token, member_id="m-1", cart_type="subscription")
    payment = await place(fakes, event)
    [linked] = fakes.state.emitted(CardLinked)
    assert fakes.gateway.sent() == [Op.MEM_ADD, Op.MEM_REF, Op.AUTH]
    assert (linked.card_expiry, linked.masked_card, linked.replaced) == ("2027-11", "4111********1111", False)
    assert history(fakes, event.order_id) == [("4MemAdd", "ok"), ("4MemRefM", "ok"), ("1Auth", "ok")]
    assert fakes.state.cards[payment.kaiin_id or ""].card_expiry == "2027-11"  # the card page needs no read


async def test_a_subscription_order_replacing_the_card_announces_the_new_cards_expiry(fakes: PaymentFakes) -> None:
    await place(fakes, order_placed(token=fakes.gateway.token().get_secret_value(), member_id="m-1"))
    token = fakes.gateway.token("5555555555554444", exp="2804").get_secret_value()
    await place(fakes, order_placed(token=token, member_id="m-1", cart_type="subscription"))
    replaced = fakes.state.emitted(CardLinked)[-1]
    assert fakes.gateway.sent()[2:] == [Op.MEM_CHG, Op.MEM_REF, Op.AUTH]
    assert (replaced.replaced, replaced.card_expiry) == (True, "2028-04")


@pytest.mark.parametrize("outcome", [Outcome.UNKNOWN, Outcome.NOT_SENT, Outcome.DECLINED])
async def test_a_failed_read_announces_the_link_without_expiry_and_the_order_is_authorized(
        fakes: PaymentFakes, outcome: Outcome) -> None:
    fakes.gateway.script(Op.MEM_REF, answered(outcome, reason="timeout"))
    event = order_placed(token=fakes.gateway.token().get_secret_value(), member_id="m-1", cart_type="subscription")
    payment = await place(fakes, event)
    [linked] = fakes.state.emitted(CardLinked)
    [authorized] = fakes.state.emitted(PaymentAuthorized)
    assert (linked.card_expiry, linked.masked_card) == (None, None)
    assert (payment.state, authorized.card_source) == (PaymentState.AUTHORIZED, "member")
    assert fakes.gateway.sent() == [Op.MEM_ADD, Op.MEM_REF, Op.AUTH]  # one read, never sent again


async def test_a_read_interrupted_after_sending_announces_the_link_without_expiry_when_the_order_comes_back(
        fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.MEM_REF, RuntimeError("process died after sending"))
    event = order_placed(token=fakes.gateway.token().get_secret_value(), member_id="m-1", cart_type="subscription")
    with pytest.raises(RuntimeError):
        await place(fakes, event)
    assert fakes.state.emitted(CardLinked) == []
    payment = await place(fakes, event)
    [linked] = fakes.state.emitted(CardLinked)
    assert (payment.state, linked.card_expiry) == (PaymentState.AUTHORIZED, None)
    assert fakes.gateway.sent() == [Op.MEM_ADD, Op.MEM_REF, Op.AUTH]


async def test_a_three_step_order_that_links_the_card_makes_no_read(fakes: PaymentFakes) -> None:
    event = order_placed(token=fakes.gateway.token().get_secret_value(), member_id="m-1", cart_type="three_step")
    await place(fakes, event)
    [linked] = fakes.state.emitted(CardLinked)
    assert fakes.gateway.sent() == [Op.MEM_ADD, Op.AUTH]
    assert (linked.card_expiry, linked.masked_card) == (None, None)
