"""The operator's view of a payment: our record, its operation history (R15), and the live status read from the
gateway with 1Search (R17: when the gateway cannot be read, 「決済状況が確認できません」 with the code, never
an error page).

1Search is recorded as an attempt like every gateway call (action `status`), but it is a read: it takes no
action guard and is listed in the history only on request, so the history stays the list of operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from services.payment.domain.attempts import Attempt
from services.payment.domain.calls import STATUS_READ, status_call
from services.payment.domain.codes import STATUS_UNREADABLE
from services.payment.domain.gateway import CallImpossible, Outcome
from services.payment.domain.model import Payment
from services.payment.domain.retries import ScheduledRetry
from services.payment.handlers.deps import Deps
from services.payment.handlers.steps import complete_attempt, take_step
from services.payment.ports import GatewayAnswer, UnitOfWork


@dataclass(frozen=True, kw_only=True)
class LiveStatus:
    """What the gateway says now. `available` False: R17's `message`, with the codes or our `reason`."""

    available: bool
    amount: int | None = None
    sales_date: str | None = None
    codes: tuple[str, ...] = ()
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentView:
    """The payment, its operation history, the live status (if read) and the renewal retry it waits for."""

    payment: Payment
    history: list[Attempt]
    live: LiveStatus | None = None
    retry: ScheduledRetry | None = None


async def view_payment(deps: Deps, *, shop_id: str, order_id: str, live: bool = True,
                       status_reads: bool = False) -> PaymentView | None:
    """The payment of `order_id` in `shop_id` (None: no such payment here, I6), read before the 1Search."""
    async with deps.uow() as uow:
        payment = await uow.payments.get(order_id)
        if payment is None or payment.shop_id != shop_id:
            return None
        history = await uow.attempts.history(order_id)
        retry = await uow.retries.get(order_id) if payment.renewal else None
    if not status_reads:
        history = [a for a in history if a.action != STATUS_READ]
    return PaymentView(payment=payment, history=history, retry=retry,
                       live=await read_live_status(deps, payment) if live else None)


async def payments_needing_operator(deps: Deps, *, shop_id: str, limit: int) -> list[Payment]:
    """The shop's payments waiting for an operator (unknown outcome or operation, two live holds): the console's
    review queue and alerts."""
    async with deps.uow() as uow:
        return await uow.payments.needing_operator(shop_id, limit=limit)


async def read_live_status(deps: Deps, payment: Payment) -> LiveStatus | None:
    """1Search on the current hold, a recorded step; None when the payment never had a transaction to read."""
    if payment.process_id is None:
        return None
    try:
        return await take_step(deps, status_call(payment), partial(_live_status, deps=deps))
    except CallImpossible as impossible:
        return LiveStatus(available=False, reason=impossible.code, message=STATUS_UNREADABLE)


async def _live_status(uow: UnitOfWork, attempt: Attempt, answer: GatewayAnswer, *, deps: Deps) -> LiveStatus:
    await complete_attempt(deps, uow, attempt, answer=answer)
    reply = answer.reply
    if reply.outcome is Outcome.OK:
        return LiveStatus(available=True, amount=answer.amount, sales_date=answer.sales_date)
    reason = "gateway_declined" if reply.outcome is Outcome.DECLINED else (reply.reason or reply.outcome.value)
    return LiveStatus(available=False, codes=reply.codes, reason=reason, message=STATUS_UNREADABLE)
