"""Renewal retries on the real handlers and fakes (R22 opt-in): a soft decline waits, the worker runs the same order
again when due (a new recorded attempt each time) until it authorizes, declines for good, or its outcome is
unknown; hard declines, exhausted tries and a closed window are final; nothing re-authorizes a final order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.events import PaymentAuthorized, PaymentDeclined, PaymentOutcomeUnknown
from services.payment.domain.attempts import AttemptStatus
from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.gateway import Outcome
from services.payment.domain.model import PaymentState
from services.payment.entrypoints.http.views import payment_out
from services.payment.handlers.retries import run_due_retries
from services.payment.handlers.status import view_payment
from services.payment.ports import GatewayAnswer, GatewayCall
from tests.fakes.payment import PaymentFakes
from tests.fakes.payment_gateway import answered
from tests.unit.payment.handlers.builders import (
    SHOP,
    inbound,
    opt_in,
    order_placed,
    outcomes,
    place,
    renewal_placed,
    with_linked_member,
)

DAY = 86_400


@pytest.fixture
async def fakes() -> PaymentFakes:
    """A shop that opted in (2 retries within 7 days) and member m-1 whose first order linked a card."""
    fakes = PaymentFakes()
    await fakes.add_shop(SHOP)
    await with_linked_member(fakes)
    await opt_in(fakes)
    return fakes


async def run(fakes: PaymentFakes) -> int:
    return await run_due_retries(fakes.deps, limit=10)


def retry_times(fakes: PaymentFakes, order_id: str) -> list[object]:
    return [e.retry_at for e in outcomes(fakes, order_id) if isinstance(e, PaymentDeclined)]


def charges(fakes: PaymentFakes, order_id: str) -> list[str]:
    attempts = sorted((a for a in fakes.state.attempts.values() if a.order_id == order_id),
                      key=lambda a: a.started_at)
    return [a.status.value for a in attempts]


async def test_a_soft_decline_is_retried_when_due_and_the_retry_authorizes(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G30"))
    event = renewal_placed()
    waiting = await place(fakes, event)
    due = fakes.clock.now() + timedelta(days=1)
    assert (waiting.state, retry_times(fakes, event.order_id)) == (PaymentState.RETRY_SCHEDULED, [due])
    fakes.clock.advance(DAY - 1)
    assert (await run(fakes), fakes.gateway.sent()) == (0, [Op.AUTH])  # not due yet
    fakes.clock.advance(1)
    assert await run(fakes) == 1
    declined, authorized = outcomes(fakes, event.order_id)
    assert isinstance(declined, PaymentDeclined) and declined.codes == ["G30"]
    assert isinstance(authorized, PaymentAuthorized) and authorized.card_source == "member"
    assert fakes.state.payments[event.order_id].state is PaymentState.AUTHORIZED
    assert (charges(fakes, event.order_id), fakes.state.retries, fakes.state.leases) == (["declined", "ok"], {}, {})
    assert fakes.state.outbox[-1].correlation_id == "sub-1"  # the renewal's chain, as its OrderPlaced said


async def test_a_hard_decline_is_final_even_for_a_shop_that_opted_in(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G60"))
    event = renewal_placed()
    payment = await place(fakes, event)
    fakes.clock.advance(30 * DAY)
    assert await run(fakes) == 0
    assert (payment.state, retry_times(fakes, event.order_id), fakes.gateway.sent()) == (
        PaymentState.DECLINED, [None], [Op.AUTH])


async def test_retries_stop_after_max_tries_with_a_final_decline(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, *[answered(Outcome.DECLINED, "G12")] * 3)
    event = renewal_placed()
    start = fakes.clock.now()
    await place(fakes, event)
    fakes.clock.advance(DAY)
    assert await run(fakes) == 1
    fakes.clock.advance(2 * DAY)
    assert await run(fakes) == 1
    fakes.clock.advance(30 * DAY)
    assert await run(fakes) == 0
    assert retry_times(fakes, event.order_id) == [start + timedelta(days=1), start + timedelta(days=3), None]
    assert (charges(fakes, event.order_id), fakes.state.retries) == (["declined"] * 3, {})
    assert fakes.state.payments[event.order_id].state is PaymentState.DECLINED


async def test_no_retry_is_due_after_the_window(fakes: PaymentFakes) -> None:
    await opt_in(fakes, max_tries=5, within_days=2)
    fakes.gateway.script(Op.AUTH, *[answered(Outcome.DECLINED, "G55")] * 5)
    event = renewal_placed()
    start = fakes.clock.now()
    await place(fakes, event)
    fakes.clock.advance(DAY)
    assert await run(fakes) == 1  # the second retry would wait 2 days: cut to the window's end, start + 2 days
    fakes.clock.advance(DAY)
    assert await run(fakes) == 1  # the window is over: final, although 3 of 5 tries are left
    fakes.clock.advance(30 * DAY)
    assert await run(fakes) == 0
    assert retry_times(fakes, event.order_id) == [start + timedelta(days=1), start + timedelta(days=2), None]
    assert charges(fakes, event.order_id) == ["declined"] * 3


async def test_a_redelivered_renewal_sends_nothing_while_its_retry_waits_or_after_it(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G54"))
    event = renewal_placed()
    first = inbound(event)
    await place(fakes, event, delivered=first)
    await place(fakes, event, delivered=first)
    await place(fakes, event)
    assert (fakes.gateway.sent(), len(outcomes(fakes, event.order_id))) == ([Op.AUTH], 1)
    fakes.clock.advance(DAY)
    await run(fakes)
    await place(fakes, event)
    assert (fakes.gateway.sent(), len(outcomes(fakes, event.order_id))) == ([Op.AUTH, Op.AUTH], 2)


async def test_two_workers_run_a_due_retry_once(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G12"))
    event = renewal_placed()
    await place(fakes, event)
    fakes.clock.advance(DAY)
    second_worker: list[int] = []

    async def while_the_first_workers_call_is_on_the_wire(call: GatewayCall) -> GatewayAnswer:
        second_worker.append(await run(fakes))
        return answered(Outcome.OK, transaction_id="1000000000777", process_id="P" * 32)

    fakes.gateway.script(Op.AUTH, while_the_first_workers_call_is_on_the_wire)
    assert (await run(fakes), second_worker) == (1, [0])
    assert (fakes.gateway.sent(), fakes.state.payments[event.order_id].state) == ([Op.AUTH] * 2,
                                                                                   PaymentState.AUTHORIZED)


async def test_an_unknown_retry_goes_to_review_and_ends_retrying(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G12"), answered(Outcome.UNKNOWN, reason="timeout"))
    event = renewal_placed()
    await place(fakes, event)
    fakes.clock.advance(DAY)
    await run(fakes)
    fakes.clock.advance(30 * DAY)
    assert await run(fakes) == 0
    assert isinstance(outcomes(fakes, event.order_id)[-1], PaymentOutcomeUnknown)
    assert (fakes.state.payments[event.order_id].state, fakes.state.retries) == (PaymentState.UNKNOWN, {})


async def test_a_retry_cut_off_after_sending_is_unknown_when_its_claim_lapses(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G12"), RuntimeError("worker died after sending"))
    event = renewal_placed()
    await place(fakes, event)
    fakes.clock.advance(DAY)
    assert await run(fakes) == 1  # the failure is logged; the row stays claimed
    assert fakes.state.payments[event.order_id].state is PaymentState.PENDING
    fakes.clock.advance(fakes.deps.policy.retry_claim_s)
    fakes.state.leases.clear()  # the dead worker's member lease expired meanwhile
    assert await run(fakes) == 1
    [unknown] = [e for e in outcomes(fakes, event.order_id) if isinstance(e, PaymentOutcomeUnknown)]
    assert (unknown.reason, fakes.gateway.sent(), fakes.state.retries) == ("interrupted", [Op.AUTH] * 2, {})


async def test_a_retry_waits_while_another_order_of_the_member_holds_the_card(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G12"))
    event = renewal_placed()
    await place(fakes, event)
    fakes.clock.advance(DAY)
    async with fakes.uow() as uow:
        assert await uow.members.lease(SHOP, "m-1", holder="ord-other", ttl_s=60)
    assert await run(fakes) == 1
    retry = fakes.state.retries[event.order_id]
    assert (retry.retries, retry.due_at, fakes.gateway.sent()) == (
        0, fakes.clock.now() + timedelta(seconds=fakes.deps.policy.member_busy_delay_s), [Op.AUTH])


async def test_a_card_changed_after_a_final_decline_counts_from_the_next_cycle(fakes: PaymentFakes) -> None:
    """R22: nothing re-authorizes the failed renewal; the next cycle's order pays with the new card."""
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G56"))
    failed = renewal_placed(cycle_no=2)
    await place(fakes, failed)
    await place(fakes, order_placed(token=fakes.gateway.token("5555555555554444").get_secret_value(),
                                    member_id="m-1"))  # the buyer pays another order with a new card: 4MemChg
    fakes.clock.advance(30 * DAY)
    assert await run(fakes) == 0
    await place(fakes, failed)  # and the failed renewal delivered again
    following = renewal_placed(cycle_no=3)
    paid = await place(fakes, following)
    assert fakes.gateway.sent() == [Op.AUTH, Op.MEM_CHG, Op.AUTH, Op.AUTH]
    assert (fakes.state.payments[failed.order_id].state, charges(fakes, failed.order_id)) == (
        PaymentState.DECLINED, [AttemptStatus.DECLINED.value])
    assert paid.state is PaymentState.AUTHORIZED


async def test_the_operator_view_shows_the_retry_a_renewal_waits_for(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G54"))
    event = renewal_placed()
    await place(fakes, event)
    view = await view_payment(fakes.deps, shop_id=SHOP, order_id=event.order_id, live=False)
    assert view is not None
    shown = payment_out(view)
    assert (shown.state, shown.renewal, shown.codes) == ("retry_scheduled", True, ["G54"])
    assert shown.retry is not None
    assert (shown.retry.due_at, shown.retry.retries) == (fakes.clock.now() + timedelta(days=1), 0)


async def test_a_running_retry_keeps_the_order_flow_of_the_same_order_waiting(fakes: PaymentFakes) -> None:
    """A redelivered OrderPlaced must not take a retry's attempt on the wire for an interrupted one (§6.2)."""
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G12"))
    event = renewal_placed()
    await place(fakes, event)
    fakes.clock.advance(DAY)
    order_flow_could_lease: list[bool] = []

    async def while_the_retry_is_on_the_wire(call: GatewayCall) -> GatewayAnswer:
        async with fakes.uow() as uow:
            order_flow_could_lease.append(await uow.members.lease(SHOP, "m-1", holder=event.order_id, ttl_s=60))
        return answered(Outcome.OK, transaction_id="1000000000778", process_id="P" * 32)

    fakes.gateway.script(Op.AUTH, while_the_retry_is_on_the_wire)
    assert (await run(fakes), order_flow_could_lease, fakes.state.leases) == (1, [False], {})


async def test_a_due_retry_the_shop_can_no_longer_send_ends_with_a_final_decline(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G12"))
    event = renewal_placed()
    await place(fakes, event)
    fakes.state.credentials.pop(SHOP)  # the shop's gateway credentials are gone meanwhile
    fakes.clock.advance(DAY)
    assert await run(fakes) == 1
    fakes.clock.advance(30 * DAY)
    assert await run(fakes) == 0
    _, final = outcomes(fakes, event.order_id)
    assert isinstance(final, PaymentDeclined)
    assert (final.reason, final.retry_at, final.codes) == ("gateway_credentials_missing", None, [])
    assert (fakes.gateway.sent(), fakes.state.retries, fakes.state.leases) == ([Op.AUTH], {}, {})
