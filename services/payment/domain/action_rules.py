"""Operator actions on a payment (R12, R13, design §6.5, I2): decide, then apply each step's reply. Pure.

    begin(request) -> running (one step) --gateway--> finish(reply) -> next step | done | failed | unknown

    capture          1Capture (SalesDate = today, JST)     authorized -> captured    PaymentCaptured
    cancel           1Delete                               authorized -> canceled    PaymentCanceled
    update_amount    1Change (a decrease, if allowed)      amount = new              PaymentAmountUpdated
                     1ReAuth, then 1Search of the old pair, then 1Delete of it only if it still names the old
                     amount (a new hold first: the order is never without one; see "The old pair" below)
    release_previous_hold  1Search of the old pair, then 1Delete as above, only while two holds are flagged
                                                                                   PaymentHoldReleased

Only `auth` mode payments in state authorized can be acted on (R12); `auth_capture` never (R13). A capture
uses the current hold, which must equal the order's current total (R12: an edited order is updated first).
A request that names the order total its sender saw in checkout is refused (`order_total_stale`) while payment
knows another one: checkout's edit has not reached payment yet, and the hold it would act on is the old one.
A failed step leaves the payment as it was; an unknown one is kept and blocks further actions until an
operator resolves it; a failed release of the old hold flags the payment with two live holds.

The old pair: what a ProcessId/ProcessPass names after 1ReAuth is unknown at Sony (protocol reference §9.4). It
may name the old transaction (a second live hold to release) or the re-authorized one (releasing it would cancel
the hold just secured). So the old pair is released only when it is certainly separate: a 1ReAuth that answers
the same ProcessId needs no release; otherwise a 1Search of the old pair decides (the two amounts always differ):
the new amount = it names the new hold (nothing to release), the old amount = a separate hold (1Delete), anything
else or no answer = the payment is flagged with two live holds for an operator, never released blindly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TypedDict

from services.payment.domain import events as ev
from services.payment.domain.actions import (
    Action,
    ActionRefused,
    ActionRequest,
    HoldState,
    PreviousHold,
    RunningAction,
    UnknownAction,
)
from services.payment.domain.attempts import INTERRUPTED
from services.payment.domain.gateway import GatewayOperation, Outcome, Reply, SalesMode
from services.payment.domain.model import Decided, Payment, PaymentState

_FIRST_STEP = {Action.CAPTURE: GatewayOperation.CAPTURE, Action.CANCEL: GatewayOperation.DELETE,
               Action.RELEASE_PREVIOUS_HOLD: GatewayOperation.SEARCH}


def refusal(payment: Payment, action: Action) -> ActionRefused | None:
    """Why `action` cannot start now, or None. (An expired action is settled by `expire` beforehand.)"""
    running, unknown = payment.running_action, payment.unknown_action
    if running is not None:
        return ActionRefused("operation_in_progress", f"{running.action} ({running.step}) is running on this "
                             f"payment since {running.since:%Y-%m-%d %H:%M:%S} UTC; retry when it has finished")
    if unknown is not None:
        return ActionRefused("operation_outcome_unknown", f"the outcome of {unknown.action} ({unknown.step}, "
                             f"attempt {unknown.attempt_id}) is unknown: check Sony's screen for payment number "
                             f"{payment.payment_number} and resolve it first")
    if action is Action.RELEASE_PREVIOUS_HOLD:
        return None if payment.two_live_holds else ActionRefused(
            "no_previous_hold", "no hold left over by an amount update is waiting to be released")
    return _state_refusal(payment, action)


def _state_refusal(payment: Payment, action: Action) -> ActionRefused | None:
    if payment.sales_mode is SalesMode.AUTH_CAPTURE:
        return ActionRefused("sales_mode_auth_capture", "R13: this shop records the sale at authorization "
                             "(auth_capture): capture, cancel and amount update are not available here; "
                             "use Sony's management screen")
    state = payment.state
    if state is PaymentState.CAPTURED:
        return ActionRefused("already_captured", "R12: the payment is captured; after capture no capture, "
                             "cancel or amount update is possible")
    if state is PaymentState.CANCELED:
        return ActionRefused("already_canceled", "the authorization was canceled; nothing is held any more")
    if state is PaymentState.UNKNOWN:
        return ActionRefused("authorization_unknown", "the authorization's outcome is unknown: resolve it "
                             "first (design §6.2)")
    if state is not PaymentState.AUTHORIZED:
        return ActionRefused("not_authorized", f"the payment is {state}: there is no authorization to act on")
    if action is Action.CAPTURE and payment.update_required:
        return ActionRefused("update_required", f"hold differs from order total — update required: the hold "
                             f"is ¥{payment.amount:,}, the order total ¥{payment.current_order_total:,} (R12)")
    return None


def stale_total(payment: Payment, request: ActionRequest) -> ActionRefused | None:
    """The sender saw another order total in checkout than payment knows: checkout's `OrderAmountChanged` has
    not reached payment yet (or the sender's view is old). Acting now would capture or update the wrong hold
    (R12), so the sender waits until payment reports the total it saw (`GET …/payments/{id}`: `order_total`)
    and retries. A 409 like every state clash; nothing is sent to the gateway."""
    if request.order_total is None or request.order_total == payment.current_order_total:
        return None
    return ActionRefused("order_total_stale", f"you saw the order total ¥{request.order_total:,} in checkout; "
                         f"the payment service knows ¥{payment.current_order_total:,}: the order's last edit has "
                         f"not reached it yet (or your view is older than it). Retry once the payment's order_total "
                         f"is ¥{request.order_total:,}")


def allowed_actions(payment: Payment) -> dict[Action, ActionRefused | None]:
    """For each action of R12 (and a pending release): None if allowed now, else why not."""
    actions = [Action.CAPTURE, Action.CANCEL, Action.UPDATE_AMOUNT]
    if payment.two_live_holds:
        actions.append(Action.RELEASE_PREVIOUS_HOLD)
    return {action: refusal(payment, action) for action in actions}


def begin(payment: Payment, request: ActionRequest, *, attempt_id: str, now: datetime,
          decrease_by_change: bool) -> Payment:
    """Take the payment for `request` (raises `ActionRefused`); the result names the first gateway step."""
    if request.action is Action.UPDATE_AMOUNT and request.amount is not None and request.amount < 1:
        raise ActionRefused("amount_zero", "R12: an amount update to ¥0 is not possible; cancel instead",
                            conflict=False)
    refused = refusal(payment, request.action) or stale_total(payment, request)
    if refused is not None:
        raise refused
    target = _target_amount(payment, request)
    step = _FIRST_STEP.get(request.action)
    if step is None:
        decrease = target is not None and target < payment.amount
        step = GatewayOperation.CHANGE if decrease and decrease_by_change else GatewayOperation.REAUTH
    running = RunningAction(action=request.action, step=step, attempt_id=attempt_id, since=now,
                            requested_by=request.requested_by, target_amount=target,
                            on_previous=request.action is Action.RELEASE_PREVIOUS_HOLD)
    return replace(payment, running_action=running)


def _target_amount(payment: Payment, request: ActionRequest) -> int | None:
    """The new amount of an update (the order total); the expected amount of a capture is checked here too."""
    if request.action is Action.CAPTURE and request.amount not in (None, payment.amount):
        raise ActionRefused("amount_mismatch", f"the hold to capture is ¥{payment.amount:,}, not "
                            f"¥{request.amount:,}")
    if request.action is not Action.UPDATE_AMOUNT:
        return None
    total = payment.current_order_total
    target = total if request.amount is None else request.amount
    if target < 1:
        raise ActionRefused("amount_zero", "R12: the order total is ¥0; cancel instead of updating",
                            conflict=False)
    if target != total:
        raise ActionRefused("amount_mismatch", f"the order total is ¥{total:,}: the hold follows the order, "
                            f"so edit the order first (checkout) and update to its total")
    if target == payment.amount:
        raise ActionRefused("amount_unchanged", f"R12: the hold is already ¥{target:,}", conflict=False)
    return target


def expire(payment: Payment, *, now: datetime, lease: timedelta) -> tuple[Payment, list[ev.DomainEvent], str | None]:
    """An action whose step outlived `lease` was interrupted (crash): its outcome is unknown, never resent.

    Returns the settled payment, its events and the attempt id to mark interrupted (None if nothing expired).
    """
    running = payment.running_action
    if running is None or now - running.since < lease:
        return payment, [], None
    settled, events = finish(payment, INTERRUPTED, next_attempt_id=running.attempt_id, now=now,
                             sales_date=now.date(), max_sends=1)
    return settled, events, running.attempt_id


def finish(payment: Payment, reply: Reply, *, next_attempt_id: str, now: datetime, sales_date: date,
           max_sends: int) -> Decided:
    """Apply the reply of the running step. The action continues (`running_action` set, with `next_attempt_id`)
    when a not-sent call is resent or 1ReAuth succeeded and the old hold must be released."""
    running = payment.running_action
    if running is None:
        raise ValueError(f"no action is running on payment {payment.order_id}")
    if reply.outcome is Outcome.NOT_SENT and running.unsent + 1 < max_sends:
        resend = replace(running, attempt_id=next_attempt_id, since=now, unsent=running.unsent + 1)
        return replace(payment, running_action=resend), []
    if running.on_previous and running.step is GatewayOperation.SEARCH:
        return _after_check(payment, running, reply, next_attempt_id=next_attempt_id, now=now)
    if running.on_previous:
        return _after_release(payment, running, reply)
    if reply.outcome is Outcome.OK:
        return _succeeded(payment, running, reply, next_attempt_id=next_attempt_id, now=now, sales_date=sales_date)
    return _failed(payment, running, reply)


def _succeeded(payment: Payment, running: RunningAction, reply: Reply, *, next_attempt_id: str, now: datetime,
               sales_date: date) -> Decided:
    p = replace(payment, running_action=None)
    ids = _event_ids(p, running)
    tx = reply.transaction_id or payment.transaction_id or "unknown"
    if running.action is Action.CAPTURE:
        event: ev.DomainEvent = ev.PaymentCaptured(**ids, amount=p.amount, transaction_id=tx, sales_date=sales_date)
        return replace(p, state=PaymentState.CAPTURED, sales_date=sales_date), [event]
    if running.action is Action.CANCEL:
        event = ev.PaymentCanceled(**ids, amount=p.amount, transaction_id=tx)
        return replace(p, state=PaymentState.CANCELED), [event]
    assert running.target_amount is not None
    hold = payment.transaction_id or tx
    if running.step is GatewayOperation.CHANGE:
        event = ev.PaymentAmountUpdated(**ids, previous_amount=p.amount, amount=running.target_amount,
                                        transaction_id=hold, previous_transaction_id=hold,
                                        previous_hold_released=True)
        return replace(p, amount=running.target_amount), [event]
    reauthorized = replace(payment, amount=running.target_amount, transaction_id=tx, process_id=reply.process_id,
                           approval_number=reply.approval_number or payment.approval_number)
    if reply.process_id == payment.process_id:  # re-authorized in place under the same pair: nothing to release
        event = ev.PaymentAmountUpdated(**ids, previous_amount=p.amount, amount=running.target_amount,
                                        transaction_id=tx, previous_transaction_id=hold, previous_hold_released=True)
        return replace(reauthorized, running_action=None), [event]
    previous = PreviousHold(process_id=payment.process_id, transaction_id=payment.transaction_id,
                            amount=payment.amount)
    check = replace(running, step=GatewayOperation.SEARCH, on_previous=True, attempt_id=next_attempt_id,
                    since=now, unsent=0)
    return replace(reauthorized, previous_hold=previous, running_action=check), []


def _after_check(payment: Payment, running: RunningAction, reply: Reply, *, next_attempt_id: str,
                 now: datetime) -> Decided:
    """What the old pair names now (module docstring, "The old pair"): release it only if it is a separate hold."""
    previous = payment.previous_hold
    assert previous is not None
    amount = reply.amount if reply.outcome is Outcome.OK else None
    if amount == previous.amount:  # a separate transaction at the old amount: release it
        release = replace(running, step=GatewayOperation.DELETE, attempt_id=next_attempt_id, since=now, unsent=0)
        return replace(payment, running_action=release), []
    if amount == payment.amount:  # the old pair names the re-authorized hold: nothing separate is live
        return _after_release(payment, running, replace(reply, codes=()))
    unverified = reply if reply.outcome is not Outcome.OK else replace(reply, outcome=Outcome.DECLINED)
    return _after_release(payment, running, unverified, reason="previous_hold_unverified")


def _after_release(payment: Payment, running: RunningAction, reply: Reply, *, reason: str | None = None) -> Decided:
    """K14 counts as released: the old transaction is no longer live (it was never captured by us). `reason`
    overrides the failure's reason (a check of the old pair that could not tell what it names)."""
    previous = payment.previous_hold
    assert previous is not None
    p, old_tx = replace(payment, running_action=None), previous.transaction_id or "unknown"
    ids = _event_ids(p, running)
    released = reason is None and (reply.outcome is Outcome.OK or reply.codes == ("K14",))
    events: list[ev.DomainEvent] = []
    if running.action is Action.UPDATE_AMOUNT:
        events.append(ev.PaymentAmountUpdated(**ids, previous_amount=previous.amount, amount=p.amount,
                                              transaction_id=p.transaction_id or "unknown",
                                              previous_transaction_id=old_tx, previous_hold_released=released))
    if released:
        if running.action is Action.RELEASE_PREVIOUS_HOLD:
            events.append(ev.PaymentHoldReleased(**ids, amount=previous.amount, transaction_id=old_tx))
        return replace(p, previous_hold=None), events
    outcome, why = _failure(reply)
    why = reason if reason is not None and outcome != "unknown" else why
    failed = replace(previous, state=HoldState.RELEASE_FAILED, codes=reply.codes, reason=why)
    events.append(ev.PaymentOperationFailed(**ids, operation=Action.RELEASE_PREVIOUS_HOLD.value, outcome=outcome,
                                            reason=why, gateway_operation=running.step.value, codes=reply.codes))
    return replace(p, previous_hold=failed), events


class _EventIds(TypedDict):
    order_id: str
    shop_id: str
    payment_number: str
    requested_by: str | None


def _event_ids(payment: Payment, running: RunningAction) -> _EventIds:
    """The fields every event of an action starts with."""
    return _EventIds(order_id=payment.order_id, shop_id=payment.shop_id, payment_number=payment.payment_number,
                     requested_by=running.requested_by)


def _failed(payment: Payment, running: RunningAction, reply: Reply) -> Decided:
    p = replace(payment, running_action=None)
    outcome, reason = _failure(reply)
    event = ev.PaymentOperationFailed(**_event_ids(p, running), operation=running.action.value, outcome=outcome,
                                      reason=reason, gateway_operation=running.step.value, codes=reply.codes)
    if reply.outcome is Outcome.UNKNOWN:
        unknown = UnknownAction(action=running.action, step=running.step, attempt_id=running.attempt_id,
                                requested_by=running.requested_by, target_amount=running.target_amount,
                                reason=reason)
        p = replace(p, unknown_action=unknown)
    return p, [event]


def _failure(reply: Reply) -> tuple[str, str]:
    """`PaymentOperationFailed` outcome and reason: a decline names the codes; not sent is a certain failure."""
    if reply.outcome is Outcome.UNKNOWN:
        return "unknown", reply.reason or "unknown"
    if reply.outcome is Outcome.NOT_SENT:
        return "declined", "gateway_unreachable"
    return "declined", "gateway_declined"


def refused_event(payment: Payment, request: ActionRequest, refused: ActionRefused) -> ev.DomainEvent:
    """What a command sender learns when the rules refuse its command (HTTP callers get the answer directly)."""
    return ev.PaymentOperationFailed(order_id=payment.order_id, shop_id=payment.shop_id,
                                     payment_number=payment.payment_number, operation=request.action.value,
                                     outcome="refused", reason=refused.code, requested_by=request.requested_by)


def resolve_action(payment: Payment, *, succeeded: bool, reply: Reply, next_attempt_id: str, now: datetime,
                   sales_date: date) -> Decided:
    """An operator's finding about an action's unknown step: `succeeded` applies it as if the gateway had
    answered OK with `reply`'s ids (1ReAuth needs the new hold's ProcessId; its old hold is then released),
    else it is dropped and the payment stays as it was."""
    unknown = payment.unknown_action
    if unknown is None:
        raise ActionRefused("no_unknown_operation", "no operation of this payment has an unknown outcome")
    cleared = replace(payment, unknown_action=None)
    if not succeeded:
        return cleared, []
    if unknown.step is GatewayOperation.REAUTH and not reply.process_id:
        raise ActionRefused("process_id_required", "a succeeded 1ReAuth needs the new hold's process_id and "
                            "process_pass (Sony's screen)", conflict=False)
    running = RunningAction(action=unknown.action, step=unknown.step, attempt_id=unknown.attempt_id, since=now,
                            requested_by=unknown.requested_by, target_amount=unknown.target_amount)
    return finish(replace(cleared, running_action=running), replace(reply, outcome=Outcome.OK),
                  next_attempt_id=next_attempt_id, now=now, sales_date=sales_date, max_sends=1)
