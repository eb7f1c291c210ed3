"""Running the renewal retries that are due (R22 opt-in; the worker is `entrypoints/retry_worker.py`).

One pass: a unit of work claims up to `limit` due rows of `payment_retries` (`FOR UPDATE SKIP LOCKED`; each
claimed row comes due again only when the claim lapses), so any number of replicas run each retry once. Each
claimed retry then runs on its own, like the order it retries:

1. a unit takes the member's card lease (busy: the retry waits `member_busy_delay_s`), counts the retry and
   makes the payment pending again (`begin_retry`);
2. the order flow charges the member (`drive_order`: every call a recorded attempt, sent outside any unit), and
   `handlers/renewals.py` settles the end: authorized (`PaymentAuthorized`), declined and retried later
   (`PaymentDeclined` with `retry_at`), declined for good (without), or unknown (review, never retried);
3. the lease is released. It is held as `retry:<order id>`, not as the order id the order flow uses, so a
   redelivered `OrderPlaced` of the order waits for the running retry rather than settling its attempt.

A retry whose worker died half-way is found pending when its claim lapses: an attempt left `sending` is unknown
(design §6.2, never resent), and a retry that never got as far as recording its attempt is simply run.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

from delivery.logs import get_logger
from services.payment.domain.model import Payment, PaymentState, refuse
from services.payment.domain.retries import ScheduledRetry, begin_retry, started
from services.payment.handlers.deps import Deps
from services.payment.handlers.orders import credentials_issue, drive_order, settle_interrupted
from services.payment.handlers.steps import save_and_publish
from services.payment.ports import UnitOfWork

log = get_logger(__name__)


async def run_due_retries(deps: Deps, *, limit: int) -> int:
    """Claim the retries due now and run them, `retry_concurrency` at a time; returns how many were claimed.
    A retry that fails (e.g. the database went away) is logged and comes back when its claim lapses."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        claimed = await uow.retries.claim_due(now, until=now + timedelta(seconds=deps.policy.retry_claim_s),
                                              limit=limit)
    gate = asyncio.Semaphore(deps.policy.retry_concurrency)

    async def one(retry: ScheduledRetry) -> None:
        async with gate:
            try:
                await retry_payment(deps, retry)
            except Exception:
                log.exception("payment.retry_failed", order_id=retry.order_id, shop_id=retry.shop_id)

    await asyncio.gather(*(one(retry) for retry in claimed))
    return len(claimed)


async def next_retry_due(deps: Deps) -> datetime | None:
    """When the earliest scheduled retry is due (None: none is scheduled)."""
    async with deps.uow() as uow:
        return await uow.retries.next_due()


async def retry_payment(deps: Deps, claimed: ScheduledRetry) -> Payment | None:
    """Run one claimed retry (steps 1-3 above); None when there was nothing to run now."""
    async with deps.uow() as uow:
        payment = await _begin(deps, uow, claimed)
    if payment is None:
        return None
    payment = await drive_order(deps, payment, token=None, inbound=None, holder=_holder(payment.order_id))
    if payment.member_id is not None:
        async with deps.uow() as uow:
            await uow.members.release(payment.shop_id, payment.member_id, holder=_holder(payment.order_id))
    return payment


async def _give_up(uow: UnitOfWork, payment: Payment, reason: str) -> None:
    """A due retry the shop can no longer send (its credentials are gone): final, never left looping."""
    declined, events = refuse(payment, reason)
    await uow.retries.delete(payment.order_id)
    await save_and_publish(uow, before=payment, after=declined, events=events, new_pass=None, inbound=None)
    log.error("payment.retry_refused", order_id=payment.order_id, shop_id=payment.shop_id, reason=reason,
              payment_number=payment.payment_number)


def _holder(order_id: str) -> str:
    """The member lease's holder while a retry runs: not the order id the order flow holds it under, so a
    redelivered `OrderPlaced` of the same order waits for the retry instead of taking its attempt for dead."""
    return f"retry:{order_id}"


async def _begin(deps: Deps, uow: UnitOfWork, claimed: ScheduledRetry) -> Payment | None:
    payment = await uow.payments.get(claimed.order_id, lock=True)
    if payment is None or payment.state not in (PaymentState.RETRY_SCHEDULED, PaymentState.PENDING):
        log.warning("payment.retry_dropped", order_id=claimed.order_id,
                    state=payment.state.value if payment is not None else None)
        await uow.retries.delete(claimed.order_id)
        return None
    if payment.state is PaymentState.RETRY_SCHEDULED and (issue := await credentials_issue(uow, payment.shop_id)):
        await _give_up(uow, payment, issue)
        return None
    if payment.member_id is not None and not await uow.members.lease(
            payment.shop_id, payment.member_id, holder=_holder(payment.order_id), ttl_s=deps.policy.member_lease_s):
        later = deps.clock.now() + timedelta(seconds=deps.policy.member_busy_delay_s)
        await uow.retries.put(replace(claimed, due_at=later))
        log.info("payment.retry_member_busy", order_id=payment.order_id, due_at=later.isoformat())
        return None
    if payment.state is PaymentState.PENDING:  # an earlier run of this retry stopped half-way
        return await settle_interrupted(deps, uow, payment, inbound=None)
    await uow.retries.put(started(claimed))
    log.info("payment.retry_started", order_id=payment.order_id, shop_id=payment.shop_id,
             payment_number=payment.payment_number, retry=claimed.retries + 1)
    return await uow.payments.save(begin_retry(payment))
