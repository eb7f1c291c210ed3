"""Operator operations as a pure state machine: R12/R13 refusals, capture/cancel/update, the §6.5 release of the
old hold and its failure (two live holds), unknown outcomes kept and never resent, interrupted operations."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.payment.domain import events as ev
from services.payment.domain.action_rules import (
    allowed_actions,
    begin,
    expire,
    finish,
    refused_event,
    resolve_action,
)
from services.payment.domain.actions import Action, ActionRefused, ActionRequest, HoldState
from services.payment.domain.gateway import GatewayOperation, Outcome, Reply, SalesMode
from services.payment.domain.model import Payment, PaymentState

NOW = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
TODAY = date(2025, 6, 1)
NUMBER = "0" * 19 + "1"


def authorized(amount: int = 5000, mode: SalesMode = SalesMode.AUTH, **changes: object) -> Payment:
    state = PaymentState.CAPTURED if mode is SalesMode.AUTH_CAPTURE else PaymentState.AUTHORIZED
    payment = Payment(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER, amount=amount, pay_type="01",
                      sales_mode=mode, buyer_name="山田 太郎", member_id=None, state=state,
                      transaction_id="T-AUTH", process_id="P-AUTH", order_total=amount)
    return replace(payment, **changes)  # type: ignore[arg-type]


def start(payment: Payment, action: Action, amount: int | None = None, *, by_change: bool = True) -> Payment:
    return begin(payment, ActionRequest(action, "ops-1", amount), attempt_id="att-1", now=NOW,
                 decrease_by_change=by_change)


def reply(outcome: Outcome = Outcome.OK, *codes: str, tx: str = "T-NEW", process: str | None = None,
          reason: str = "", amount: int | None = None) -> Reply:
    return Reply(outcome=outcome, codes=codes, transaction_id=tx, approval_number=None, process_id=process,
                 reason=reason, amount=amount)


def done(payment: Payment, answer: Reply, max_sends: int = 3) -> tuple[Payment, list[ev.DomainEvent]]:
    return finish(payment, answer, next_attempt_id="att-2", now=NOW, sales_date=TODAY, max_sends=max_sends)


def refusal_code(payment: Payment, action: Action, amount: int | None = None) -> tuple[str, bool]:
    with pytest.raises(ActionRefused) as refused:
        start(payment, action, amount)
    return refused.value.code, refused.value.conflict


def test_an_authorized_auth_mode_payment_allows_capture_cancel_and_update() -> None:
    assert allowed_actions(authorized()) == {Action.CAPTURE: None, Action.CANCEL: None, Action.UPDATE_AMOUNT: None}


@pytest.mark.parametrize(("payment", "code"), [
    (authorized(state=PaymentState.CAPTURED), "already_captured"),
    (authorized(mode=SalesMode.AUTH_CAPTURE), "sales_mode_auth_capture"),
    (authorized(state=PaymentState.CANCELED), "already_canceled"),
    (authorized(state=PaymentState.DECLINED), "not_authorized"),
    (authorized(state=PaymentState.SKIPPED), "not_authorized"),
    (authorized(state=PaymentState.UNKNOWN), "authorization_unknown"),
])
def test_r12_r13_refuse_every_operation_outside_an_auth_mode_authorization(payment: Payment, code: str) -> None:
    refusals = allowed_actions(payment)
    assert {a: r.code if r else None for a, r in refusals.items()} == dict.fromkeys(refusals, code)
    assert refusal_code(payment, Action.CAPTURE) == (code, True)


def test_capture_records_the_sale_of_the_current_hold_with_todays_sales_date() -> None:
    running = start(authorized(), Action.CAPTURE)
    assert running.running_action is not None and running.running_action.step is GatewayOperation.CAPTURE
    captured, events = done(running, reply(tx="T-CAP"))
    assert (captured.state, captured.captured_amount, captured.held_amount) == (PaymentState.CAPTURED, 5000, 0)
    assert captured.running_action is None and captured.sales_date == TODAY
    assert events == [ev.PaymentCaptured(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER, amount=5000,
                                         transaction_id="T-CAP", sales_date=TODAY, requested_by="ops-1")]


def test_an_edited_order_must_be_updated_before_capture_and_a_wrong_expected_amount_is_refused() -> None:
    edited = authorized(order_total=6000)
    assert edited.update_required
    assert refusal_code(edited, Action.CAPTURE) == ("update_required", True)
    assert refusal_code(authorized(), Action.CAPTURE, 4000) == ("amount_mismatch", True)
    assert start(authorized(), Action.CAPTURE, 5000).running_action is not None


def seen(payment: Payment, action: Action, order_total: int) -> Payment:
    """`begin` with the order total the sender saw in checkout."""
    return begin(payment, ActionRequest(action, "ops-1", order_total=order_total), attempt_id="att-1", now=NOW,
                 decrease_by_change=True)


@pytest.mark.parametrize("action", [Action.CAPTURE, Action.UPDATE_AMOUNT])
def test_a_sender_who_saw_another_order_total_than_payment_knows_is_refused_as_stale(action: Action) -> None:
    """Checkout committed an edit to ¥6,000 that payment has not heard of: its hold and total are still ¥5,000
    (the update would otherwise be refused as `amount_unchanged`, the capture would take the old hold)."""
    with pytest.raises(ActionRefused) as refused:
        seen(authorized(), action, 6000)
    assert (refused.value.code, refused.value.conflict) == ("order_total_stale", True)
    assert "¥6,000" in refused.value.message and "¥5,000" in refused.value.message


def test_a_sender_whose_order_total_payment_knows_passes_the_check_to_the_rules_of_r12() -> None:
    assert seen(authorized(), Action.CAPTURE, 5000).running_action is not None
    edited = authorized(order_total=6000)
    assert refusal_code(edited, Action.CAPTURE) == ("update_required", True)
    with pytest.raises(ActionRefused) as refused:
        seen(edited, Action.CAPTURE, 6000)
    assert refused.value.code == "update_required"
    running = seen(edited, Action.UPDATE_AMOUNT, 6000).running_action
    assert running is not None and running.target_amount == 6000


def test_a_payment_that_cannot_act_says_so_before_any_stale_total() -> None:
    with pytest.raises(ActionRefused) as refused:
        seen(authorized(state=PaymentState.CAPTURED), Action.CAPTURE, 6000)
    assert refused.value.code == "already_captured"


def test_cancel_voids_the_hold() -> None:
    canceled, events = done(start(authorized(), Action.CANCEL), reply(tx="T-DEL"))
    assert canceled.state is PaymentState.CANCELED and canceled.held_amount == 0
    assert events == [ev.PaymentCanceled(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER, amount=5000,
                                         transaction_id="T-DEL", requested_by="ops-1")]


@pytest.mark.parametrize(("payment", "amount", "code", "conflict"), [
    (authorized(order_total=6000), 0, "amount_zero", False),
    (authorized(order_total=0), None, "amount_zero", False),
    (authorized(), None, "amount_unchanged", False),
    (authorized(), 5000, "amount_unchanged", False),
    (authorized(order_total=6000), 7000, "amount_mismatch", True),
])
def test_an_update_to_zero_to_the_same_amount_or_away_from_the_order_total_is_refused(
        payment: Payment, amount: int | None, code: str, conflict: bool) -> None:
    assert refusal_code(payment, Action.UPDATE_AMOUNT, amount) == (code, conflict)


def test_a_decrease_uses_1change_in_one_call_when_allowed() -> None:
    running = start(authorized(order_total=4000), Action.UPDATE_AMOUNT)
    assert running.running_action is not None and running.running_action.step is GatewayOperation.CHANGE
    updated, events = done(running, reply())
    assert (updated.amount, updated.transaction_id, updated.update_required) == (4000, "T-AUTH", False)
    assert events == [ev.PaymentAmountUpdated(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER,
                                              previous_amount=5000, amount=4000, transaction_id="T-AUTH",
                                              previous_transaction_id="T-AUTH", previous_hold_released=True,
                                              requested_by="ops-1")]


@pytest.mark.parametrize(("total", "by_change"), [(6000, True), (4000, False)])
def test_reauth_secures_the_new_hold_first_then_releases_the_old_one(total: int, by_change: bool) -> None:
    running = start(authorized(order_total=total), Action.UPDATE_AMOUNT, by_change=by_change)
    assert running.running_action is not None and running.running_action.step is GatewayOperation.REAUTH
    reauthorized, events = done(running, reply(tx="T-RE", process="P-RE"))
    assert events == [] and reauthorized.previous_hold is not None
    assert (reauthorized.amount, reauthorized.process_id, reauthorized.previous_hold.process_id) == (
        total, "P-RE", "P-AUTH")
    check = reauthorized.running_action
    assert check is not None and (check.step, check.on_previous, check.attempt_id) == (
        GatewayOperation.SEARCH, True, "att-2")
    separate, events = done(reauthorized, reply(tx="T-SEARCH", amount=5000))  # the old pair: still ¥5,000
    release = separate.running_action
    assert events == [] and release is not None and (release.step, release.on_previous) == (
        GatewayOperation.DELETE, True)
    updated, events = done(separate, reply(tx="T-DEL"))
    assert updated.previous_hold is None and updated.running_action is None and not updated.two_live_holds
    assert events == [ev.PaymentAmountUpdated(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER,
                                              previous_amount=5000, amount=total, transaction_id="T-RE",
                                              previous_transaction_id="T-AUTH", previous_hold_released=True,
                                              requested_by="ops-1")]


@pytest.mark.parametrize(("total", "by_change"), [(6000, True), (4000, False)])
def test_an_old_pair_that_names_the_reauthorized_hold_is_never_released(total: int, by_change: bool) -> None:
    """1ReAuth in place (the gateway's other possible reading): releasing the old pair would cancel the new hold."""
    running = start(authorized(order_total=total), Action.UPDATE_AMOUNT, by_change=by_change)
    reauthorized, _ = done(running, reply(tx="T-RE", process="P-RE"))
    updated, events = done(reauthorized, reply(tx="T-SEARCH", amount=total))
    assert updated.running_action is None and updated.previous_hold is None and not updated.two_live_holds
    assert (updated.amount, updated.process_id, updated.transaction_id) == (total, "P-RE", "T-RE")
    assert events == [ev.PaymentAmountUpdated(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER,
                                              previous_amount=5000, amount=total, transaction_id="T-RE",
                                              previous_transaction_id="T-AUTH", previous_hold_released=True,
                                              requested_by="ops-1")]


def test_a_reauth_that_answers_the_same_pair_needs_no_release() -> None:
    running = start(authorized(order_total=6000), Action.UPDATE_AMOUNT)
    updated, events = done(running, reply(tx="T-RE", process="P-AUTH"))
    assert updated.running_action is None and updated.previous_hold is None and updated.amount == 6000
    assert [type(e) for e in events] == [ev.PaymentAmountUpdated]


@pytest.mark.parametrize("answer", [
    reply(amount=4444), reply(Outcome.DECLINED, "K12"), reply(Outcome.UNKNOWN, reason="timeout"),
    reply(Outcome.NOT_SENT)], ids=["other-amount", "K12", "unknown", "not-sent"])
def test_an_old_pair_that_cannot_be_told_apart_is_flagged_never_released(answer: Reply) -> None:
    reauthorized, _ = done(start(authorized(order_total=6000), Action.UPDATE_AMOUNT), reply(process="P-RE"))
    flagged, events = done(reauthorized, answer, max_sends=1)
    assert flagged.two_live_holds and flagged.running_action is None and flagged.amount == 6000
    [updated, failed] = events
    assert isinstance(updated, ev.PaymentAmountUpdated) and not updated.previous_hold_released
    assert isinstance(failed, ev.PaymentOperationFailed) and failed.gateway_operation == "1Search"
    assert failed.reason == ("timeout" if answer.outcome is Outcome.UNKNOWN else "previous_hold_unverified")
    # the operator's retry checks again first: here the old pair turns out to name the current hold
    retry = start(flagged, Action.RELEASE_PREVIOUS_HOLD)
    assert retry.running_action is not None and retry.running_action.step is GatewayOperation.SEARCH
    cleared, events = done(retry, reply(amount=6000))
    assert not cleared.two_live_holds and cleared.running_action is None
    assert [type(e) for e in events] == [ev.PaymentHoldReleased]


@pytest.mark.parametrize(("answer", "outcome", "reason"), [
    (reply(Outcome.DECLINED, "K12"), "declined", "gateway_declined"),
    (reply(Outcome.UNKNOWN, reason="http_5xx"), "unknown", "http_5xx"),
])
def test_a_failed_release_of_the_old_hold_flags_two_live_holds(answer: Reply, outcome: str, reason: str) -> None:
    reauthorized, _ = done(start(authorized(order_total=6000), Action.UPDATE_AMOUNT), reply(process="P-RE"))
    separate, _ = done(reauthorized, reply(amount=5000))
    flagged, events = done(separate, answer)
    assert flagged.two_live_holds and flagged.amount == 6000 and flagged.running_action is None
    assert flagged.previous_hold is not None and flagged.previous_hold.state is HoldState.RELEASE_FAILED
    assert events == [
        ev.PaymentAmountUpdated(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER, previous_amount=5000,
                                amount=6000, transaction_id="T-NEW", previous_transaction_id="T-AUTH",
                                previous_hold_released=False, requested_by="ops-1"),
        ev.PaymentOperationFailed(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER,
                                  operation="release_previous_hold", outcome=outcome, reason=reason,
                                  gateway_operation="1Delete",
                                  codes=answer.codes, requested_by="ops-1"),
    ]
    assert allowed_actions(flagged)[Action.RELEASE_PREVIOUS_HOLD] is None
    checked, _ = done(start(flagged, Action.RELEASE_PREVIOUS_HOLD), reply(amount=5000))
    released, events = done(checked, reply(Outcome.DECLINED, "K14"))
    assert not released.two_live_holds  # K14: the old transaction is no longer live
    assert events == [ev.PaymentHoldReleased(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER, amount=5000,
                                             transaction_id="T-AUTH", requested_by="ops-1")]


def test_releasing_is_refused_without_a_flagged_hold() -> None:
    assert refusal_code(authorized(), Action.RELEASE_PREVIOUS_HOLD) == ("no_previous_hold", True)


def test_a_declined_operation_leaves_the_payment_as_it_was_and_reports_the_raw_codes() -> None:
    failed, events = done(start(authorized(), Action.CAPTURE), reply(Outcome.DECLINED, "K14"))
    assert failed == authorized()
    assert events == [ev.PaymentOperationFailed(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER,
                                                operation="capture", outcome="declined", reason="gateway_declined",
                                                gateway_operation="1Capture", codes=("K14",), requested_by="ops-1")]


def test_a_running_operation_refuses_a_second_one() -> None:
    running = start(authorized(), Action.CAPTURE)
    assert refusal_code(running, Action.CANCEL) == ("operation_in_progress", True)
    assert refusal_code(running, Action.CAPTURE) == ("operation_in_progress", True)


def test_an_unknown_outcome_is_kept_never_resent_and_blocks_until_resolved() -> None:
    unknown, events = done(start(authorized(), Action.CAPTURE), reply(Outcome.UNKNOWN, reason="timeout"))
    assert unknown.unknown_action is not None and unknown.running_action is None
    assert events[0] == ev.PaymentOperationFailed(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER,
                                                  operation="capture", outcome="unknown", reason="timeout",
                                                  gateway_operation="1Capture", codes=(), requested_by="ops-1")
    assert refusal_code(unknown, Action.CANCEL) == ("operation_outcome_unknown", True)
    dropped, events = resolve_action(unknown, succeeded=False, reply=reply(), next_attempt_id="att-3", now=NOW,
                                        sales_date=TODAY)
    assert dropped == authorized() and events == []
    captured, events = resolve_action(unknown, succeeded=True, reply=reply(tx="T-SONY"),
                                         next_attempt_id="att-3", now=NOW, sales_date=TODAY)
    assert captured.state is PaymentState.CAPTURED and isinstance(events[0], ev.PaymentCaptured)


def test_a_succeeded_unknown_reauth_needs_the_new_hold_and_then_releases_the_old_one() -> None:
    unknown, _ = done(start(authorized(order_total=6000), Action.UPDATE_AMOUNT), reply(Outcome.UNKNOWN))
    with pytest.raises(ActionRefused, match="process_id"):
        resolve_action(unknown, succeeded=True, reply=reply(), next_attempt_id="a", now=NOW, sales_date=TODAY)
    resolved, _ = resolve_action(unknown, succeeded=True, reply=reply(process="P-SONY"), next_attempt_id="a",
                                    now=NOW, sales_date=TODAY)
    assert resolved.process_id == "P-SONY" and resolved.running_action is not None
    assert resolved.running_action.on_previous


def test_a_call_that_certainly_was_not_sent_is_resent_within_the_budget() -> None:
    running = start(authorized(), Action.CANCEL)
    resend, events = done(running, reply(Outcome.NOT_SENT), max_sends=2)
    assert events == [] and resend.running_action is not None and resend.running_action.attempt_id == "att-2"
    failed, events = done(resend, reply(Outcome.NOT_SENT), max_sends=2)
    assert failed.running_action is None and failed.state is PaymentState.AUTHORIZED
    assert isinstance(events[0], ev.PaymentOperationFailed) and events[0].reason == "gateway_unreachable"


def test_an_operation_that_outlived_its_lease_was_interrupted_and_is_unknown() -> None:
    running = start(authorized(), Action.CAPTURE)
    same, events, attempt = expire(running, now=NOW + timedelta(seconds=30), lease=timedelta(seconds=60))
    assert (same, events, attempt) == (running, [], None)
    settled, events, attempt = expire(running, now=NOW + timedelta(seconds=61), lease=timedelta(seconds=60))
    assert attempt == "att-1" and settled.unknown_action is not None
    assert settled.unknown_action.reason == "interrupted" and settled.running_action is None


def test_a_refused_command_is_reported_with_its_reason_code() -> None:
    refused = ActionRefused("already_captured", "R12")
    event = refused_event(authorized(), ActionRequest(Action.CANCEL, "bot"), refused)
    assert event == ev.PaymentOperationFailed(order_id="ord-1", shop_id="shop-1", payment_number=NUMBER,
                                              operation="cancel", outcome="refused", reason="already_captured",
                                              gateway_operation=None, codes=(), requested_by="bot")
