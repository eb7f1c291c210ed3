"""Renewal orders on the real handlers and fakes (design §6.6, R19-R22): skipped ones (R21) are only recorded;
the others are charged by member in the renewal's sales mode, never linking; a decline is final unless the shop
opted in to retries, which then run the same order again (soft declines only) until it authorizes or ends."""

from __future__ import annotations

import pytest

from contracts.events import PaymentAuthorized, PaymentDeclined, PaymentOutcomeUnknown
from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.gateway import Outcome
from services.payment.domain.model import PaymentState
from services.payment.handlers.retries import run_due_retries
from tests.fakes.payment import PaymentFakes
from tests.fakes.payment_gateway import answered
from tests.unit.payment.handlers.builders import (
    SHOP,
    inbound,
    opt_in,
    outcomes,
    place,
    renewal_placed,
    with_linked_member,
)

DAY = 86_400


@pytest.fixture
async def fakes() -> PaymentFakes:
    """A shop with credentials and member m-1 whose first (subscription) order linked a card."""
    fakes = PaymentFakes()
    await fakes.add_shop(SHOP)
    await with_linked_member(fakes)
    return fakes


# -- R21: skipped -----------------------------------------------------------------------------------------------
async def test_a_skipped_renewal_is_recorded_without_a_gateway_call_or_an_event(fakes: PaymentFakes) -> None:
    emitted = list(fakes.state.outbox)
    event = renewal_placed(skip_reason="authorize_at_renewal_off")
    payment = await place(fakes, event)
    assert (payment.state, payment.reason) == (PaymentState.SKIPPED, "authorize_at_renewal_off")
    assert (fakes.gateway.calls, fakes.state.outbox, fakes.state.leases) == ([], emitted, {})


async def test_a_skipped_renewal_delivered_again_changes_nothing(fakes: PaymentFakes) -> None:
    event = renewal_placed(skip_reason="outside_contract_period")
    first = inbound(event)
    await place(fakes, event, delivered=first)
    stored, emitted = fakes.state.payments[event.order_id], list(fakes.state.outbox)
    await place(fakes, event, delivered=first)
    await place(fakes, event)  # a copy under a new event id
    assert (fakes.state.payments[event.order_id], fakes.state.outbox, fakes.gateway.calls) == (stored, emitted, [])


# -- charged by member ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("sales_mode", "operation", "captured"), [("auth", Op.AUTH, False),
                                                                   ("auth_capture", Op.GATHERING, True)])
async def test_a_renewal_charges_the_stored_card_by_member_in_its_sales_mode(
        fakes: PaymentFakes, sales_mode: str, operation: Op, captured: bool) -> None:
    event = renewal_placed(sales_mode=sales_mode, link_mode="never")
    payment = await place(fakes, event)
    [authorized] = outcomes(fakes, event.order_id)
    [call] = fakes.gateway.calls
    assert (call.operation, call.token, call.member is not None) == (operation, None, True)
    assert isinstance(authorized, PaymentAuthorized)
    assert (authorized.card_source, authorized.captured, payment.renewal) == ("member", captured, True)
    assert payment.plan is not None and (payment.plan.link, payment.plan.unlink_after) == (None, False)


async def test_a_declined_renewal_is_final_by_default(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G12"))
    event = renewal_placed()
    payment = await place(fakes, event)
    [declined] = outcomes(fakes, event.order_id)
    assert isinstance(declined, PaymentDeclined)
    assert (payment.state, declined.codes, declined.retry_at) == (PaymentState.DECLINED, ["G12"], None)
    assert fakes.state.retries == {}


async def test_a_member_without_a_registered_card_is_declined_without_a_gateway_call(fakes: PaymentFakes) -> None:
    event = renewal_placed(member_id="m-without-card")
    payment = await place(fakes, event)
    [declined] = outcomes(fakes, event.order_id)
    assert isinstance(declined, PaymentDeclined)
    assert (payment.state, declined.reason, fakes.gateway.calls) == (PaymentState.DECLINED, "no_registered_card", [])


async def test_a_member_the_gateway_does_not_know_is_declined_as_no_registered_card(fakes: PaymentFakes) -> None:
    await opt_in(fakes)
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "K71"))
    event = renewal_placed()
    await place(fakes, event)
    [declined] = outcomes(fakes, event.order_id)
    assert isinstance(declined, PaymentDeclined)
    assert (declined.reason, declined.codes, declined.retry_at) == ("no_registered_card", ["K71"], None)


async def test_an_unknown_renewal_outcome_goes_to_review_and_is_never_retried(fakes: PaymentFakes) -> None:
    await opt_in(fakes)
    fakes.gateway.script(Op.AUTH, answered(Outcome.UNKNOWN, reason="timeout"))
    event = renewal_placed()
    payment = await place(fakes, event)
    fakes.clock.advance(30 * DAY)
    assert await run_due_retries(fakes.deps, limit=10) == 0
    await place(fakes, event)
    [unknown] = outcomes(fakes, event.order_id)
    assert isinstance(unknown, PaymentOutcomeUnknown)
    assert (payment.state, fakes.gateway.sent(), fakes.state.retries) == (PaymentState.UNKNOWN, [Op.AUTH], {})
