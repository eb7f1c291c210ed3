"""Gateway attempts: every call is recorded before it is sent and completed after (design §6.2, R15).

The record is the operation history operators read ("API操作履歴"): operation, time, result codes and
transaction id, never card data, tokens or passwords. An attempt still `sending` when its order is picked up
again was interrupted after it may have left: its outcome is unknown, exactly like a lost reply.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from services.payment.domain.gateway import GatewayOperation, Outcome, PlannedCall, Reply

INTERRUPTED = Reply(outcome=Outcome.UNKNOWN, reason="interrupted")
"""The reply assumed for an attempt whose process stopped between recording and recording the answer."""


class AttemptStatus(StrEnum):
    SENDING = "sending"
    OK = "ok"
    DECLINED = "declined"
    NOT_SENT = "not_sent"
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class Attempt:
    attempt_id: str
    shop_id: str
    order_id: str | None
    operation: GatewayOperation
    kaiin_id: str | None
    started_at: datetime
    status: AttemptStatus = AttemptStatus.SENDING
    finished_at: datetime | None = None
    codes: tuple[str, ...] = ()
    transaction_id: str | None = None
    reason: str | None = None
    resolution: str | None = None
    action: str | None = None  # operator action (capture, cancel, ...) or `status`; None for the order's calls
    requested_by: str | None = None
    amount: int | None = None


def start_attempt(call: PlannedCall, *, attempt_id: str, now: datetime) -> Attempt:
    """The `sending` record of a planned call (the member's KaiinId only when the call uses it)."""
    return Attempt(attempt_id=call.attempt_id or attempt_id, shop_id=call.shop_id, order_id=call.order_id,
                   operation=call.operation, kaiin_id=call.kaiin_id if call.member else None, started_at=now,
                   action=call.action, requested_by=call.requested_by, amount=call.recorded_amount)


def finish_attempt(attempt: Attempt, reply: Reply, now: datetime) -> Attempt:
    """The attempt with its answer; only a `sending` attempt can finish (an answer is recorded once)."""
    if attempt.status is not AttemptStatus.SENDING:
        raise ValueError(f"attempt {attempt.attempt_id} already finished ({attempt.status})")
    return replace(attempt, status=AttemptStatus(reply.outcome.value), finished_at=now, codes=reply.codes,
                   transaction_id=reply.transaction_id, reason=reply.reason or None)
