"""Values of operator actions on a payment (R12, R13, design §6.5): what is running, what is unresolved, and
the hold an amount update left behind. (An *operator action* runs *gateway operations*, its steps: see
`domain/gateway.py` for the vocabulary; the rules are in `domain/action_rules.py`.)

An action is one row-locked state change before the gateway call (`RunningAction`), so two operators, or an
operator and automation, never send two gateway operations for one transaction at once (the second is refused
with the current state). Its outcome is applied after the call; an unknown outcome is kept (`UnknownAction`)
and blocks further actions until an operator resolves it: it is never retried automatically (design §6.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.payment.domain.gateway import GatewayOperation


class Action(StrEnum):
    """What an operator or automation asks for (`PaymentOperationFailed.operation` uses these names)."""

    CAPTURE = "capture"
    CANCEL = "cancel"
    UPDATE_AMOUNT = "update_amount"
    RELEASE_PREVIOUS_HOLD = "release_previous_hold"


ACTIONS = (Action.CAPTURE, Action.CANCEL, Action.UPDATE_AMOUNT)
"""The actions R12 names; releasing a left-over hold exists only while one is flagged."""


class ActionRefused(Exception):
    """The rules (R12, R13, state, amounts) refuse an action; `conflict` is a state clash (HTTP 409), else the
    request itself is unacceptable (HTTP 422). `code` is stable and machine-readable."""

    def __init__(self, code: str, message: str, *, conflict: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.conflict = conflict


@dataclass(frozen=True)
class ActionRequest:
    """`amount`: for capture the amount the sender expects (a guard); for update the new amount.

    `order_total`: the order total the sender saw in checkout (optimistic concurrency, R12). Checkout tells
    payment of an edit by an event; until payment has it, its own total is older than the sender's, and the
    request is refused (`order_total_stale`) instead of acting on the old hold. None: no check (older clients).
    """

    action: Action
    requested_by: str | None = None
    amount: int | None = None
    order_total: int | None = field(default=None, kw_only=True)


@dataclass(frozen=True, kw_only=True)
class RunningAction:
    """The action holding the payment now, and the gateway operation (`step`) it is waiting for.

    `on_previous`: the step acts on the previous hold (the release after 1ReAuth), not the current one.
    `unsent`: sends of this step that certainly did not leave (connection refused), resent within a budget.
    """

    action: Action
    step: GatewayOperation
    attempt_id: str
    since: datetime
    requested_by: str | None = None
    target_amount: int | None = None
    on_previous: bool = False
    unsent: int = 0


@dataclass(frozen=True, kw_only=True)
class UnknownAction:
    """A step of an action whose outcome is unknown: shown to operators, never resent."""

    action: Action
    step: GatewayOperation
    attempt_id: str
    requested_by: str | None = None
    target_amount: int | None = None
    reason: str = "unknown"


class HoldState(StrEnum):
    RELEASING = "releasing"
    RELEASE_FAILED = "release_failed"


@dataclass(frozen=True, kw_only=True)
class PreviousHold:
    """The hold an amount update replaced (1ReAuth made a new one). While `release_failed`, the order has two
    live holds at the gateway: flagged for ops, who can retry the release."""

    process_id: str | None
    transaction_id: str | None
    amount: int
    state: HoldState = HoldState.RELEASING
    codes: tuple[str, ...] = ()
    reason: str | None = None
