"""The janitor (design §6.9): a payment whose order-flow call is still `sending` past the deadline (its worker died
and the order never came back) is settled as unknown, in front of an operator; a recent one is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.events import PaymentOutcomeUnknown
from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.model import PaymentState
from services.payment.handlers.janitor import sweep_stuck
from tests.fakes.payment import PaymentFakes
from tests.unit.payment.handlers.builders import SHOP, order_placed, place

STUCK_AFTER = timedelta(seconds=300)


@pytest.fixture
async def fakes() -> PaymentFakes:
    fakes = PaymentFakes()
    await fakes.add_shop(SHOP)
    return fakes


async def died_mid_call(fakes: PaymentFakes, **changes) -> str:
    """An order whose 1Auth was recorded and sent, then its worker died (the event is never redelivered)."""
    fakes.gateway.script(Op.AUTH, RuntimeError("worker killed while the call was on the wire"))
    event = order_placed(token=fakes.gateway.token().get_secret_value(), **changes)
    with pytest.raises(RuntimeError):
        await place(fakes, event)
    return event.order_id


async def test_a_call_sending_past_the_deadline_is_settled_as_unknown_and_reported(fakes: PaymentFakes) -> None:
    order_id = await died_mid_call(fakes)
    assert await sweep_stuck(fakes.deps, stuck_after=STUCK_AFTER, limit=10) == 0  # not stuck yet: maybe alive
    fakes.clock.advance(301)
    assert await sweep_stuck(fakes.deps, stuck_after=STUCK_AFTER, limit=10) == 1
    async with fakes.uow() as uow:
        payment = await uow.payments.get(order_id)
    [unknown] = fakes.state.emitted(PaymentOutcomeUnknown)
    assert payment is not None and payment.state is PaymentState.UNKNOWN
    assert (unknown.order_id, unknown.reason) == (order_id, "interrupted")
    assert fakes.gateway.sent() == [Op.AUTH]  # never sent again, never probed (the janitor has no token)
    assert await sweep_stuck(fakes.deps, stuck_after=STUCK_AFTER, limit=10) == 0  # once
    assert fakes.state.janitor_findings == [(order_id, "unknown")]  # recorded with it: the metric counts these


async def test_a_sweep_settles_at_most_its_batch(fakes: PaymentFakes) -> None:
    for _ in range(3):
        await died_mid_call(fakes)
    fakes.clock.advance(301)
    assert await sweep_stuck(fakes.deps, stuck_after=STUCK_AFTER, limit=2) == 2
    assert await sweep_stuck(fakes.deps, stuck_after=STUCK_AFTER, limit=2) == 1
    assert len(fakes.state.emitted(PaymentOutcomeUnknown)) == 3
