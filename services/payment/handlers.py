"""Paying an order, and resolving an unknown outcome: load -> decide -> save + outbox, gateway calls between.

Every gateway call is one step (design §6.2): a unit of work records the attempt (committed before sending),
the call runs outside any transaction, a second unit of work applies the reply to the payment, completes the
attempt and stages the events. An attempt found still `sending` when the order is picked up again (crash,
lost database write) is treated as unknown, never sent again. Work on one member's stored card runs under a
per-member lease, so two orders of one member never link, charge and unlink the card at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pydantic import SecretStr

from delivery.logs import get_logger
from services.payment import ids
from services.payment.domain.attempts import INTERRUPTED, Attempt, finish_attempt
from services.payment.domain.cards import CardSource, LinkStatus, link_status_after
from services.payment.domain.events import CardLinked, CardUnlinked, DomainEvent
from services.payment.domain.model import (
    Cleanup,
    Payment,
    PlaceOrder,
    Resolution,
    apply_reply,
    next_operation,
    resolve,
)
from services.payment.domain.model import open_payment as decide_open
from services.payment.domain.model import will_retry as decide_retry
from services.payment.domain.operations import CHARGES, LINKS, MEMBER_OPERATIONS, Operation, Outcome
from services.payment.ports import (
    CardGateway,
    Clock,
    CredentialsUnreadable,
    GatewayAnswer,
    GatewayCall,
    MemberCard,
    MemberKey,
    Trace,
    UnitOfWork,
    UnitOfWorkFactory,
)

log = get_logger("payment.handlers")


@dataclass(frozen=True)
class Policy:
    send_attempts: int = 3
    retry_backoff_s: float = 0.5
    member_lease_s: float = 120.0


class MemberBusy(Exception):
    """Another order holds the member's card lease longer than expected; the consumer retries later."""


class PaymentNotFound(Exception):
    pass


class PaymentHandlers:
    def __init__(self, *, uow: UnitOfWorkFactory, gateway: CardGateway, clock: Clock, policy: Policy) -> None:
        self._uow = uow
        self._gateway = gateway
        self._clock = clock
        self._policy = policy

    async def place_payment(self, order: PlaceOrder, token: SecretStr | None, trace: Trace) -> Payment:
        """OrderPlaced: pay the order once, however often the event (or a copy with a new id) arrives."""
        await self._acquire(order.shop_id, order.choice.member_id, order.order_id)
        async with self._uow(trace) as tx:
            payment = await self._load_or_open(tx, order, trace)
        payment = await self._drive(payment, token, trace)
        async with self._uow(trace) as tx:
            await tx.claim_inbound()
            await self._release(tx, payment)
        return payment

    async def resolve_payment(self, shop_id: str, order_id: str, resolution: Resolution,
                              process_pass: SecretStr | None = None) -> Payment:
        """Record an operator's finding about an unknown outcome; then finish cleanup the order asked for."""
        async with self._uow() as tx:
            existing = await tx.payments.get(order_id)
            correlation = await tx.payments.correlation_id(order_id)
        if existing is None or existing.shop_id != shop_id or correlation is None:
            raise PaymentNotFound(order_id)
        trace = Trace(correlation)
        async with self._uow(trace) as tx:
            payment = await tx.payments.get(order_id, lock=True)
            assert payment is not None
            updated, events = resolve(payment, resolution)  # InvalidTransition when not unknown
            await tx.attempts.mark_resolved(order_id, "authorized" if resolution.authorized else "not_authorized")
            updated = await tx.payments.save(updated, process_pass=process_pass)
            await self._publish(tx, updated, events)
        log.info("payment.resolved", order_id=order_id, shop_id=shop_id, state=updated.state.value)
        if next_operation(updated) is not None:
            await self._acquire(shop_id, updated.member_id, order_id)
            updated = await self._drive(updated, None, trace)
            async with self._uow(trace) as tx:
                await self._release(tx, updated)
        return updated

    # -- opening -----------------------------------------------------------------------------------------
    async def _acquire(self, shop_id: str, member_id: str | None, holder: str) -> None:
        """Wait (bounded) for the member's card lease; guests need none."""
        if member_id is None:
            return
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + self._policy.member_lease_s + 5.0, 0.02
        while True:
            async with self._uow() as tx:
                if await tx.members.lease(shop_id, member_id, holder=holder, ttl_s=self._policy.member_lease_s):
                    return
            if loop.time() > deadline:
                raise MemberBusy(f"card lease of a member of shop {shop_id} still held")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)

    async def _release(self, tx: UnitOfWork, payment: Payment) -> None:
        if payment.member_id is not None:
            await tx.members.release(payment.shop_id, payment.member_id, holder=payment.order_id)

    async def _load_or_open(self, tx: UnitOfWork, order: PlaceOrder, trace: Trace) -> Payment:
        payment = await tx.payments.get(order.order_id, lock=True)
        if payment is None:
            return await self._open(tx, order, trace)
        if (payment.shop_id, payment.amount) != (order.shop_id, order.amount):
            log.warning("payment.order_differs", order_id=order.order_id, kept_amount=payment.amount)
        for attempt in await tx.attempts.sending(order.order_id):
            log.warning("payment.attempt_interrupted", order_id=order.order_id, operation=attempt.operation.value)
            payment = await self._apply(tx, payment, attempt, GatewayAnswer(INTERRUPTED))
        return payment

    async def _open(self, tx: UnitOfWork, order: PlaceOrder, trace: Trace) -> Payment:
        issue = await self._credentials_issue(tx, order.shop_id)
        linked = await self._linked_kaiin(tx, order)
        new_kaiin = ids.kaiin_id()
        payment, events = decide_open(order, linked_kaiin=linked, new_kaiin_id=new_kaiin, credentials_issue=issue)
        payment = await tx.payments.add(payment, correlation_id=trace.correlation_id)
        if payment.plan is not None and payment.plan.link is Operation.MEM_ADD:
            assert order.choice.member_id is not None
            card = MemberCard(new_kaiin, order.shop_id, order.choice.member_id, LinkStatus.REGISTERING)
            await tx.members.register(card, MemberKey(new_kaiin, ids.kaiin_pass()))
        await self._publish(tx, payment, events)
        log.info("payment.opened", order_id=order.order_id, shop_id=order.shop_id, state=payment.state.value,
                 payment_number=order.payment_number, reason=payment.reason,
                 plan=None if payment.plan is None else payment.plan.source.value)
        return payment

    async def _credentials_issue(self, tx: UnitOfWork, shop_id: str) -> str | None:
        try:
            found = await tx.shops.credentials(shop_id)
        except CredentialsUnreadable:
            log.error("payment.credentials_unreadable", shop_id=shop_id)
            return "gateway_credentials_unreadable"
        if found is None:
            log.error("payment.credentials_missing", shop_id=shop_id)
            return "gateway_credentials_missing"
        return None

    async def _linked_kaiin(self, tx: UnitOfWork, order: PlaceOrder) -> str | None:
        """The member's active link; a left-over `registering` record (its order never finished) is unknown."""
        member_id = order.choice.member_id
        if member_id is None:
            return None
        card = await tx.members.current(order.shop_id, member_id)
        if card is not None and card.status is LinkStatus.REGISTERING:
            await tx.members.set_status(card.kaiin_id, LinkStatus.UNKNOWN)
            return None
        return card.kaiin_id if card is not None else None

    # -- gateway steps -----------------------------------------------------------------------------------
    async def _drive(self, payment: Payment, token: SecretStr | None, trace: Trace) -> Payment:
        while (op := next_operation(payment)) is not None:
            if payment.unsent:
                await asyncio.sleep(self._policy.retry_backoff_s * 2 ** (payment.unsent - 1))
            payment = await self._step(payment, op, token, trace)
        return payment

    async def _step(self, payment: Payment, op: Operation, token: SecretStr | None, trace: Trace) -> Payment:
        attempt = Attempt(ids.attempt_id(), payment.shop_id, payment.order_id, op,
                          payment.kaiin_id if _uses_member(payment, op) else None, self._clock.now())
        async with self._uow(trace) as tx:
            call = await self._prepare(tx, payment, op, token)
            await tx.attempts.add(attempt)
            if payment.member_id is not None:  # renew: a long sequence of slow calls keeps the member's lease
                await tx.members.lease(payment.shop_id, payment.member_id, holder=payment.order_id,
                                       ttl_s=self._policy.member_lease_s)
        answer = await self._gateway.send(call)
        async with self._uow(trace) as tx:
            current = await tx.payments.get(payment.order_id, lock=True)
            assert current is not None
            return await self._apply(tx, current, attempt, answer)

    async def _prepare(self, tx: UnitOfWork, payment: Payment, op: Operation,
                       token: SecretStr | None) -> GatewayCall:
        credentials = await tx.shops.credentials(payment.shop_id)
        if credentials is None:
            raise RuntimeError(f"gateway credentials of shop {payment.shop_id} disappeared")
        member = await tx.members.key(payment.kaiin_id) if payment.kaiin_id and _uses_member(payment, op) else None
        process = await tx.payments.process_key(payment.order_id) if op is Operation.DELETE else None
        return GatewayCall(op, credentials, payment.amount, payment.pay_type,
                           token if _uses_token(payment, op) else None, member, process,
                           free1=payment.payment_number, free2=payment.buyer_name)

    async def _apply(self, tx: UnitOfWork, payment: Payment, attempt: Attempt, answer: GatewayAnswer) -> Payment:
        op, reply = attempt.operation, answer.reply
        retrying = decide_retry(payment, reply, max_sends=self._policy.send_attempts)
        updated, events = apply_reply(payment, op, reply, attempt_id=attempt.attempt_id,
                                      max_sends=self._policy.send_attempts)
        await tx.attempts.save(finish_attempt(attempt, reply, self._clock.now()))
        await self._update_member(tx, payment, op, answer, retrying=retrying)
        updated = await tx.payments.save(updated, process_pass=answer.process_pass)
        await self._publish(tx, updated, events)
        _log_step(updated, op, answer)
        return updated

    async def _update_member(self, tx: UnitOfWork, payment: Payment, op: Operation, answer: GatewayAnswer, *,
                             retrying: bool) -> None:
        if op not in MEMBER_OPERATIONS or payment.kaiin_id is None:
            return
        card = await tx.members.get(payment.kaiin_id)
        if card is None:
            return
        status = link_status_after(card.status, op, answer.reply, retrying=retrying)
        if status is not card.status:
            await tx.members.set_status(card.kaiin_id, status)
        if op is Operation.MEM_CHG and answer.reply.outcome is Outcome.OK:
            await tx.members.set_masked(card.kaiin_id, None)  # another card now: look its number up again

    async def _publish(self, tx: UnitOfWork, payment: Payment, events: list[DomainEvent]) -> None:
        """Payment events carry the payment's version; card events the member's own counter (its key)."""
        for event in events:
            if isinstance(event, CardLinked | CardUnlinked):
                version = await tx.members.next_version(event.shop_id, event.member_id)
            else:
                version = payment.version
            await tx.emit(event, version=version)


def _uses_member(payment: Payment, op: Operation) -> bool:
    """Member calls always; charges and their Process calls only when the plan charges the stored card (K80)."""
    if op in MEMBER_OPERATIONS:
        return True
    return payment.plan is not None and payment.plan.source is CardSource.MEMBER


def _uses_token(payment: Payment, op: Operation) -> bool:
    if op in LINKS:
        return True
    return op in CHARGES and payment.plan is not None and payment.plan.source is CardSource.TOKEN


def _log_step(payment: Payment, op: Operation, answer: GatewayAnswer) -> None:
    reply = answer.reply
    fields = {"order_id": payment.order_id, "shop_id": payment.shop_id, "operation": op.value,
              "outcome": reply.outcome.value, "codes": list(reply.codes), "reason": reply.reason or None,
              "state": payment.state.value, "cleanup": payment.cleanup.value,
              "payment_number": payment.payment_number}
    if reply.outcome is Outcome.UNKNOWN or payment.cleanup is Cleanup.FAILED:
        log.error("payment.needs_attention", **fields)
    else:
        log.info("payment.step", **fields)
