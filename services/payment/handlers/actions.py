"""Operator actions on a payment: capture, cancel, amount update, release of a left-over hold, the resolution of
an unknown step, and bulk capture (R12-R15, design §6.2, §6.5, I2). Commands on `payments.commands` are the
same actions, sent by automation.

One action on one payment: a unit of work locks the payment row, settles an action that outlived its lease
(interrupted: unknown), decides (`domain.action_rules.begin`), records the first step's attempt and commits;
each step is then sent outside any transaction and applied in a new unit (`handlers/steps.py`), which also
decides the next step (1ReAuth -> 1Delete of the old hold, or a resend of a call that certainly was not
sent). While the action runs the payment says so, so a concurrent request is refused with the current state:
never two gateway operations on one transaction at once. Unknown outcomes are kept for operators, never resent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial

from pydantic import SecretStr

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.payment import translate
from services.payment.domain import action_rules
from services.payment.domain.actions import Action, ActionRefused, ActionRequest
from services.payment.domain.attempts import INTERRUPTED, Attempt, finish_attempt
from services.payment.domain.calls import action_call
from services.payment.domain.events import DomainEvent, PaymentOperationFailed
from services.payment.domain.gateway import CallImpossible, GatewayOperation, Reply, business_date
from services.payment.domain.model import Payment
from services.payment.handlers.deps import Deps
from services.payment.handlers.steps import (
    PaymentNotFound,
    RecordedCall,
    complete_attempt,
    locked_payment,
    new_hold_pass,
    record_call,
    save_and_publish,
    send_recorded,
    take_step,
)
from services.payment.ports import GatewayAnswer, UnitOfWork

log = get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class ActionResult:
    """How one request ended: `succeeded`, `refused` (rules; `conflict` = 409), `declined` (gateway codes or
    unreachable), `unknown` (never resent), `duplicate` (a command applied before) or `not_found`."""

    order_id: str
    outcome: str
    payment: Payment | None = None
    code: str | None = None
    message: str | None = None
    conflict: bool = True
    gateway_operation: str | None = None
    codes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class _Run:
    """One action being driven: the payment as last saved and the events staged so far. `late`: the reply came
    after the action was settled as interrupted (its lease expired)."""

    action: Action
    payment: Payment
    events: tuple[DomainEvent, ...] = ()
    late: bool = False


async def run_action(deps: Deps, request: ActionRequest, *, shop_id: str, order_id: str,
                     inbound: Inbound | None = None) -> ActionResult:
    """Run one action. With an inbound command it is applied once (inbox) and a refusal is published as
    `PaymentOperationFailed` (an HTTP caller gets it in the response instead)."""
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return ActionResult(order_id=order_id, outcome="duplicate")
        payment = await _settled(deps, uow, shop_id=shop_id, order_id=order_id, inbound=inbound)
        try:
            started = action_rules.begin(payment, request, attempt_id=deps.ids.attempt_id(), now=deps.clock.now(),
                                         decrease_by_change=deps.policy.decrease_by_change)
            recorded = await _record_first(deps, uow, started)
        except ActionRefused as refused:
            return await _refused(uow, payment, request, refused=refused, inbound=inbound)
        saved = await uow.payments.save(started)
        log.info("payment.operation_started", order_id=order_id, action=request.action.value,
                 step=recorded.attempt.operation.value, requested_by=request.requested_by)
    run = await send_recorded(deps, recorded, partial(_apply, deps=deps, run=_Run(action=request.action,
                                                                                  payment=saved), inbound=inbound))
    return _result(await _drive(deps, run, inbound=inbound))


async def capture_orders(deps: Deps, requests: dict[str, ActionRequest], *, shop_id: str) -> list[ActionResult]:
    """Bulk capture: each order (order id -> its capture request) is its own action (own lock, own result),
    `bulk_concurrency` at a time."""
    gate = asyncio.Semaphore(deps.policy.bulk_concurrency)

    async def one(order_id: str, request: ActionRequest) -> ActionResult:
        async with gate:
            try:
                return await run_action(deps, request, shop_id=shop_id, order_id=order_id)
            except PaymentNotFound:
                return ActionResult(order_id=order_id, outcome="not_found", message="no payment for this order")

    return list(await asyncio.gather(*(one(order_id, request) for order_id, request in requests.items())))


async def resolve_action(deps: Deps, reply: Reply, *, shop_id: str, order_id: str, succeeded: bool,
                         process_pass: SecretStr | None) -> ActionResult:
    """An operator's finding about an action whose step's outcome is unknown (design §6.2)."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        payment = await _settled(deps, uow, shop_id=shop_id, order_id=order_id, inbound=None)
        unknown = payment.unknown_action
        try:
            updated, events = action_rules.resolve_action(payment, succeeded=succeeded, reply=reply,
                                                          next_attempt_id=deps.ids.attempt_id(), now=now,
                                                          sales_date=business_date(now))
        except ActionRefused as refused:
            return _refusal(payment, refused)
        assert unknown is not None
        await uow.attempts.resolve_one(unknown.attempt_id, "succeeded" if succeeded else "failed")
        reauth = succeeded and unknown.step is GatewayOperation.REAUTH
        saved = await save_and_publish(uow, before=payment, after=updated, events=events,
                                       new_pass=process_pass if reauth else None, inbound=None)
        _log_outcome(saved, events)
    log.info("payment.operation_resolved", order_id=order_id, action=unknown.action.value, succeeded=succeeded)
    run = _Run(action=unknown.action, payment=saved, events=tuple(events))
    return _result(await _drive(deps, run, inbound=None))


async def record_order_total(deps: Deps, total: int, *, shop_id: str, order_id: str,
                             inbound: Inbound | None = None) -> None:
    """`OrderAmountChanged`: the order's new total; capture waits until the hold is updated to it (R12)."""
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return
        payment = await uow.payments.get(order_id, lock=True)
        if payment is None or payment.shop_id != shop_id:
            log.warning("payment.order_total_for_unknown_payment", order_id=order_id, shop_id=shop_id)
            return
        saved = await uow.payments.save(replace(payment, order_total=total))
    log.info("payment.order_total_changed", order_id=order_id, hold=saved.amount, order_total=total,
             update_required=saved.update_required)


async def _settled(deps: Deps, uow: UnitOfWork, *, shop_id: str, order_id: str, inbound: Inbound | None) -> Payment:
    """The payment, row-locked for this unit, with an action that outlived its lease settled as unknown."""
    payment = await locked_payment(uow, shop_id, order_id)
    now = deps.clock.now()
    settled, events, attempt_id = action_rules.expire(payment, now=now,
                                                      lease=timedelta(seconds=deps.policy.action_lease_s))
    if attempt_id is None:
        return payment
    log.error("payment.operation_interrupted", order_id=order_id, attempt_id=attempt_id,
              payment_number=payment.payment_number)
    attempt = await uow.attempts.get(attempt_id)
    if attempt is not None and attempt.finished_at is None:
        await uow.attempts.save(finish_attempt(attempt, INTERRUPTED, now))
    saved = await save_and_publish(uow, before=payment, after=settled, events=events, new_pass=None,
                                   inbound=inbound)
    _log_outcome(saved, events)
    return saved


async def _record_first(deps: Deps, uow: UnitOfWork, started: Payment) -> RecordedCall:
    """The first step, recorded in the unit that takes the payment: a step that cannot be sent is refused."""
    planned = action_call(started)
    assert planned is not None
    try:
        return await record_call(deps, uow, planned)
    except CallImpossible as impossible:
        raise ActionRefused(impossible.code, impossible.message) from None


async def _refused(uow: UnitOfWork, payment: Payment, request: ActionRequest, *, refused: ActionRefused,
                   inbound: Inbound | None) -> ActionResult:
    log.info("payment.operation_refused", order_id=payment.order_id, action=request.action.value,
             code=refused.code)
    if inbound is not None:  # a command: its sender learns the refusal from an event
        payment = await uow.payments.save(payment)  # a new version for the refusal event (subject_version)
        event = translate.to_contract(action_rules.refused_event(payment, request, refused))
        await uow.emit(event, correlation_id=inbound.envelope.correlation_id, causation=inbound,
                       subject_version=payment.version)
    return _refusal(payment, refused)


async def _drive(deps: Deps, run: _Run, *, inbound: Inbound | None) -> _Run:
    """The action's further steps (a resend, the release of the old hold), each a recorded step."""
    while not run.late and (planned := action_call(run.payment)) is not None:
        run = await take_step(deps, planned, partial(_apply, deps=deps, run=run, inbound=inbound))
    return run


async def _apply(uow: UnitOfWork, attempt: Attempt, answer: GatewayAnswer, *, deps: Deps, run: _Run,
                 inbound: Inbound | None) -> _Run:
    """The step's reply, unless the action was settled as interrupted meanwhile (a late reply: kept unknown)."""
    current = await uow.payments.get(run.payment.order_id, lock=True)
    assert current is not None
    running = current.running_action
    if running is None or running.attempt_id != attempt.attempt_id:
        log.error("payment.operation_late_reply", order_id=current.order_id, attempt_id=attempt.attempt_id,
                  outcome=answer.reply.outcome.value, codes=list(answer.reply.codes))
        return replace(run, payment=current, late=True)
    await complete_attempt(deps, uow, attempt, answer=answer)
    now = deps.clock.now()
    updated, events = action_rules.finish(current, answer.reply, next_attempt_id=deps.ids.attempt_id(), now=now,
                                          sales_date=business_date(now), max_sends=deps.policy.send_attempts)
    saved = await save_and_publish(uow, before=current, after=updated, events=events,
                                   new_pass=new_hold_pass(attempt, answer), inbound=inbound)
    _log_outcome(saved, events)
    return replace(run, payment=saved, events=(*run.events, *events))


def _result(run: _Run) -> ActionResult:
    """Succeeded unless the action itself failed (a failed release after an amount update is not a failed
    update: the new hold is in force, and the payment is flagged with two live holds)."""
    order_id = run.payment.order_id
    if run.late:
        return ActionResult(order_id=order_id, outcome="unknown", payment=run.payment, code="interrupted",
                            message="the gateway answered after the operation's lease expired; it is recorded as "
                            "unknown", conflict=False)
    failed = [e for e in run.events if isinstance(e, PaymentOperationFailed) and e.operation == run.action]
    if not failed:
        return ActionResult(order_id=order_id, outcome="succeeded", payment=run.payment)
    event = failed[0]
    return ActionResult(order_id=order_id, outcome=event.outcome, payment=run.payment, code=event.reason,
                        message=f"{event.gateway_operation} {event.outcome}: {event.reason}", conflict=False,
                        gateway_operation=event.gateway_operation, codes=event.codes)


def _refusal(payment: Payment, refused: ActionRefused) -> ActionResult:
    return ActionResult(order_id=payment.order_id, outcome="refused", payment=payment, code=refused.code,
                        message=refused.message, conflict=refused.conflict)


def _log_outcome(payment: Payment, events: list[DomainEvent]) -> None:
    for event in events:
        if isinstance(event, PaymentOperationFailed):
            level = log.error if event.outcome == "unknown" or payment.two_live_holds else log.warning
            level("payment.operation_failed", order_id=payment.order_id, operation=event.operation,
                  outcome=event.outcome, gateway_operation=event.gateway_operation, codes=list(event.codes),
                  reason=event.reason, payment_number=payment.payment_number)
    if payment.two_live_holds:
        log.error("payment.two_live_holds", order_id=payment.order_id, payment_number=payment.payment_number,
                  amount=payment.amount, previous=payment.previous_hold and payment.previous_hold.amount)
