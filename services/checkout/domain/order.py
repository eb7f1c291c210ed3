"""The order state machine (design §6.1, I1): every accepted checkout ends in exactly one terminal state.

    awaiting_authentication ─(the buyer's 3-D Secure, then payment's outcome as below; abandoned: rejected)─┐
    pending_payment ──authorized──▶ completed
          │ ├──────declined───────▶ rejected          (payment_failed for a renewal order, R22)
          │ └──outcome unknown────▶ needs_review ──authorized──▶ completed
          │                                       └──declined────▶ rejected (renewal: payment_failed)
    (refused before payment) ────────────────────▶ rejected
    (renewal whose authorization is skipped, R21) ─▶ completed, payment `skipped`

A renewal order (`Order.renewal`, design §6.6) is never rejected: a declined renewal still is the cycle's order,
flagged `payment_failed` (R22); a decline that payment will retry (`Declined.retry_at`, the shop's opt-in) leaves
it pending with the retry time. A storefront checkout never becomes `payment_failed`.

`decide_payment` turns a payment outcome into a `Decision`: a change (emit the matching order event), a
duplicate (a redelivered or repeated outcome: nothing happens), or a conflict (an outcome that contradicts a
final state, e.g. an authorization for a rejected order: a live hold ops must cancel). Conflicts never
change the status; they are recorded on the order as an anomaly for operators. An operation that failed
(`OperationFailed`) changes neither status: it is shown on the order until the same operation succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.checkout.domain.authentication import REASONS as AUTHENTICATION_REASONS
from services.checkout.domain.authentication import AuthenticationAsked, OrderAuthentication
from services.checkout.domain.outcomes import (
    AmountUpdated,
    Authorized,
    Canceled,
    Captured,
    Declined,
    HoldReleased,
    OperationFailed,
    OutcomeUnknown,
    PaymentOutcome,
)
from services.checkout.domain.rules import BUYER_MESSAGE, Rejection, effective_pay_type
from services.checkout.domain.shop import Shop
from services.checkout.domain.values import CardLinkMode, CheckoutRequest, SalesMode, jst_date

BUYER_CONTACT_SHOP = "ショップ様にお問い合わせください"
DEFAULT_AUTHENTICATION_WINDOW = timedelta(minutes=15)
"""How long an order waits for the buyer's 3-D Secure (the gateway's own user timeout, U06, is 40 minutes)."""


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    COMPLETED = "completed"
    REJECTED = "rejected"
    NEEDS_REVIEW = "needs_review"
    PAYMENT_FAILED = "payment_failed"  # R22: a renewal order whose authorization was declined for good
    AWAITING_AUTHENTICATION = "awaiting_authentication"  # design §6.7: the buyer is at the gateway's 3-D Secure


class PaymentStatus(StrEnum):
    NONE = "none"  # refused before payment: the gateway was never asked
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    DECLINED = "declined"
    UNKNOWN = "unknown"
    CANCELED = "canceled"
    SKIPPED = "skipped"  # R21: a renewal order completed without any gateway call


class OrderOrigin(StrEnum):
    CHECKOUT = "checkout"  # a storefront's CheckoutRequested
    RENEWAL = "renewal"  # a subscription cycle's RenewalOrderRequested


ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.COMPLETED, OrderStatus.REJECTED, OrderStatus.NEEDS_REVIEW,
                                            OrderStatus.PAYMENT_FAILED}),
    OrderStatus.NEEDS_REVIEW: frozenset({OrderStatus.COMPLETED, OrderStatus.REJECTED, OrderStatus.PAYMENT_FAILED}),
    OrderStatus.AWAITING_AUTHENTICATION: frozenset({OrderStatus.COMPLETED, OrderStatus.REJECTED,
                                                    OrderStatus.NEEDS_REVIEW}),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.PAYMENT_FAILED: frozenset(),
}
NOT_FOR: dict[OrderOrigin, frozenset[OrderStatus]] = {
    OrderOrigin.CHECKOUT: frozenset({OrderStatus.PAYMENT_FAILED}),
    OrderOrigin.RENEWAL: frozenset({OrderStatus.REJECTED, OrderStatus.AWAITING_AUTHENTICATION}),
}
"""States an order of that origin never reaches: a storefront checkout is rejected, a renewal order fails (R22)."""


class InvalidTransition(Exception):
    def __init__(self, order_id: str, current: OrderStatus, target: OrderStatus):
        super().__init__(f"order {order_id}: {current} cannot become {target}")
        self.current = current
        self.target = target


@dataclass(frozen=True, kw_only=True)
class RenewalCycle:
    """The subscription cycle a renewal order was generated for: one order per (subscription_id, cycle_no), I4."""

    subscription_id: str
    cycle_no: int
    scheduled_for: date  # the cycle's delivery date (JST)
    first_order_id: str

    @property
    def key(self) -> str:
        """The cycle's correlation id (design §4: the subscription cycle that started the chain)."""
        return f"{self.subscription_id}:{self.cycle_no}"


@dataclass(frozen=True, kw_only=True)
class Order:
    """An order. `checkout_id` is the storefront's idempotency key, None for a renewal order (whose `request`
    carries the cycle key in its place, `RenewalCycle.key`)."""

    order_id: str
    shop_id: str
    checkout_id: str | None
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
    renewal: RenewalCycle | None = None
    payment_skip_reason: str | None = None  # R21: why a renewal order was completed without authorization
    retry_at: datetime | None = None  # a declined renewal authorization payment tries again then (opt-in, R22)
    authentication: OrderAuthentication | None = None  # 3-D Secure (design §6.7): new card, shop setting on

    @property
    def origin(self) -> OrderOrigin:
        return OrderOrigin.CHECKOUT if self.renewal is None else OrderOrigin.RENEWAL

    @property
    def correlation_id(self) -> str:
        """What started the chain of this order's events: the checkout id, or the renewal cycle's key."""
        return self.request.checkout_id

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

    def can_become(self, target: OrderStatus) -> bool:
        return target in ALLOWED[self.status] and target not in NOT_FOR[self.origin]


def place_order(request: CheckoutRequest, shop: Shop, *, order_id: str, payment_number: str, now: datetime,
                authentication_window: timedelta = DEFAULT_AUTHENTICATION_WINDOW) -> Order:
    """An accepted checkout: pending payment, with the settings that decide the payment snapshotted; with a new
    card in a shop with 3-D Secure on, awaiting the buyer's authentication until `now + authentication_window`."""
    card = shop.card
    if card is None or card.sales_mode is None:
        raise ValueError("place_order needs a configured card method (validate_checkout first)")
    auth = None
    if card.three_d_secure.enabled and request.payment.has_token:
        auth = OrderAuthentication(deadline=now + authentication_window,
                                   accepted_results=card.three_d_secure.accepted_results, return_url=request.return_url)
    return Order(
        order_id=order_id, shop_id=request.shop_id, checkout_id=request.checkout_id, request=request,
        status=OrderStatus.AWAITING_AUTHENTICATION if auth else OrderStatus.PENDING_PAYMENT, placed_at=now,
        payment_status=PaymentStatus.PENDING, amount=request.total, payment_number=payment_number,
        pay_type=effective_pay_type(request), payment_method_name=card.display_name, sales_mode=card.sales_mode,
        card_link_mode=card.card_link_mode, authentication=auth,
    )  # fmt: skip


def reject_checkout(request: CheckoutRequest, rejection: Rejection, *, order_id: str, now: datetime) -> Order:
    """A checkout refused before payment still becomes an order, so its checkout_id has one outcome (I1)."""
    return Order(
        order_id=order_id, shop_id=request.shop_id, checkout_id=request.checkout_id, request=request,
        status=OrderStatus.REJECTED, placed_at=now, payment_status=PaymentStatus.NONE, amount=request.total,
        pay_type=effective_pay_type(request), reason_code=rejection.code, reason=rejection.message,
        buyer_message=BUYER_MESSAGE,
    )  # fmt: skip


_SUCCEEDED = {Captured: "capture", Canceled: "cancel", AmountUpdated: "update_amount",
              HoldReleased: "release_previous_hold"}
TWO_HOLDS = "two live holds at the gateway"
AUTHORIZE = "authorize"
"""The operation a renewal's declined authorization is shown as, in the failed-operation panel."""
CARD_DECLINED = "card_declined"


@dataclass(frozen=True, kw_only=True)
class Decision:
    """`order` after the outcome; `status_changed` says whether an order event must be emitted."""

    order: Order
    kind: str  # "changed" | "duplicate" | "conflict"
    status_changed: bool = False
    note: str | None = None


def transition(order: Order, target: OrderStatus, **changes: object) -> Order:
    """The only way an order's status changes; refuses anything the table does not allow for the order's origin."""
    if not order.can_become(target):
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
    if isinstance(outcome, AuthenticationAsked):
        return _authentication_asked(order, outcome)
    decision = _operation(order, outcome)
    failed = decision.order.failed_operation
    if decision.kind == "changed" and failed is not None and _clears(outcome, failed):
        return replace(decision, order=replace(decision.order, failed_operation=None))
    return decision


def _authentication_asked(order: Order, outcome: AuthenticationAsked) -> Decision:
    """The gateway form for the buyer's browser: kept on the waiting order (no status change, no order event)."""
    auth = order.authentication
    if order.status is not OrderStatus.AWAITING_AUTHENTICATION or auth is None:
        return _conflict(order, f"a 3-D Secure form arrived for a {order.status} order")
    if auth.ready:
        return Decision(order=order, kind="duplicate")
    ready = replace(auth, action_url=outcome.action_url, sealed_form=outcome.sealed_form)
    return Decision(order=replace(order, authentication=ready), kind="changed")


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
    failed = order.failed_operation
    completed = transition(order, OrderStatus.COMPLETED, payment_status=status, transaction_id=outcome.transaction_id,
                           approval_number=outcome.approval_number, reason_code=None, reason=None,
                           buyer_message=None, anomaly=anomaly or order.anomaly, payment_amount=outcome.amount,
                           retry_at=None, failed_operation=None if failed and failed.operation == AUTHORIZE else failed)
    return Decision(order=completed, kind="changed", status_changed=True, note=anomaly)


def _declined(order: Order, outcome: Declined) -> Decision:
    if order.renewal is not None:
        return _renewal_declined(order, outcome)
    if order.status is OrderStatus.REJECTED:
        return Decision(order=order, kind="duplicate")
    if order.is_final:
        return _decline_conflict(order, outcome)
    # R16: `reason` reaches storefronts (OrderRejected, GET /v1/checkouts): no gateway operation or code in it;
    # operators read those in the order view (`gateway_codes`, the payment's history)
    reason_code = outcome.reason if outcome.reason in AUTHENTICATION_REASONS else "payment_declined"
    rejected = transition(order, OrderStatus.REJECTED, payment_status=PaymentStatus.DECLINED,
                          reason_code=reason_code,
                          reason=AUTHENTICATION_REASONS.get(reason_code, "the card payment was declined"),
                          buyer_message=outcome.buyer_message, gateway_codes=outcome.codes)
    return Decision(order=rejected, kind="changed", status_changed=True)


def _renewal_declined(order: Order, outcome: Declined) -> Decision:
    """R22: a pending renewal order payment will retry stays pending with the retry time; otherwise it fails (not
    rejected: it is the cycle's order), keeps the raw codes for operators and is never re-authorized by checkout."""
    if order.status is OrderStatus.PAYMENT_FAILED:
        return Decision(order=order, kind="duplicate")
    failed = OperationFailed(operation=AUTHORIZE, outcome="declined", reason=outcome.reason or CARD_DECLINED,
                             gateway_operation=outcome.operation, codes=outcome.codes,
                             descriptions=outcome.descriptions)
    if outcome.retry_at is not None and order.status is OrderStatus.PENDING_PAYMENT:
        if (order.retry_at, order.failed_operation) == (outcome.retry_at, failed):
            return Decision(order=order, kind="duplicate")
        waiting = replace(order, retry_at=outcome.retry_at, failed_operation=failed, gateway_codes=outcome.codes)
        return Decision(order=waiting, kind="changed")
    if order.is_final:
        return _decline_conflict(order, outcome)
    flagged = transition(order, OrderStatus.PAYMENT_FAILED, payment_status=PaymentStatus.DECLINED,
                         reason_code=outcome.reason or CARD_DECLINED,
                         reason="the renewal authorization was declined; it is not re-authorized automatically (R22)",
                         buyer_message=outcome.buyer_message, gateway_codes=outcome.codes, retry_at=None,
                         failed_operation=failed)
    return Decision(order=flagged, kind="changed", status_changed=True)


def _decline_conflict(order: Order, outcome: Declined) -> Decision:
    return _conflict(order, f"a decline of {outcome.operation} ({'|'.join(outcome.codes)}) arrived for a "
                            f"{order.status} order")


def _unknown(order: Order, outcome: OutcomeUnknown) -> Decision:
    if order.status is OrderStatus.NEEDS_REVIEW:
        return Decision(order=order, kind="duplicate")
    if order.is_final:
        return _conflict(order, f"an unknown outcome of {outcome.operation} arrived for a {order.status} order")
    review = transition(order, OrderStatus.NEEDS_REVIEW, payment_status=PaymentStatus.UNKNOWN,
                        reason_code="payment_outcome_unknown",
                        reason=f"the outcome of the card payment is unknown ({outcome.reason}); "
                               f"ops must resolve it with the payment number",
                        buyer_message=BUYER_CONTACT_SHOP, attempt_id=outcome.attempt_id, retry_at=None)
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
