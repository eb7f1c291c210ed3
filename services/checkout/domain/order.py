"""The order state machine (design §6.1, I1): every accepted checkout ends in exactly one terminal state.

    pending_payment ──authorized──▶ completed
          │ ├──────declined───────▶ rejected
          │ └──outcome unknown────▶ needs_review ──authorized──▶ completed
          │                                       └──declined────▶ rejected
    (refused before payment) ────────────────────▶ rejected

`decide_payment` turns a payment outcome into a `Decision`: a change (emit the matching order event), a
duplicate (a redelivered or repeated outcome: nothing happens), or a conflict (an outcome that contradicts a
final state, e.g. an authorization for a rejected order: a live hold ops must cancel). Conflicts never
change the status; they are recorded on the order as an anomaly for operators. An operation that failed
(`OperationFailed`) changes neither status: it is shown on the order until the same operation succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from services.checkout.domain.rules import BUYER_MESSAGE, Rejection, effective_pay_type
from services.checkout.domain.shop import Shop
from services.checkout.domain.values import CardLinkMode, CheckoutRequest, SalesMode, jst_date

BUYER_CONTACT_SHOP = "ショップ様にお問い合わせください"


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    COMPLETED = "completed"
    REJECTED = "rejected"
    NEEDS_REVIEW = "needs_review"


class PaymentStatus(StrEnum):
    NONE = "none"  # refused before payment: the gateway was never asked
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    DECLINED = "declined"
    UNKNOWN = "unknown"
    CANCELED = "canceled"


ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.COMPLETED, OrderStatus.REJECTED, OrderStatus.NEEDS_REVIEW}),
    OrderStatus.NEEDS_REVIEW: frozenset({OrderStatus.COMPLETED, OrderStatus.REJECTED}),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
}


class InvalidTransition(Exception):
    def __init__(self, order_id: str, current: OrderStatus, target: OrderStatus):
        super().__init__(f"order {order_id}: {current} cannot become {target}")
        self.current = current
        self.target = target


@dataclass(frozen=True, kw_only=True)
class Order:
    order_id: str
    shop_id: str
    checkout_id: str
    request: CheckoutRequest
    status: OrderStatus
    placed_at: datetime
    payment_status: PaymentStatus
    amount: int | None = None
    payment_number: str | None = None
    pay_type: str = "01"
    payment_method_name: str | None = None
    sales_mode: SalesMode | None = None
    card_link_mode: CardLinkMode | None = None
    reason_code: str | None = None
    reason: str | None = None
    buyer_message: str | None = None
    transaction_id: str | None = None
    approval_number: str | None = None
    gateway_codes: tuple[str, ...] = ()
    attempt_id: str | None = None
    anomaly: str | None = None
    version: int = 0
    payment_amount: int | None = None  # what the gateway holds or captured, as payment events report it
    failed_operation: OperationFailed | None = None  # the last operator/automation operation that did not happen

    @property
    def update_required(self) -> bool:
        """R12: the order was edited and the hold (authorized, not captured) no longer equals its total."""
        return (self.payment_status is PaymentStatus.AUTHORIZED and self.payment_amount is not None
                and self.amount is not None and self.payment_amount != self.amount)

    @property
    def order_date(self) -> date:
        return jst_date(self.placed_at)

    @property
    def is_final(self) -> bool:
        return not ALLOWED[self.status]


def place_order(request: CheckoutRequest, shop: Shop, *, order_id: str, payment_number: str,
                now: datetime) -> Order:
    """An accepted checkout: pending payment, with the settings that decide the payment snapshotted."""
    card = shop.card
    if card is None or card.sales_mode is None:
        raise ValueError("place_order needs a configured card method (validate_checkout first)")
    return Order(
        order_id=order_id, shop_id=request.shop_id, checkout_id=request.checkout_id, request=request,
        status=OrderStatus.PENDING_PAYMENT, placed_at=now, payment_status=PaymentStatus.PENDING,
        amount=request.total, payment_number=payment_number, pay_type=effective_pay_type(request),
        payment_method_name=card.display_name, sales_mode=card.sales_mode, card_link_mode=card.card_link_mode,
    )  # fmt: skip


def reject_checkout(request: CheckoutRequest, rejection: Rejection, *, order_id: str, now: datetime) -> Order:
    """A checkout refused before payment still becomes an order, so its checkout_id has one outcome (I1)."""
    return Order(
        order_id=order_id, shop_id=request.shop_id, checkout_id=request.checkout_id, request=request,
        status=OrderStatus.REJECTED, placed_at=now, payment_status=PaymentStatus.NONE, amount=request.total,
        pay_type=effective_pay_type(request), reason_code=rejection.code, reason=rejection.message,
        buyer_message=BUYER_MESSAGE,
    )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Authorized:
    amount: int
    captured: bool
    transaction_id: str
    approval_number: str | None = None


@dataclass(frozen=True)
class Declined:
    operation: str
    codes: tuple[str, ...]
    buyer_message: str


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
    """An operation on the payment (capture, cancel, update_amount, release_previous_hold) did not happen:
    refused by the rules, declined by the gateway (raw codes, R16 for operators) or of unknown outcome."""

    operation: str
    outcome: str
    reason: str
    gateway_operation: str | None = None
    codes: tuple[str, ...] = ()
    descriptions: tuple[str, ...] = ()
    requested_by: str | None = None


PaymentOutcome = (Authorized | Declined | OutcomeUnknown | Captured | Canceled | AmountUpdated | HoldReleased
                  | OperationFailed)
_SUCCEEDED = {Captured: "capture", Canceled: "cancel", AmountUpdated: "update_amount",
              HoldReleased: "release_previous_hold"}
TWO_HOLDS = "two live holds at the gateway"


@dataclass(frozen=True, kw_only=True)
class Decision:
    """`order` after the outcome; `status_changed` says whether an order event must be emitted."""

    order: Order
    kind: str  # "changed" | "duplicate" | "conflict"
    status_changed: bool = False
    note: str | None = None


def transition(order: Order, target: OrderStatus, **changes: object) -> Order:
    """The only way an order's status changes; refuses anything the table does not allow."""
    if target not in ALLOWED[order.status]:
        raise InvalidTransition(order.order_id, order.status, target)
    return replace(order, status=target, version=order.version + 1, **changes)  # type: ignore[arg-type]


def decide_payment(order: Order, outcome: PaymentOutcome) -> Decision:
    """Apply one payment outcome to an order (see the module docstring for the three kinds of decision)."""
    if isinstance(outcome, Authorized):
        return _authorized(order, outcome)
    if isinstance(outcome, Declined):
        return _declined(order, outcome)
    if isinstance(outcome, OutcomeUnknown):
        return _unknown(order, outcome)
    if isinstance(outcome, OperationFailed):
        return _operation_failed(order, outcome)
    decision = _operation(order, outcome)
    failed = decision.order.failed_operation
    if decision.kind == "changed" and failed is not None and _clears(outcome, failed):
        return replace(decision, order=replace(decision.order, failed_operation=None))
    return decision


def _operation_failed(order: Order, outcome: OperationFailed) -> Decision:
    if order.failed_operation == outcome:
        return Decision(order=order, kind="duplicate")
    return Decision(order=replace(order, failed_operation=outcome), kind="changed")


def _clears(success: Captured | Canceled | AmountUpdated | HoldReleased, failed: OperationFailed) -> bool:
    """A failure stops being news once the same operation succeeds, or once capture/cancel ends the payment."""
    return isinstance(success, Captured | Canceled) or _SUCCEEDED[type(success)] == failed.operation


def _authorized(order: Order, outcome: Authorized) -> Decision:
    if order.status is OrderStatus.COMPLETED and order.transaction_id == outcome.transaction_id:
        return Decision(order=order, kind="duplicate")
    if order.is_final:
        return _conflict(order, f"authorization {outcome.transaction_id} (¥{outcome.amount:,}) arrived for a "
                                f"{order.status} order: a live hold to cancel at the gateway")
    status = PaymentStatus.CAPTURED if outcome.captured else PaymentStatus.AUTHORIZED
    anomaly = None
    if order.amount is not None and outcome.amount != order.amount:
        anomaly = f"authorized ¥{outcome.amount:,} but the order total is ¥{order.amount:,}"
    completed = transition(order, OrderStatus.COMPLETED, payment_status=status, transaction_id=outcome.transaction_id,
                           approval_number=outcome.approval_number, reason_code=None, reason=None,
                           buyer_message=None, anomaly=anomaly or order.anomaly, payment_amount=outcome.amount)
    return Decision(order=completed, kind="changed", status_changed=True, note=anomaly)


def _declined(order: Order, outcome: Declined) -> Decision:
    if order.status is OrderStatus.REJECTED:
        return Decision(order=order, kind="duplicate")
    if order.is_final:
        return _conflict(order, f"a decline of {outcome.operation} ({'|'.join(outcome.codes)}) arrived for a "
                                f"{order.status} order")
    rejected = transition(order, OrderStatus.REJECTED, payment_status=PaymentStatus.DECLINED,
                          reason_code="payment_declined", reason=f"the card payment was declined ({outcome.operation})",
                          buyer_message=outcome.buyer_message, gateway_codes=outcome.codes)
    return Decision(order=rejected, kind="changed", status_changed=True)


def _unknown(order: Order, outcome: OutcomeUnknown) -> Decision:
    if order.status is OrderStatus.NEEDS_REVIEW:
        return Decision(order=order, kind="duplicate")
    if order.is_final:
        return _conflict(order, f"an unknown outcome of {outcome.operation} arrived for a {order.status} order")
    review = transition(order, OrderStatus.NEEDS_REVIEW, payment_status=PaymentStatus.UNKNOWN,
                        reason_code="payment_outcome_unknown",
                        reason=f"the outcome of {outcome.operation} is unknown ({outcome.reason}); "
                               f"ops must resolve it with the payment number",
                        buyer_message=BUYER_CONTACT_SHOP, attempt_id=outcome.attempt_id)
    return Decision(order=review, kind="changed", status_changed=True)


def _operation(order: Order, outcome: Captured | Canceled | AmountUpdated | HoldReleased) -> Decision:
    """Operator operations (issue 6) move the payment shown on a completed order, never the order's status."""
    if order.status is not OrderStatus.COMPLETED:
        return _conflict(order, f"payment operation {type(outcome).__name__} reported for a {order.status} order")
    if isinstance(outcome, AmountUpdated):
        return _amount_updated(order, outcome)
    if isinstance(outcome, HoldReleased):
        cleared = None if (order.anomaly or "").startswith(TWO_HOLDS) else order.anomaly
        return Decision(order=replace(order, anomaly=cleared), kind="changed")
    target = PaymentStatus.CAPTURED if isinstance(outcome, Captured) else PaymentStatus.CANCELED
    if order.payment_status is target:
        return Decision(order=order, kind="duplicate")
    amount = outcome.amount if isinstance(outcome, Captured) and outcome.amount is not None else order.payment_amount
    return Decision(order=replace(order, payment_status=target, payment_amount=amount), kind="changed")


def _amount_updated(order: Order, outcome: AmountUpdated) -> Decision:
    anomaly = order.anomaly
    if not outcome.previous_hold_released:
        anomaly = f"{TWO_HOLDS}: the hold replaced by the update to ¥{outcome.amount:,} could not be released"
    updated = replace(order, payment_amount=outcome.amount, transaction_id=outcome.transaction_id, anomaly=anomaly)
    return Decision(order=updated, kind="changed")


def _conflict(order: Order, note: str) -> Decision:
    return Decision(order=replace(order, anomaly=note), kind="conflict", note=note)
