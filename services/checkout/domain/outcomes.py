"""What the payment service reports about an order, as the order state machine (`domain.order`) reads it.

Kept apart from the machine so that the order and its transitions stay one readable module; `domain.order`
re-exports every name here, so callers import them from either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.checkout.domain.authentication import AuthenticationAsked


@dataclass(frozen=True, kw_only=True)
class Authorized:
    amount: int
    captured: bool
    transaction_id: str
    approval_number: str | None = None


@dataclass(frozen=True, kw_only=True)
class Declined:
    """The gateway refused the authorization. `retry_at`: payment tries a renewal order again then (the shop
    opted in to retries, R22); None: the decline is final. `reason`: why, when no card decline explains it."""

    operation: str
    codes: tuple[str, ...]
    buyer_message: str
    descriptions: tuple[str, ...] = ()
    reason: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class OutcomeUnknown:
    attempt_id: str
    operation: str
    reason: str


@dataclass(frozen=True)
class Captured:
    transaction_id: str
    amount: int | None = None


@dataclass(frozen=True)
class Canceled:
    transaction_id: str


@dataclass(frozen=True)
class AmountUpdated:
    """The hold moved to `amount` (design §6.5); `previous_hold_released` False: two live holds at the gateway."""

    amount: int
    transaction_id: str
    previous_hold_released: bool = True


@dataclass(frozen=True)
class HoldReleased:
    """The hold an amount update left live was voided later: the two-holds anomaly is over."""

    transaction_id: str


@dataclass(frozen=True, kw_only=True)
class OperationFailed:
    """An operation on the payment (capture, cancel, update_amount, release_previous_hold, or a renewal's
    authorize) did not happen: refused by the rules, declined by the gateway (raw codes, R16 for operators) or of
    unknown outcome."""

    operation: str
    outcome: str
    reason: str
    gateway_operation: str | None = None
    codes: tuple[str, ...] = ()
    descriptions: tuple[str, ...] = ()
    requested_by: str | None = None


PaymentOutcome = (Authorized | Declined | OutcomeUnknown | Captured | Canceled | AmountUpdated | HoldReleased
                  | OperationFailed | AuthenticationAsked)
