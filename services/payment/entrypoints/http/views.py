"""JSON views of a payment for operators: state, amounts, ids, what may be done now and why not, the live
gateway status and the operation history (R12-R17). Raw gateway codes always come with their descriptions.
Never a secret: no ProcessPass, KaiinPass, token or card data.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from services.payment.domain.action_rules import allowed_actions
from services.payment.domain.actions import PreviousHold, RunningAction, UnknownAction
from services.payment.domain.attempts import Attempt
from services.payment.domain.codes import describe
from services.payment.domain.retries import ScheduledRetry
from services.payment.handlers.status import LiveStatus, PaymentView

UPDATE_REQUIRED = "hold differs from order total — update required"
TWO_HOLDS = "two live holds at the gateway: the hold replaced by an amount update could not be released"


def descriptions(codes: tuple[str, ...] | list[str]) -> list[str]:
    return [f"{describe(c).ja} / {describe(c).en}" for c in codes]


class Refusal(BaseModel):
    reason_code: str
    reason: str


class AttemptOut(BaseModel):
    attempt_id: str
    operation: str
    action: str | None
    requested_by: str | None
    amount: int | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    codes: list[str]
    descriptions: list[str]
    transaction_id: str | None
    reason: str | None
    resolution: str | None


class RunningOut(BaseModel):
    action: str
    step: str
    since: datetime
    requested_by: str | None
    target_amount: int | None


class UnknownOut(BaseModel):
    action: str
    step: str
    attempt_id: str
    requested_by: str | None
    target_amount: int | None
    reason: str


class PreviousHoldOut(BaseModel):
    transaction_id: str | None
    process_id: str | None
    amount: int
    state: str
    codes: list[str]
    descriptions: list[str]
    reason: str | None


class LiveOut(BaseModel):
    """`available` False: `message` is R17's 「決済状況が確認できません」, with the codes (or our reason)."""

    available: bool
    amount: int | None
    sales_date: str | None
    codes: list[str]
    descriptions: list[str]
    reason: str | None
    message: str | None


class RetryOut(BaseModel):
    """A declined renewal payment tries again (the shop's opt-in, R22): when, and how many retries ran so far."""

    due_at: datetime
    retries: int
    first_tried_at: datetime


class PaymentOut(BaseModel):
    order_id: str
    shop_id: str
    payment_number: str
    state: str
    sales_mode: str
    amount: int
    held_amount: int
    captured_amount: int
    order_total: int
    update_required: bool
    two_live_holds: bool
    notices: list[str]
    sales_date: date | None
    pay_type: str
    card_source: str | None
    transaction_id: str | None
    approval_number: str | None
    process_id: str | None
    codes: list[str]
    descriptions: list[str]
    reason: str | None
    buyer_message: str | None
    resolution: str | None
    cleanup: str
    allowed_operations: list[str]
    refused_operations: dict[str, Refusal]
    operation_in_progress: RunningOut | None
    unknown_operation: UnknownOut | None
    previous_hold: PreviousHoldOut | None
    renewal: bool
    retry: RetryOut | None
    live: LiveOut | None
    history: list[AttemptOut]


def payment_out(view: PaymentView) -> PaymentOut:
    p = view.payment
    allowed = allowed_actions(p)
    notices = [UPDATE_REQUIRED] if p.update_required else []
    notices += [TWO_HOLDS] if p.two_live_holds else []
    return PaymentOut(
        order_id=p.order_id, shop_id=p.shop_id, payment_number=p.payment_number, state=p.state.value,
        sales_mode=p.sales_mode.value, amount=p.amount, held_amount=p.held_amount, captured_amount=p.captured_amount,
        order_total=p.current_order_total, update_required=p.update_required, two_live_holds=p.two_live_holds,
        notices=notices, sales_date=p.sales_date, pay_type=p.pay_type,
        card_source=p.plan.source.value if p.plan else None, transaction_id=p.transaction_id,
        approval_number=p.approval_number, process_id=p.process_id, codes=list(p.codes),
        descriptions=descriptions(p.codes), reason=p.reason, buyer_message=p.buyer_message, resolution=p.resolution,
        cleanup=p.cleanup.value, allowed_operations=[a.value for a, why in allowed.items() if why is None],
        refused_operations={a.value: Refusal(reason_code=why.code, reason=why.message)
                            for a, why in allowed.items() if why is not None},
        operation_in_progress=_running(p.running_action), unknown_operation=_unknown(p.unknown_action),
        previous_hold=_previous(p.previous_hold), renewal=p.renewal, retry=_retry(view.retry), live=_live(view.live),
        history=[_attempt(a) for a in view.history],
    )  # fmt: skip


def _attempt(a: Attempt) -> AttemptOut:
    return AttemptOut(attempt_id=a.attempt_id, operation=a.operation.value, action=a.action,
                      requested_by=a.requested_by, amount=a.amount, status=a.status.value, started_at=a.started_at,
                      finished_at=a.finished_at, codes=list(a.codes), descriptions=descriptions(a.codes),
                      transaction_id=a.transaction_id, reason=a.reason, resolution=a.resolution)


def _running(r: RunningAction | None) -> RunningOut | None:
    if r is None:
        return None
    return RunningOut(action=r.action.value, step=r.step.value, since=r.since, requested_by=r.requested_by,
                      target_amount=r.target_amount)


def _unknown(u: UnknownAction | None) -> UnknownOut | None:
    if u is None:
        return None
    return UnknownOut(action=u.action.value, step=u.step.value, attempt_id=u.attempt_id,
                      requested_by=u.requested_by, target_amount=u.target_amount, reason=u.reason)


def _previous(h: PreviousHold | None) -> PreviousHoldOut | None:
    if h is None:
        return None
    return PreviousHoldOut(transaction_id=h.transaction_id, process_id=h.process_id, amount=h.amount,
                           state=h.state.value, codes=list(h.codes), descriptions=descriptions(h.codes),
                           reason=h.reason)


def _retry(r: ScheduledRetry | None) -> RetryOut | None:
    return None if r is None else RetryOut(due_at=r.due_at, retries=r.retries, first_tried_at=r.first_tried_at)


def _live(s: LiveStatus | None) -> LiveOut | None:
    if s is None:
        return None
    return LiveOut(available=s.available, amount=s.amount, sales_date=s.sales_date, codes=list(s.codes),
                   descriptions=descriptions(s.codes), reason=s.reason, message=s.message)
