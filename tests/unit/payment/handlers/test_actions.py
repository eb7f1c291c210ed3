"""Operator actions through the real handlers on fakes: capture, cancel, amount update (1Change, or 1ReAuth then
the release of the old hold), refusals, commands applied once, unknown steps and their resolution, an action
that outlived its lease, and bulk capture."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from contracts.events import (
    CapturePayment,
    OrderAmountChanged,
    PaymentAmountUpdated,
    PaymentCanceled,
    PaymentCaptured,
    PaymentOperationFailed,
)
from contracts.events.common import Line, Shipping
from services.payment.domain.actions import Action, ActionRequest
from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.gateway import Outcome, Reply
from services.payment.domain.model import PaymentState
from services.payment.handlers.actions import capture_orders, record_order_total, resolve_action, run_action
from services.payment.handlers.steps import PaymentNotFound
from services.payment.ports import GatewayAnswer
from services.payment.translate import action_request
from tests.fakes.payment import PaymentFakes
from tests.fakes.payment_gateway import answered
from tests.unit.payment.handlers.builders import SHOP, authorized_order, inbound

CAPTURE = ActionRequest(Action.CAPTURE, "ops-1")


@pytest.fixture
async def fakes() -> PaymentFakes:
    fakes = PaymentFakes(action_lease_s=60.0)
    await fakes.add_shop(SHOP)
    return fakes


async def act(fakes: PaymentFakes, order_id: str, request: ActionRequest = CAPTURE):
    return await run_action(fakes.deps, request, shop_id=SHOP, order_id=order_id)


async def edit_total(fakes: PaymentFakes, order_id: str, total: int) -> None:
    await record_order_total(fakes.deps, total, shop_id=SHOP, order_id=order_id)


async def test_capture_records_the_sale_with_todays_jst_sales_date(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    result = await act(fakes, order.order_id)
    [captured] = fakes.state.emitted(PaymentCaptured)
    [call] = [c for c in fakes.gateway.calls if c.operation is Op.CAPTURE]
    assert (result.outcome, result.payment and result.payment.state) == ("succeeded", PaymentState.CAPTURED)
    assert (captured.amount, captured.requested_by, call.sales_date) == (5500, "ops-1", fakes.clock.now().date())
    assert fakes.state.outbox[-1].correlation_id == order.checkout_id  # an HTTP call: the order's checkout


async def test_cancel_voids_the_hold(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    result = await act(fakes, order.order_id, ActionRequest(Action.CANCEL))
    [canceled] = fakes.state.emitted(PaymentCanceled)
    assert (result.outcome, canceled.amount, fakes.gateway.sent()) == ("succeeded", 5500, [Op.AUTH, Op.DELETE])


async def test_an_increase_makes_a_new_hold_first_then_releases_the_old_one(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    await edit_total(fakes, order.order_id, 7200)
    refused = await act(fakes, order.order_id)
    result = await act(fakes, order.order_id, ActionRequest(Action.UPDATE_AMOUNT))
    [updated] = fakes.state.emitted(PaymentAmountUpdated)
    [release] = [c for c in fakes.gateway.calls if c.operation is Op.DELETE]
    assert (refused.outcome, refused.code) == ("refused", "update_required")
    assert fakes.gateway.sent() == [Op.AUTH, Op.REAUTH, Op.SEARCH, Op.DELETE]  # the fake: a new transaction
    assert (updated.previous_amount, updated.amount, updated.previous_hold_released) == (5500, 7200, True)
    assert result.payment is not None and release.process is not None
    assert release.process.process_id != result.payment.process_id  # the old hold, not the new one
    assert fakes.state.previous_passes == {}  # the old hold's ProcessPass is gone with it


async def test_a_decrease_is_one_1change(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    await edit_total(fakes, order.order_id, 4300)
    result = await act(fakes, order.order_id, ActionRequest(Action.UPDATE_AMOUNT))
    assert (result.outcome, fakes.gateway.sent()) == ("succeeded", [Op.AUTH, Op.CHANGE])
    assert result.payment is not None and result.payment.amount == 4300


async def test_a_refused_command_is_published_and_a_refused_http_request_is_only_answered(
        fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes, sales_mode="auth_capture")
    answered_only = await act(fakes, order.order_id)
    command = CapturePayment(order_id=order.order_id, shop_id=SHOP, requested_by="bot")
    by_command = await run_action(fakes.deps, CAPTURE, shop_id=SHOP, order_id=order.order_id,
                                  inbound=inbound(command))
    [failed] = fakes.state.emitted(PaymentOperationFailed)
    assert (answered_only.code, by_command.code) == ("sales_mode_auth_capture", "sales_mode_auth_capture")
    assert (failed.outcome, failed.reason, fakes.gateway.sent()) == ("refused", "sales_mode_auth_capture",
                                                                     [Op.GATHERING])


async def test_a_command_naming_a_total_payment_has_not_heard_of_is_refused_as_stale(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    command = CapturePayment(order_id=order.order_id, shop_id=SHOP, requested_by="bot", order_total=6100)
    result = await run_action(fakes.deps, action_request(command), shop_id=SHOP, order_id=order.order_id,
                              inbound=inbound(command))
    [failed] = fakes.state.emitted(PaymentOperationFailed)
    assert (result.code, failed.outcome, failed.reason) == ("order_total_stale", "refused", "order_total_stale")
    assert fakes.gateway.sent() == [Op.AUTH]


async def test_a_redelivered_command_is_applied_once(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    delivered = inbound(CapturePayment(order_id=order.order_id, shop_id=SHOP))
    first = await run_action(fakes.deps, CAPTURE, shop_id=SHOP, order_id=order.order_id, inbound=delivered)
    again = await run_action(fakes.deps, CAPTURE, shop_id=SHOP, order_id=order.order_id, inbound=delivered)
    assert (first.outcome, again.outcome, fakes.gateway.sent(Op.CAPTURE)) == ("succeeded", "duplicate",
                                                                              [Op.CAPTURE])


async def test_an_unknown_step_is_kept_blocks_further_actions_and_is_resolved_by_an_operator(
        fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    fakes.gateway.script(Op.CAPTURE, answered(Outcome.UNKNOWN, reason="http_5xx"))
    unknown = await act(fakes, order.order_id)
    blocked = await act(fakes, order.order_id, ActionRequest(Action.CANCEL))
    resolved = await resolve_action(fakes.deps, Reply(outcome=Outcome.OK), shop_id=SHOP, order_id=order.order_id,
                                    succeeded=False, process_pass=None)
    again = await act(fakes, order.order_id)
    assert (unknown.outcome, unknown.code, blocked.code) == ("unknown", "http_5xx", "operation_outcome_unknown")
    assert resolved.payment is not None and resolved.payment.unknown_action is None
    assert (again.outcome, fakes.gateway.sent(Op.CAPTURE)) == ("succeeded", [Op.CAPTURE, Op.CAPTURE])
    assert [a.resolution for a in fakes.state.attempts.values() if a.operation is Op.CAPTURE] == ["failed", None]


async def test_an_action_that_outlived_its_lease_is_settled_as_unknown_by_the_next_request(
        fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    fakes.gateway.script(Op.CAPTURE, RuntimeError("process died after sending"))
    with pytest.raises(RuntimeError):
        await act(fakes, order.order_id)
    still_running = await act(fakes, order.order_id, ActionRequest(Action.CANCEL))
    fakes.clock.advance(61)
    settled = await act(fakes, order.order_id, ActionRequest(Action.CANCEL))
    assert (still_running.code, settled.code) == ("operation_in_progress", "operation_outcome_unknown")
    assert settled.payment is not None and settled.payment.unknown_action is not None
    assert settled.payment.unknown_action.reason == "interrupted"
    assert fakes.gateway.sent(Op.CAPTURE) == [Op.CAPTURE]  # never resent


async def test_bulk_capture_answers_per_order(fakes: PaymentFakes) -> None:
    orders = [await authorized_order(fakes, amount=1000 + n) for n in range(3)]
    await act(fakes, orders[0].order_id, ActionRequest(Action.CANCEL))
    requests = {order_id: ActionRequest(Action.CAPTURE, "ops-bulk") for order_id in
                [*(o.order_id for o in orders), "ord-missing"]}
    results = await capture_orders(fakes.deps, requests, shop_id=SHOP)
    assert [(r.outcome, r.code) for r in results] == [("refused", "already_canceled"), ("succeeded", None),
                                                      ("succeeded", None), ("not_found", None)]


async def test_a_capture_or_update_for_a_total_payment_has_not_heard_of_is_refused_without_a_gateway_call(
        fakes: PaymentFakes) -> None:
    """R12's window: checkout committed an edit to ¥6,100, its `OrderAmountChanged` has not reached payment yet.
    A sender who names the total it saw is refused (409) and nothing is sent; once payment has the edit the
    same requests go through the rules of R12 (update first, then capture)."""
    order = await authorized_order(fakes)
    capture = ActionRequest(Action.CAPTURE, "ops-1", order_total=6100)
    update = ActionRequest(Action.UPDATE_AMOUNT, "ops-1", order_total=6100)
    refused = [await act(fakes, order.order_id, request) for request in (capture, update)]
    assert [(r.outcome, r.code, r.conflict) for r in refused] == [("refused", "order_total_stale", True)] * 2
    assert fakes.gateway.sent() == [Op.AUTH]
    assert fakes.state.payments[order.order_id].state is PaymentState.AUTHORIZED
    await edit_total(fakes, order.order_id, 6100)
    assert (await act(fakes, order.order_id, capture)).code == "update_required"
    assert (await act(fakes, order.order_id, update)).outcome == "succeeded"
    captured = await act(fakes, order.order_id, capture)
    assert (captured.outcome, captured.payment and captured.payment.captured_amount) == ("succeeded", 6100)


async def test_bulk_capture_checks_each_orders_seen_total(fakes: PaymentFakes) -> None:
    current, edited = [await authorized_order(fakes, amount=1000 + n) for n in range(2)]
    requests = {current.order_id: ActionRequest(Action.CAPTURE, "ops-bulk", order_total=1000),
                edited.order_id: ActionRequest(Action.CAPTURE, "ops-bulk", order_total=2500)}
    results = await capture_orders(fakes.deps, requests, shop_id=SHOP)
    assert [(r.outcome, r.code) for r in results] == [("succeeded", None), ("refused", "order_total_stale")]
    assert fakes.gateway.sent(Op.CAPTURE) == [Op.CAPTURE]


async def test_an_action_on_another_shops_payment_is_not_found(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    with pytest.raises(PaymentNotFound):
        await run_action(fakes.deps, CAPTURE, shop_id="shop-2", order_id=order.order_id)
    assert fakes.gateway.sent() == [Op.AUTH]


async def test_an_order_total_change_is_recorded_once(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    change = OrderAmountChanged(
        order_id=order.order_id, shop_id=SHOP, checkout_id=order.checkout_id, payment_number=order.payment_number,
        previous_amount=5500, amount=6100, lines=[Line(sku="TEA-1", name="煎茶", unit_price=6100, quantity=1)],
        shipping=Shipping(carrier_id="yamato", fee=0, recipient_name="山田 太郎", postal_code="100-0001",
                          prefecture="東京都", city="千代田区", address_line1="千代田1-1"))
    delivered = inbound(change)
    await record_order_total(fakes.deps, 6100, shop_id=SHOP, order_id=order.order_id, inbound=delivered)
    version = fakes.state.payments[order.order_id].version
    await record_order_total(fakes.deps, 6100, shop_id=SHOP, order_id=order.order_id, inbound=delivered)
    payment = fakes.state.payments[order.order_id]
    assert (payment.order_total, payment.update_required, payment.version) == (6100, True, version)


async def test_an_unknown_1reauth_resolved_as_succeeded_takes_the_new_hold_and_releases_the_old_one(
        fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    old = fakes.state.payments[order.order_id].process_id
    await edit_total(fakes, order.order_id, 7200)
    fakes.gateway.script(Op.REAUTH, answered(Outcome.UNKNOWN, reason="timeout"))
    await act(fakes, order.order_id, ActionRequest(Action.UPDATE_AMOUNT))
    found = Reply(outcome=Outcome.OK, transaction_id="1000000000099", process_id="N" * 32)
    result = await resolve_action(fakes.deps, found, shop_id=SHOP, order_id=order.order_id, succeeded=True,
                                  process_pass=SecretStr("M" * 32))
    [release] = [c for c in fakes.gateway.calls if c.operation is Op.DELETE]
    assert result.payment is not None and (result.payment.amount, result.payment.process_id) == (7200, "N" * 32)
    assert release.process is not None and release.process.process_id == old
    assert fakes.state.process_passes[order.order_id] == SecretStr("M" * 32)
    [updated] = fakes.state.emitted(PaymentAmountUpdated)
    assert (updated.amount, updated.previous_hold_released) == (7200, True)


async def test_a_reply_that_comes_after_another_action_took_the_payment_is_kept_unknown(
        fakes: PaymentFakes) -> None:
    """Regression: the old loop went on driving the *other* action's step with no call (AssertionError, 500)."""
    order = await authorized_order(fakes)

    async def meanwhile(_call) -> GatewayAnswer:  # the capture hangs past its lease while operators go on
        fakes.clock.advance(61)
        await act(fakes, order.order_id, ActionRequest(Action.CANCEL))  # settles the capture as interrupted
        await resolve_action(fakes.deps, Reply(outcome=Outcome.OK), shop_id=SHOP, order_id=order.order_id,
                             succeeded=False, process_pass=None)
        fakes.gateway.script(Op.DELETE, RuntimeError("process died after sending"))
        with pytest.raises(RuntimeError):
            await act(fakes, order.order_id, ActionRequest(Action.CANCEL))  # a cancel now holds the payment
        return answered(Outcome.OK)

    fakes.gateway.script(Op.CAPTURE, meanwhile)
    late = await act(fakes, order.order_id)
    payment = fakes.state.payments[order.order_id]
    assert (late.outcome, late.code) == ("unknown", "interrupted")
    assert payment.state is PaymentState.AUTHORIZED and payment.running_action is not None
    assert payment.running_action.action is Action.CANCEL
    assert fakes.gateway.sent() == [Op.AUTH, Op.CAPTURE, Op.DELETE]
