"""The one gateway step every flow takes (design §6.2): record the attempt in a unit of work, committed before
anything is sent; send outside any transaction; apply the answer in a new unit of work. Both units go through
`deps.together`: in the service they commit in one transaction with the other steps' units of that moment (a
caller is answered only after its unit's COMMIT, so the attempt is durable before the call leaves).

    answer applied = await take_step(deps, planned, apply)      # pause (a resend), record, send, apply

The order flow, operator actions, the live status read and the stored-card lookup all use it; the flows differ
only in what the domain plans (`domain/calls.py`) and how it applies the reply. An operator action records its
first step in the unit that takes the payment (`record_call`, then `send_recorded`), so a step the shop cannot
send (credentials, the transaction's pair) is refused before the payment says the action runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import SecretStr

from delivery.envelopes import Inbound
from services.payment import translate
from services.payment.domain.attempts import Attempt, finish_attempt, start_attempt
from services.payment.domain.events import CARD_EVENTS, DomainEvent
from services.payment.domain.gateway import NEW_HOLD, CallImpossible, Hold, PlannedCall, business_date
from services.payment.domain.model import Payment
from services.payment.handlers.deps import Deps
from services.payment.ports import CredentialsUnreadable, GatewayAnswer, GatewayCall, UnitOfWork

T = TypeVar("T")
Apply = Callable[[UnitOfWork, Attempt, GatewayAnswer], Awaitable[T]]
"""Applies a gateway answer inside the unit of work after the call; gets the attempt as recorded."""
Also = Callable[[UnitOfWork], Awaitable[None]]
Settle = Callable[["RecordedCall", GatewayAnswer], Awaitable[GatewayAnswer]]
"""Looks again at an answer before it is applied, outside any unit (the token probe of an unknown charge)."""


class PaymentNotFound(LookupError):
    """No payment for this order in this shop (HTTP 404; a command is retried, then dead-lettered)."""


@dataclass(frozen=True)
class RecordedCall:
    """A call whose attempt is recorded (`sending`) in a unit of work, ready to be sent once that unit commits."""

    attempt: Attempt
    call: GatewayCall


async def take_step(deps: Deps, planned: PlannedCall, apply: Apply[T], *, token: SecretStr | None = None,
                    also: Also | None = None, settle: Settle | None = None) -> T:
    """One gateway call: pause first when resending a call that did not leave, record it (with `also`, e.g.
    renewing a lease, in the same unit), send it outside any unit, apply the answer in a new unit.
    Raises `CallImpossible` (nothing recorded) when the call lacks credentials, a pair or a member key."""
    if planned.resends:
        await asyncio.sleep(deps.policy.retry_backoff_s * 2 ** (planned.resends - 1))

    async def record() -> RecordedCall:
        async with deps.uow() as uow:
            recorded = await record_call(deps, uow, planned, token=token)
            if also is not None:
                await also(uow)
        return recorded

    return await send_recorded(deps, await deps.together(record), apply, settle=settle)


async def record_call(deps: Deps, uow: UnitOfWork, planned: PlannedCall, *,
                      token: SecretStr | None = None) -> RecordedCall:
    """Inside the caller's unit: add the secrets the call needs and record its attempt as `sending`."""
    call = await _with_secrets(deps, uow, planned, token=token)
    attempt = start_attempt(planned, attempt_id=deps.ids.attempt_id(), now=deps.clock.now())
    await uow.attempts.add(attempt)
    return RecordedCall(attempt, call)


async def send_recorded(deps: Deps, recorded: RecordedCall, apply: Apply[T], *, settle: Settle | None = None) -> T:
    """Send a recorded call (its unit has committed: never inside a unit of work), then apply the answer (after
    `settle` had a look at it)."""
    answer = await deps.gateway.send(recorded.call)
    if settle is not None:
        answer = await settle(recorded, answer)

    async def applied() -> T:
        async with deps.uow() as uow:
            return await apply(uow, recorded.attempt, answer)

    return await deps.together(applied)


async def _with_secrets(deps: Deps, uow: UnitOfWork, planned: PlannedCall, *,
                        token: SecretStr | None) -> GatewayCall:
    """The call with the shop's credentials, the hold's ProcessPass, the member's KaiinPass and the token."""
    try:
        credentials = await uow.shops.credentials(planned.shop_id)
    except CredentialsUnreadable:
        credentials = None
    if credentials is None:
        raise CallImpossible("gateway_credentials_missing", "the shop's gateway credentials are missing or "
                             "unreadable; set them again before operating")
    process = None
    if planned.hold is not None and planned.order_id is not None:
        process = await uow.payments.process_key(planned.order_id, previous=planned.hold is Hold.PREVIOUS)
        if process is None:
            raise CallImpossible("transaction_unknown", "no ProcessId/ProcessPass is stored for this transaction "
                                 "(e.g. resolved without them): operate it in Sony's screen")
    member = await uow.members.key(planned.kaiin_id) if planned.member and planned.kaiin_id else None
    if planned.member and member is None:
        raise CallImpossible("member_unknown", "the gateway member of this call has no stored key")
    return GatewayCall(operation=planned.operation, credentials=credentials, amount=planned.amount,
                       pay_type=planned.pay_type, token=token if planned.token else None, member=member,
                       process=process, free1=planned.payment_number, free2=planned.buyer_name,
                       sales_date=business_date(deps.clock.now()) if planned.sales_date else None,
                       three_d_secure=planned.three_d_secure)


async def complete_attempt(deps: Deps, uow: UnitOfWork, attempt: Attempt, *, answer: GatewayAnswer) -> None:
    """Record the answer on the attempt (the operation history, R15)."""
    await uow.attempts.save(finish_attempt(attempt, answer.reply, deps.clock.now()))


def new_hold_pass(attempt: Attempt, answer: GatewayAnswer) -> SecretStr | None:
    """The ProcessPass to keep from an answer: only a call that makes a new hold (a charge, 1ReAuth) has one
    that replaces the stored pair (a release's reply names the old hold, which must not overwrite it)."""
    return answer.process_pass if attempt.operation in NEW_HOLD else None


async def save_and_publish(uow: UnitOfWork, *, before: Payment, after: Payment, events: list[DomainEvent],
                           new_pass: SecretStr | None, inbound: Inbound | None) -> Payment:
    """Save the decided payment and stage its events in the same unit. When an amount update has just made a
    new hold, the stored ProcessPass moves aside with the old hold (`retire_pass`) until that is released."""
    retire = before.previous_hold is None and after.previous_hold is not None
    saved = await uow.payments.save(after, process_pass=new_pass, retire_pass=retire)
    await publish(uow, saved, events, inbound=inbound)
    return saved


async def publish(uow: UnitOfWork, payment: Payment, events: list[DomainEvent], *, inbound: Inbound | None) -> None:
    """Stage `events` (contract form, `translate`) in the outbox. They correlate with the inbound event, or,
    without one (an operator's HTTP call), with the checkout the order came from. Payment events carry the
    payment's version as subject_version; card events the member's own counter (their key is the member)."""
    if not events:
        return
    correlation = inbound.envelope.correlation_id if inbound is not None else (
        await uow.payments.correlation_id(payment.order_id) or payment.order_id)
    for event in events:
        if isinstance(event, CARD_EVENTS):
            version = await uow.members.next_version(event.shop_id, event.member_id)
        else:
            version = payment.version
        await uow.emit(translate.to_contract(event), correlation_id=correlation, causation=inbound,
                       subject_version=version)


async def locked_payment(uow: UnitOfWork, shop_id: str, order_id: str) -> Payment:
    """The payment of `order_id` in `shop_id`, row-locked for this unit; `PaymentNotFound` otherwise (I6)."""
    payment = await uow.payments.get(order_id, lock=True)
    if payment is None or payment.shop_id != shop_id:
        raise PaymentNotFound(order_id)
    return payment
