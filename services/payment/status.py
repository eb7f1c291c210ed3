"""The operator's view of a payment: our record, its operation history (R15), and the live status read from the
gateway with 1Search (R17: when the gateway cannot be read, 「決済状況が確認できません」 with the code, never
an error page).

1Search is recorded as an attempt like every gateway call (action `status`), but it is a read: it takes no
operation guard and is listed in the history only on request, so the history stays the list of operations.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.payment import ids
from services.payment.domain.attempts import Attempt, finish_attempt
from services.payment.domain.codes import STATUS_UNREADABLE
from services.payment.domain.model import Payment
from services.payment.domain.operations import Operation, Outcome
from services.payment.ports import (
    CardGateway,
    Clock,
    Credentials,
    CredentialsUnreadable,
    GatewayCall,
    ProcessKey,
    UnitOfWorkFactory,
)

STATUS_READ = "status"


@dataclass(frozen=True)
class LiveStatus:
    """What the gateway says now. `available` False: R17's `message`, with the codes or our `reason`."""

    available: bool
    amount: int | None = None
    sales_date: str | None = None
    codes: tuple[str, ...] = ()
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class PaymentView:
    payment: Payment
    history: list[Attempt]
    live: LiveStatus | None = None


class StatusReader:
    def __init__(self, *, uow: UnitOfWorkFactory, gateway: CardGateway, clock: Clock) -> None:
        self._uow = uow
        self._gateway = gateway
        self._clock = clock

    async def view(self, shop_id: str, order_id: str, *, live: bool = True,
                   status_reads: bool = False) -> PaymentView | None:
        """The payment of `order_id` in `shop_id` (None: no such payment here, I6), read before the 1Search."""
        async with self._uow() as tx:
            payment = await tx.payments.get(order_id)
            if payment is None or payment.shop_id != shop_id:
                return None
            history = await tx.attempts.history(order_id)
        if not status_reads:
            history = [a for a in history if a.action != STATUS_READ]
        return PaymentView(payment, history, await self.live_status(payment) if live else None)

    async def live_status(self, payment: Payment) -> LiveStatus | None:
        """1Search on the current hold; None when the payment never had a transaction to read."""
        if payment.process_id is None:
            return None
        attempt = Attempt(ids.attempt_id(), payment.shop_id, payment.order_id, Operation.SEARCH, None,
                          self._clock.now(), action=STATUS_READ)
        async with self._uow() as tx:
            try:
                credentials: Credentials | None = await tx.shops.credentials(payment.shop_id)
            except CredentialsUnreadable:
                credentials = None
            process = await tx.payments.process_key(payment.order_id)
            if credentials is None or process is None:
                reason = "gateway_credentials_missing" if credentials is None else "transaction_unknown"
                return LiveStatus(False, reason=reason, message=STATUS_UNREADABLE)
            await tx.attempts.add(attempt)
        return await self._search(payment, attempt, credentials, process)

    async def _search(self, payment: Payment, attempt: Attempt, credentials: Credentials,
                      process: ProcessKey) -> LiveStatus:
        call = GatewayCall(Operation.SEARCH, credentials, process=process, free1=payment.payment_number,
                           free2=payment.buyer_name)
        answer = await self._gateway.send(call)
        async with self._uow() as tx:
            await tx.attempts.save(finish_attempt(attempt, answer.reply, self._clock.now()))
        reply = answer.reply
        if reply.outcome is Outcome.OK:
            return LiveStatus(True, answer.amount, answer.sales_date)
        reason = "gateway_declined" if reply.outcome is Outcome.DECLINED else (reply.reason or reply.outcome.value)
        return LiveStatus(False, codes=reply.codes, reason=reason, message=STATUS_UNREADABLE)
