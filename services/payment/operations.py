"""Operator and automation operations on a payment: capture, cancel, amount update, release of a left-over
hold, their resolution when unknown, and bulk capture (R12-R15, design §6.2, §6.5, I2).

One operation on one payment: a short unit of work locks the payment row, settles an operation that outlived
its lease (interrupted: unknown), decides (`domain.operator.begin`), records the attempt and commits; the
gateway call runs outside any transaction; a second unit of work applies the reply, completes the attempt,
stages the events and, when the operation has a next step (1ReAuth -> 1Delete of the old hold, or a resend
of a call that certainly was not sent), records that step's attempt in the same transaction. While the
operation runs the payment says so, so a concurrent request is refused with the current state: never two
gateway operations on one transaction at once. Unknown outcomes are kept for operators, never resent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

from pydantic import SecretStr

from delivery.logs import get_logger
from services.payment import ids
from services.payment.domain import operator
from services.payment.domain.actions import Action, OperationRefused, OperationRequest
from services.payment.domain.attempts import INTERRUPTED, Attempt, finish_attempt
from services.payment.domain.cards import CardSource
from services.payment.domain.events import DomainEvent, PaymentOperationFailed
from services.payment.domain.model import Payment
from services.payment.domain.operations import Operation, Reply
from services.payment.ports import (
    CardGateway,
    Clock,
    CredentialsUnreadable,
    GatewayAnswer,
    GatewayCall,
    Trace,
    UnitOfWork,
    UnitOfWorkFactory,
)

log = get_logger("payment.operations")
JST = timezone(timedelta(hours=9))


class PaymentNotFound(LookupError):
    """No payment for this order in this shop (HTTP 404; a command is retried, then dead-lettered)."""


@dataclass(frozen=True)
class OperationPolicy:
    send_attempts: int = 3
    retry_backoff_s: float = 0.5
    lease_s: float = 120.0
    decrease_by_change: bool = True
    bulk_concurrency: int = 64


@dataclass(frozen=True)
class OperationResult:
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


@dataclass(frozen=True)
class _Run:
    """One operation being driven: the payment as last saved, the next call, the events staged so far."""

    action: Action
    payment: Payment
    call: GatewayCall | None
    events: list[DomainEvent]
    attempt: Attempt | None = None
    late: bool = False  # the reply came after the operation was settled as interrupted (lease expired)


class OperationHandlers:
    def __init__(self, *, uow: UnitOfWorkFactory, gateway: CardGateway, clock: Clock,
                 policy: OperationPolicy) -> None:
        self._uow = uow
        self._gateway = gateway
        self._clock = clock
        self._policy = policy

    async def operate(self, shop_id: str, order_id: str, request: OperationRequest, *,
                      trace: Trace | None = None) -> OperationResult:
        """Run one operation. With an inbound command in `trace`, it is applied once (inbox) and a refusal is
        published as `PaymentOperationFailed` (an HTTP caller gets it in the response instead)."""
        async with self._uow(trace) as tx:
            if not await tx.claim_inbound():
                return OperationResult(order_id, "duplicate")
            payment = await self._locked(tx, shop_id, order_id)
            try:
                run = await self._begin(tx, payment, request)
            except OperationRefused as refused:
                return await self._refused(tx, payment, request, refused, command=trace is not None)
        return await self._drive(run, trace)

    async def capture_many(self, shop_id: str, orders: list[tuple[str, int | None]],
                           requested_by: str | None) -> list[OperationResult]:
        """Bulk capture: each order is its own operation (own lock, own result), `bulk_concurrency` at a time."""
        gate = asyncio.Semaphore(self._policy.bulk_concurrency)

        async def one(order_id: str, amount: int | None) -> OperationResult:
            async with gate:
                try:
                    return await self.operate(shop_id, order_id, OperationRequest(Action.CAPTURE, requested_by,
                                                                                  amount))
                except PaymentNotFound:
                    return OperationResult(order_id, "not_found", message="no payment for this order")

        return list(await asyncio.gather(*(one(order_id, amount) for order_id, amount in orders)))

    async def resolve(self, shop_id: str, order_id: str, *, succeeded: bool, reply: Reply,
                      process_pass: SecretStr | None) -> OperationResult:
        """An operator's finding about an operation whose outcome is unknown (design §6.2)."""
        now = self._clock.now()
        async with self._uow() as tx:
            payment = await self._locked(tx, shop_id, order_id)
            unknown = payment.unknown_operation
            try:
                updated, events = operator.resolve_operation(payment, succeeded=succeeded, reply=reply,
                                                             next_attempt_id=ids.attempt_id(), now=now,
                                                             sales_date=_jst(now))
            except OperationRefused as refused:
                return _refusal(payment, refused)
            assert unknown is not None
            await tx.attempts.resolve_one(unknown.attempt_id, "succeeded" if succeeded else "failed")
            reauth = succeeded and unknown.step is Operation.REAUTH
            run = await self._commit(tx, _Run(unknown.action, payment, None, []), updated, events,
                                     process_pass if reauth else None)
        log.info("payment.operation_resolved", order_id=order_id, action=unknown.action.value, succeeded=succeeded)
        return await self._drive(run, None)

    async def record_order_total(self, shop_id: str, order_id: str, total: int, trace: Trace) -> None:
        """`OrderAmountChanged`: the order's new total; capture waits until the hold is updated to it (R12)."""
        async with self._uow(trace) as tx:
            if not await tx.claim_inbound():
                return
            payment = await tx.payments.get(order_id, lock=True)
            if payment is None or payment.shop_id != shop_id:
                log.warning("payment.order_total_for_unknown_payment", order_id=order_id, shop_id=shop_id)
                return
            saved = await tx.payments.save(replace(payment, order_total=total))
        log.info("payment.order_total_changed", order_id=order_id, hold=saved.amount, order_total=total,
                 update_required=saved.update_required)

    # -- one operation ---------------------------------------------------------------------------------
    async def _locked(self, tx: UnitOfWork, shop_id: str, order_id: str) -> Payment:
        """The payment, row-locked for this unit of work, with an operation that outlived its lease settled."""
        payment = await tx.payments.get(order_id, lock=True)
        if payment is None or payment.shop_id != shop_id:
            raise PaymentNotFound(order_id)
        now = self._clock.now()
        settled, events, attempt_id = operator.expire(payment, now=now,
                                                      lease=timedelta(seconds=self._policy.lease_s))
        if attempt_id is None:
            return payment
        log.error("payment.operation_interrupted", order_id=order_id, attempt_id=attempt_id,
                  payment_number=payment.payment_number)
        attempt = await tx.attempts.get(attempt_id)
        if attempt is not None and attempt.finished_at is None:
            await tx.attempts.save(finish_attempt(attempt, INTERRUPTED, now))
        running = _running(payment)
        run = await self._commit(tx, _Run(running.action, payment, None, []), settled, events, None)
        return run.payment

    async def _begin(self, tx: UnitOfWork, payment: Payment, request: OperationRequest) -> _Run:
        now = self._clock.now()
        started = operator.begin(payment, request, attempt_id=ids.attempt_id(), now=now,
                                 decrease_by_change=self._policy.decrease_by_change)
        call = await self._prepare(tx, started)
        saved = await tx.payments.save(started)
        attempt = self._attempt(saved)
        await tx.attempts.add(attempt)
        log.info("payment.operation_started", order_id=saved.order_id, action=request.action.value,
                 step=attempt.operation.value, requested_by=request.requested_by)
        return _Run(request.action, saved, call, [], attempt)

    async def _refused(self, tx: UnitOfWork, payment: Payment, request: OperationRequest,
                       refused: OperationRefused, *, command: bool) -> OperationResult:
        log.info("payment.operation_refused", order_id=payment.order_id, action=request.action.value,
                 code=refused.code)
        if command:
            payment = await tx.payments.save(payment)  # a new version for the refusal event (subject_version)
            await tx.emit(operator.refused_event(payment, request, refused), version=payment.version)
        return _refusal(payment, refused)

    async def _drive(self, run: _Run, trace: Trace | None) -> OperationResult:
        while (running := run.payment.in_progress) is not None:
            assert run.call is not None
            if running.unsent:
                await asyncio.sleep(self._policy.retry_backoff_s * 2 ** (running.unsent - 1))
            answer = await self._gateway.send(run.call)
            async with self._uow(trace) as tx:
                run = await self._apply(tx, run, answer)
        return self._result(run)

    async def _apply(self, tx: UnitOfWork, run: _Run, answer: GatewayAnswer) -> _Run:
        sent = _running(run.payment)
        current = await tx.payments.get(run.payment.order_id, lock=True)
        assert current is not None
        now, attempt = self._clock.now(), run.attempt
        if current.in_progress is None or current.in_progress.attempt_id != sent.attempt_id or attempt is None:
            log.error("payment.operation_late_reply", order_id=current.order_id, attempt_id=sent.attempt_id,
                      outcome=answer.reply.outcome.value, codes=list(answer.reply.codes))  # lease expired meanwhile
            return replace(run, payment=current, call=None, late=True)
        await tx.attempts.save(finish_attempt(attempt, answer.reply, now))
        updated, events = operator.finish(current, answer.reply, next_attempt_id=ids.attempt_id(), now=now,
                                          sales_date=_jst(now), max_sends=self._policy.send_attempts)
        new_pass = answer.process_pass if sent.step is Operation.REAUTH and not sent.on_previous else None
        return await self._commit(tx, replace(run, payment=current), updated, events, new_pass)

    async def _commit(self, tx: UnitOfWork, run: _Run, after: Payment, events: list[DomainEvent],
                      new_pass: SecretStr | None) -> _Run:
        """Save, stage `events`, and record (and prepare) the next step if the operation continues.

        The pair is read after saving: a 1ReAuth just moved the old hold's ProcessPass aside (`retire_pass`).
        """
        retire = run.payment.previous_hold is None and after.previous_hold is not None
        saved = await tx.payments.save(after, process_pass=new_pass, retire_pass=retire)
        for event in events:
            await tx.emit(event, version=saved.version)
        call, attempt = None, None
        if saved.in_progress is not None:
            call, attempt = await self._prepare(tx, saved), self._attempt(saved)
            await tx.attempts.add(attempt)
        _log_outcome(saved, events)
        return _Run(run.action, saved, call, run.events + events, attempt)

    async def _prepare(self, tx: UnitOfWork, payment: Payment) -> GatewayCall:
        """The gateway call for the running step: credentials, the pair (current or previous hold), member."""
        running = _running(payment)
        try:
            credentials = await tx.shops.credentials(payment.shop_id)
        except CredentialsUnreadable:
            credentials = None
        if credentials is None:
            raise OperationRefused("gateway_credentials_missing", "the shop's gateway credentials are missing or "
                                   "unreadable; set them again before operating")
        process = await tx.payments.process_key(payment.order_id, previous=running.on_previous)
        if process is None:
            raise OperationRefused("transaction_unknown", "no ProcessId/ProcessPass is stored for this "
                                   "transaction (e.g. resolved without them): operate it in Sony's screen")
        member = None
        if payment.kaiin_id and payment.plan is not None and payment.plan.source is CardSource.MEMBER:
            member = await tx.members.key(payment.kaiin_id)
        amount = running.target_amount if running.step in (Operation.CHANGE, Operation.REAUTH) else payment.amount
        return GatewayCall(running.step, credentials, amount or payment.amount, payment.pay_type, None, member,
                           process, free1=payment.payment_number, free2=payment.buyer_name,
                           sales_date=_jst(self._clock.now()) if running.step is Operation.CAPTURE else None)

    def _attempt(self, payment: Payment) -> Attempt:
        running = _running(payment)
        uses_member = payment.plan is not None and payment.plan.source is CardSource.MEMBER
        amount = running.target_amount if running.step in (Operation.CHANGE, Operation.REAUTH) else None
        return Attempt(running.attempt_id, payment.shop_id, payment.order_id, running.step,
                       payment.kaiin_id if uses_member else None, self._clock.now(), action=running.action.value,
                       requested_by=running.requested_by, amount=amount)

    def _result(self, run: _Run) -> OperationResult:
        """Succeeded unless the operation itself failed (a failed release after an amount update is not a
        failed update: the new hold is in force, and the payment is flagged with two live holds)."""
        if run.late:
            return OperationResult(run.payment.order_id, "unknown", run.payment, "interrupted",
                                   "the gateway answered after the operation's lease expired; it is recorded as "
                                   "unknown", False)
        failed = [e for e in run.events if isinstance(e, PaymentOperationFailed) and e.operation == run.action]
        if not failed:
            return OperationResult(run.payment.order_id, "succeeded", run.payment)
        event = failed[0]
        message = f"{event.gateway_operation} {event.outcome}: {event.reason}"
        return OperationResult(run.payment.order_id, event.outcome, run.payment, event.reason, message, False,
                               event.gateway_operation, event.codes)


def _running(payment: Payment) -> operator.InProgress:
    if payment.in_progress is None:
        raise ValueError(f"no operation is running on payment {payment.order_id}")
    return payment.in_progress


def _refusal(payment: Payment, refused: OperationRefused) -> OperationResult:
    return OperationResult(payment.order_id, "refused", payment, refused.code, refused.message, refused.conflict)


def _jst(moment: datetime) -> date:
    """SalesDate and other business dates are JST calendar dates (design §4)."""
    return moment.astimezone(JST).date()


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

