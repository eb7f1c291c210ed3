"""Operator operations on a payment (R12, R13, design §6.5, I2): decide, then apply each gateway reply. Pure.

    begin(request) -> in progress (one step) --gateway--> finish(reply) -> next step | done | failed | unknown

    capture          1Capture (SalesDate = today, JST)     authorized -> captured    PaymentCaptured
    cancel           1Delete                               authorized -> canceled    PaymentCanceled
    update_amount    1Change (a decrease, if allowed)      amount = new              PaymentAmountUpdated
                     1ReAuth, then 1Delete of the old hold (a new hold first: the order is never without one)
    release_previous_hold  1Delete of the old hold, only while two holds are flagged    PaymentHoldReleased

Only `auth` mode payments in state authorized can be operated (R12); `auth_capture` never (R13). A capture
uses the current hold, which must equal the order's current total (R12: an edited order is updated first).
A failed call leaves the payment as it was; an unknown one is kept and blocks further operations until an
operator resolves it; a failed release of the old hold flags the payment with two live holds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from services.payment.domain import events as ev
from services.payment.domain.actions import (
    Action,
    HoldState,
    InProgress,
    OperationRefused,
    OperationRequest,
    PreviousHold,
    UnknownOperation,
)
from services.payment.domain.attempts import INTERRUPTED
from services.payment.domain.model import Decided, Payment, PaymentState
from services.payment.domain.operations import Operation, Outcome, Reply, SalesMode

_FIRST_STEP = {Action.CAPTURE: Operation.CAPTURE, Action.CANCEL: Operation.DELETE,
               Action.RELEASE_PREVIOUS_HOLD: Operation.DELETE}


def refusal(payment: Payment, action: Action) -> OperationRefused | None:
    """Why `action` cannot start now, or None. (An expired operation is settled by `expire` beforehand.)"""
    running, unknown = payment.in_progress, payment.unknown_operation
    if running is not None:
        return OperationRefused("operation_in_progress", f"{running.action} ({running.step}) is running on this "
                                f"payment since {running.since:%Y-%m-%d %H:%M:%S} UTC; retry when it has finished")
    if unknown is not None:
        return OperationRefused("operation_outcome_unknown", f"the outcome of {unknown.action} ({unknown.step}, "
                                f"attempt {unknown.attempt_id}) is unknown: check Sony's screen for payment number "
                                f"{payment.payment_number} and resolve it first")
    if action is Action.RELEASE_PREVIOUS_HOLD:
        return None if payment.two_live_holds else OperationRefused(
            "no_previous_hold", "no hold left over by an amount update is waiting to be released")
    return _state_refusal(payment, action)


def _state_refusal(payment: Payment, action: Action) -> OperationRefused | None:
    if payment.sales_mode is SalesMode.AUTH_CAPTURE:
        return OperationRefused("sales_mode_auth_capture", "R13: this shop records the sale at authorization "
                                "(auth_capture): capture, cancel and amount update are not available here; "
                                "use Sony's management screen")
    state = payment.state
    if state is PaymentState.CAPTURED:
        return OperationRefused("already_captured", "R12: the payment is captured; after capture no capture, "
                                "cancel or amount update is possible")
    if state is PaymentState.CANCELED:
        return OperationRefused("already_canceled", "the authorization was canceled; nothing is held any more")
    if state is PaymentState.UNKNOWN:
        return OperationRefused("authorization_unknown", "the authorization's outcome is unknown: resolve it "
                                "first (design §6.2)")
    if state is not PaymentState.AUTHORIZED:
        return OperationRefused("not_authorized", f"the payment is {state}: there is no authorization to act on")
    if action is Action.CAPTURE and payment.update_required:
        return OperationRefused("update_required", f"hold differs from order total — update required: the hold "
                                f"is ¥{payment.amount:,}, the order total ¥{payment.current_order_total:,} (R12)")
    return None


def allowed_actions(payment: Payment) -> dict[Action, OperationRefused | None]:
    """For each operation of R12 (and a pending release): None if allowed now, else why not."""
    actions = [Action.CAPTURE, Action.CANCEL, Action.UPDATE_AMOUNT]
    if payment.two_live_holds:
        actions.append(Action.RELEASE_PREVIOUS_HOLD)
    return {action: refusal(payment, action) for action in actions}


def begin(payment: Payment, request: OperationRequest, *, attempt_id: str, now: datetime,
          decrease_by_change: bool) -> Payment:
    """Take the payment for `request` (raises `OperationRefused`); the result names the first gateway step."""
    if request.action is Action.UPDATE_AMOUNT and request.amount is not None and request.amount < 1:
        raise OperationRefused("amount_zero", "R12: an amount update to ¥0 is not possible; cancel instead",
                               conflict=False)
    refused = refusal(payment, request.action)
    if refused is not None:
        raise refused
    target = _target_amount(payment, request)
    step = _FIRST_STEP.get(request.action)
    if step is None:
        decrease = target is not None and target < payment.amount
        step = Operation.CHANGE if decrease and decrease_by_change else Operation.REAUTH
    running = InProgress(request.action, step, attempt_id, now, request.requested_by, target,
                         on_previous=request.action is Action.RELEASE_PREVIOUS_HOLD)
    return replace(payment, in_progress=running)


def _target_amount(payment: Payment, request: OperationRequest) -> int | None:
    """The new amount of an update (the order total); the expected amount of a capture is checked here too."""
    if request.action is Action.CAPTURE and request.amount not in (None, payment.amount):
        raise OperationRefused("amount_mismatch", f"the hold to capture is ¥{payment.amount:,}, not "
                               f"¥{request.amount:,}")
    if request.action is not Action.UPDATE_AMOUNT:
        return None
    total = payment.current_order_total
    target = total if request.amount is None else request.amount
    if target < 1:
        raise OperationRefused("amount_zero", "R12: the order total is ¥0; cancel instead of updating",
                               conflict=False)
    if target != total:
        raise OperationRefused("amount_mismatch", f"the order total is ¥{total:,}: the hold follows the order, "
                               f"so edit the order first (checkout) and update to its total")
    if target == payment.amount:
        raise OperationRefused("amount_unchanged", f"R12: the hold is already ¥{target:,}", conflict=False)
    return target


def expire(payment: Payment, *, now: datetime, lease: timedelta) -> tuple[Payment, list[ev.DomainEvent], str | None]:
    """An operation whose step outlived `lease` was interrupted (crash): its outcome is unknown, never resent.

    Returns the settled payment, its events and the attempt id to mark interrupted (None if nothing expired).
    """
    running = payment.in_progress
    if running is None or now - running.since < lease:
        return payment, [], None
    settled, events = finish(payment, INTERRUPTED, next_attempt_id=running.attempt_id, now=now,
                             sales_date=now.date(), max_sends=1)
    return settled, events, running.attempt_id


def finish(payment: Payment, reply: Reply, *, next_attempt_id: str, now: datetime, sales_date: date,
           max_sends: int) -> Decided:
    """Apply the reply of the running step. The operation continues (`in_progress` set, with `next_attempt_id`)
    when a not-sent call is resent or 1ReAuth succeeded and the old hold must be released."""
    running = payment.in_progress
    if running is None:
        raise ValueError(f"no operation is running on payment {payment.order_id}")
    if reply.outcome is Outcome.NOT_SENT and running.unsent + 1 < max_sends:
        resend = replace(running, attempt_id=next_attempt_id, since=now, unsent=running.unsent + 1)
        return replace(payment, in_progress=resend), []
    if running.on_previous:
        return _after_release(payment, running, reply)
    if reply.outcome is Outcome.OK:
        return _succeeded(payment, running, reply, next_attempt_id, now, sales_date)
    return _failed(payment, running, reply)


def _succeeded(payment: Payment, running: InProgress, reply: Reply, next_attempt_id: str, now: datetime,
               sales_date: date) -> Decided:
    p, by = replace(payment, in_progress=None), running.requested_by
    tx = reply.transaction_id or payment.transaction_id or "unknown"
    if running.action is Action.CAPTURE:
        event: ev.DomainEvent = ev.PaymentCaptured(p.order_id, p.shop_id, p.payment_number, p.amount, tx,
                                                   sales_date, by)
        return replace(p, state=PaymentState.CAPTURED, sales_date=sales_date), [event]
    if running.action is Action.CANCEL:
        event = ev.PaymentCanceled(p.order_id, p.shop_id, p.payment_number, p.amount, tx, by)
        return replace(p, state=PaymentState.CANCELED), [event]
    assert running.target_amount is not None
    hold = payment.transaction_id or tx
    if running.step is Operation.CHANGE:
        event = ev.PaymentAmountUpdated(p.order_id, p.shop_id, p.payment_number, p.amount, running.target_amount,
                                        hold, hold, True, by)
        return replace(p, amount=running.target_amount), [event]
    previous = PreviousHold(payment.process_id, payment.transaction_id, payment.amount)
    release = replace(running, step=Operation.DELETE, on_previous=True, attempt_id=next_attempt_id, since=now,
                      unsent=0)
    return replace(payment, previous_hold=previous, in_progress=release, amount=running.target_amount,
                   transaction_id=tx, process_id=reply.process_id,
                   approval_number=reply.approval_number or payment.approval_number), []


def _after_release(payment: Payment, running: InProgress, reply: Reply) -> Decided:
    """K14 counts as released: the old transaction is no longer live (it was never captured by us)."""
    previous = payment.previous_hold
    assert previous is not None
    p, by, old_tx = replace(payment, in_progress=None), running.requested_by, previous.transaction_id or "unknown"
    released = reply.outcome is Outcome.OK or reply.codes == ("K14",)
    events: list[ev.DomainEvent] = []
    if running.action is Action.UPDATE_AMOUNT:
        events.append(ev.PaymentAmountUpdated(p.order_id, p.shop_id, p.payment_number, previous.amount, p.amount,
                                              p.transaction_id or "unknown", old_tx, released, by))
    if released:
        if running.action is Action.RELEASE_PREVIOUS_HOLD:
            events.append(ev.PaymentHoldReleased(p.order_id, p.shop_id, p.payment_number, previous.amount, old_tx,
                                                 by))
        return replace(p, previous_hold=None), events
    outcome, reason = _failure(reply)
    failed = replace(previous, state=HoldState.RELEASE_FAILED, codes=reply.codes, reason=reason)
    events.append(ev.PaymentOperationFailed(p.order_id, p.shop_id, p.payment_number,
                                            Action.RELEASE_PREVIOUS_HOLD.value, outcome, reason,
                                            Operation.DELETE.value, reply.codes, by))
    return replace(p, previous_hold=failed), events


def _failed(payment: Payment, running: InProgress, reply: Reply) -> Decided:
    p = replace(payment, in_progress=None)
    outcome, reason = _failure(reply)
    event = ev.PaymentOperationFailed(p.order_id, p.shop_id, p.payment_number, running.action.value, outcome,
                                      reason, running.step.value, reply.codes, running.requested_by)
    if reply.outcome is Outcome.UNKNOWN:
        unknown = UnknownOperation(running.action, running.step, running.attempt_id, running.requested_by,
                                   running.target_amount, reason)
        p = replace(p, unknown_operation=unknown)
    return p, [event]


def _failure(reply: Reply) -> tuple[str, str]:
    """`PaymentOperationFailed` outcome and reason: a decline names the codes; not sent is a certain failure."""
    if reply.outcome is Outcome.UNKNOWN:
        return "unknown", reply.reason or "unknown"
    if reply.outcome is Outcome.NOT_SENT:
        return "declined", "gateway_unreachable"
    return "declined", "gateway_declined"


def refused_event(payment: Payment, request: OperationRequest, refused: OperationRefused) -> ev.DomainEvent:
    """What a command sender learns when the rules refuse its command (HTTP callers get the answer directly)."""
    return ev.PaymentOperationFailed(payment.order_id, payment.shop_id, payment.payment_number,
                                     request.action.value, "refused", refused.code, None, (), request.requested_by)


def resolve_operation(payment: Payment, *, succeeded: bool, reply: Reply, next_attempt_id: str, now: datetime,
                      sales_date: date) -> Decided:
    """An operator's finding about an unknown operation: `succeeded` applies it as if the gateway had answered
    OK with `reply`'s ids (1ReAuth needs the new hold's ProcessId; its old hold is then released), else it is
    dropped and the payment stays as it was."""
    unknown = payment.unknown_operation
    if unknown is None:
        raise OperationRefused("no_unknown_operation", "no operation of this payment has an unknown outcome")
    cleared = replace(payment, unknown_operation=None)
    if not succeeded:
        return cleared, []
    if unknown.step is Operation.REAUTH and not reply.process_id:
        raise OperationRefused("process_id_required", "a succeeded 1ReAuth needs the new hold's process_id and "
                               "process_pass (Sony's screen)", conflict=False)
    running = InProgress(unknown.action, unknown.step, unknown.attempt_id, now, unknown.requested_by,
                         unknown.target_amount)
    return finish(replace(cleared, in_progress=running), replace(reply, outcome=Outcome.OK),
                  next_attempt_id=next_attempt_id, now=now, sales_date=sales_date, max_sends=1)
