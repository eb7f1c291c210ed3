"""Retrying a declined renewal authorization: opt-in per shop, soft declines only (design R22, §6.6). Pure.

R22: a declined renewal is final; the order stays, flagged, and is never re-authorized automatically. A shop may
opt in (`renewal.retry` in its settings, default off) to a decline-code-aware retry of the *same* order:

- only a **soft** decline is tried again: one that says "not now" (a limit reached today, a decision pending,
  the card company or the gateway busy or closed), never one that says "never" (lost or stolen, invalid card,
  wrong number or expiry, security code, not supported, our own input, no usable registered card);
- at most `max_tries` retries, none later than `within_days` after the first try; the n-th retry waits
  `FIRST_BACKOFF * 2**(n-1)` (1 day, 2 days, 4 days ...), cut to the window's end;
- an unknown outcome is never retried (design §6.2): it goes to review, and retrying ends.

    declined (soft, opted in, tries and window left) --retry_later--> retry_scheduled --begin_retry--> pending
    pending --charge--> authorized | declined (then: retry_later again, or final) | unknown (final)

The classes, and why each code is in its class, are listed in `services/payment/README.md` ("Renewals").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.payment.domain import events as ev
from services.payment.domain.model import Decided, InvalidTransition, Payment, PaymentState

FIRST_BACKOFF = timedelta(days=1)

SOFT_DECLINES = frozenset({
    "G12",  # card unusable: the issuers' generic "do not honour" (most often no credit left for now)
    "G30",  # decision pending (the issuer holds its decision: a referral)
    "G54",  # usage count or amount over for the day
    "G55",  # daily limit over
    "G85",  # CAFIS stand-in error (the card network could not reach the issuer)
    "G95",  # card company's online service closed (off hours)
    "G97",  # request rejected (the card company refused the request itself, not the card)
    "G99",  # connection refused by the card company
    "C02",  # e-SCOTT system error: wait for recovery
    "C03",  # e-SCOTT communication error
    "C80",  # card company's centre closed
    "K96",  # gateway internal timeout: Sony's own instruction is to process again after recovery
    "K97",  # gateway stopped
    "K98",  # gateway minor internal failure
})
"""Declines that say "not now": the same card may well be approved on another day. Every other code is hard."""

UNREACHABLE = "gateway_unreachable"
"""A charge that certainly never left (connection refused, after `send_attempts`): soft, nothing happened."""


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """A shop's opt-in (`renewal.retry`): retries after the first decline, and the window from the first try."""

    max_tries: int
    within_days: int


@dataclass(frozen=True, kw_only=True)
class ScheduledRetry:
    """The next retry of a renewal order. `retries`: retries started so far; `due_at`: when the next is due
    (while one runs, when its claim lapses: a crashed worker's retry comes back and is settled, never lost)."""

    order_id: str
    shop_id: str
    first_tried_at: datetime
    retries: int
    due_at: datetime


def is_soft(codes: Iterable[str], reason: str | None) -> bool:
    """True when every code is soft (one hard code makes the decline hard), or nothing was sent at all."""
    listed = list(codes)
    if not listed:
        return reason == UNREACHABLE
    return all(code in SOFT_DECLINES for code in listed)


def next_retry(payment: Payment, *, policy: RetryPolicy | None, current: ScheduledRetry | None,
               first_tried_at: datetime, now: datetime) -> ScheduledRetry | None:
    """The retry to schedule after `payment`'s renewal charge was declined, or None: the decline is final.

    `current` is the schedule of the retry that just failed (None after the first try, which started at
    `first_tried_at`)."""
    if policy is None or not payment.renewal or payment.state is not PaymentState.DECLINED:
        return None
    if not is_soft(payment.codes, payment.reason):
        return None
    retries = current.retries if current is not None else 0
    if retries >= policy.max_tries:
        return None
    start = current.first_tried_at if current is not None else first_tried_at
    due = min(now + FIRST_BACKOFF * 2 ** retries, start + timedelta(days=policy.within_days))
    if due <= now:
        return None
    return ScheduledRetry(order_id=payment.order_id, shop_id=payment.shop_id, first_tried_at=start,
                          retries=retries, due_at=due)


def retry_later(declined: Decided, *, due_at: datetime) -> Decided:
    """The declined renewal is not final: it waits for its retry, and the decline says when (`retry_at`)."""
    payment, events = declined
    if payment.state is not PaymentState.DECLINED:
        raise InvalidTransition(f"payment {payment.order_id} is {payment.state}, not declined")
    announced = [replace(e, retry_at=due_at) if isinstance(e, ev.PaymentDeclined) else e for e in events]
    return replace(payment, state=PaymentState.RETRY_SCHEDULED), announced


def begin_retry(payment: Payment) -> Payment:
    """The retry is due: the payment is pending again and the order flow charges the member once more."""
    if payment.state is not PaymentState.RETRY_SCHEDULED:
        raise InvalidTransition(f"payment {payment.order_id} is {payment.state}, no retry is scheduled")
    return replace(payment, state=PaymentState.PENDING, unsent=0, codes=(), reason=None, buyer_message=None)


def started(retry: ScheduledRetry) -> ScheduledRetry:
    """One more retry started (counted at once: a retry that never finishes still used a try). Its `due_at`
    stays the end of the worker's claim: reached only if the retry never finishes (a crash)."""
    return replace(retry, retries=retry.retries + 1)
