"""What a renewal order's charge reply leads to (design §6.6, R19-R22), decided in the unit that applies it.

A renewal is charged by member like any registered-card order (the order flow of `handlers/orders.py`); only
its end differs. A decline is final (R22) unless the shop opted in to retries and the decline is soft
(`domain/retries.py`): then the payment waits in `retry_scheduled`, a `payment_retries` row says when, and the
decline is announced with `retry_at` so checkout keeps the order pending. Any other end (authorized, declined
for good, unknown) removes the row: retrying is over, and nothing in payment charges that order again.
"""

from __future__ import annotations

from delivery.logs import get_logger
from services.payment.domain.attempts import Attempt
from services.payment.domain.model import Decided, PaymentState
from services.payment.domain.retries import is_soft, next_retry, retry_later
from services.payment.handlers.deps import Deps
from services.payment.ports import UnitOfWork

log = get_logger(__name__)


async def settle_renewal_charge(deps: Deps, uow: UnitOfWork, decided: Decided, *, attempt: Attempt) -> Decided:
    """The decided payment and events after a renewal's charge reply: a retry scheduled, or retrying ended.

    `attempt` is the charge just answered; on the first try its start is the start of the retry window. A
    charge still pending (a resend of a call that never left) changes nothing yet."""
    payment, _ = decided
    if payment.state is PaymentState.PENDING:
        return decided
    if payment.state is PaymentState.DECLINED and is_soft(payment.codes, payment.reason):
        settings = await uow.shops.settings(payment.shop_id)
        retry = next_retry(payment, policy=settings.renewal_retry if settings is not None else None,
                           current=await uow.retries.get(payment.order_id), first_tried_at=attempt.started_at,
                           now=deps.clock.now())
        if retry is not None:
            await uow.retries.put(retry)
            log.info("payment.retry_scheduled", order_id=payment.order_id, shop_id=payment.shop_id,
                     payment_number=payment.payment_number, codes=list(payment.codes), reason=payment.reason,
                     retries=retry.retries, due_at=retry.due_at.isoformat())
            return retry_later(decided, due_at=retry.due_at)
    await uow.retries.delete(payment.order_id)  # retrying is over (if it ever began)
    if payment.state is PaymentState.DECLINED:
        log.info("payment.renewal_declined", order_id=payment.order_id, shop_id=payment.shop_id,
                 payment_number=payment.payment_number, codes=list(payment.codes), reason=payment.reason)
    return decided
