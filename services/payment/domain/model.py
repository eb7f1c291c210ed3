"""The payment of one order: a synchronous state machine (design §6.1, §6.2, R7-R11, R16).

One `Payment` per order id is the guard against a second authorization: whatever delivers `OrderPlaced`
again, the payment already exists and `next_operation` says what (if anything) is left to send. Each gateway
call is decided here (`next_operation`), recorded and sent by the handler, and its reply applied here
(`apply_reply`), which returns the events to publish. Time and ids come from outside.

    pending --link ok--> pending --charge ok--> authorized | captured  (then cleanup: unlink / done)
       |                    (a subscription order reads the linked card first: 4MemRefM, then CardLinked)
       |                    |--declined--> declined (K40: cleanup voids the hold)
       |                    |--unknown---> unknown --resolve--> authorized | captured | declined
       |                    |--declined, renewal, soft, shop opted in--> retry_scheduled --due--> pending
       |--refused / link failed--> declined                               (`domain/retries.py`, R22)
    skipped (R21: no gateway call, nothing announced)
    authorized --capture--> captured;  authorized --cancel--> canceled;  authorized --update--> authorized
    (operator actions: `domain/action_rules.py`)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from services.payment.domain import codes as result_codes
from services.payment.domain import events as ev
from services.payment.domain.actions import HoldState, PreviousHold, RunningAction, UnknownAction
from services.payment.domain.authentication import (
    ABANDONED,
    CARD_COMPANY_CODES,
    FAILED,
    Authentication,
    AuthenticationRequest,
    AuthenticationState,
    abandoned,
    check_return,
    decided,
)
from services.payment.domain.card_face import CardFace
from services.payment.domain.cards import CardChoice, CardPlan, CardSource, Refused, member_decline_reason, plan_card
from services.payment.domain.gateway import (
    CHARGES,
    LINKS,
    GatewayOperation,
    Outcome,
    Reply,
    SalesMode,
    charge_operation,
)


class PaymentState(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    DECLINED = "declined"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"
    CANCELED = "canceled"
    RETRY_SCHEDULED = "retry_scheduled"  # a declined renewal tried again later (opt-in, R22): not final
    AWAITING_AUTHENTICATION = "awaiting_authentication"  # 3-D Secure: the buyer's browser is at the gateway


class Cleanup(StrEnum):
    """Gateway work left after the outcome: remove a link (R8/R9) or void a hold a decline left (K40)."""

    NONE = "none"
    UNLINK = "unlink"
    DELETE_MEMBER = "delete_member"
    VOID_HOLD = "void_hold"
    DONE = "done"
    FAILED = "failed"


_CLEANUP_CALLS = {Cleanup.UNLINK: GatewayOperation.MEM_INVAL, Cleanup.DELETE_MEMBER: GatewayOperation.MEM_DEL,
                  Cleanup.VOID_HOLD: GatewayOperation.DELETE}


class InvalidTransition(Exception):
    """A command or reply that does not fit the payment's current state."""


@dataclass(frozen=True, kw_only=True)
class PlaceOrder:
    """The order to pay, as checkout placed it (settings snapshotted at order time)."""

    order_id: str
    shop_id: str
    payment_number: str
    amount: int
    pay_type: str
    sales_mode: SalesMode
    buyer_name: str
    choice: CardChoice
    skip_reason: str | None = None
    authentication: AuthenticationRequest | None = None  # 3-D Secure first (design §6.7): a new card, buyer present


@dataclass(frozen=True, kw_only=True)
class Resolution:
    """An operator's finding about an unknown outcome (design §6.2)."""

    authorized: bool
    transaction_id: str | None = None
    approval_number: str | None = None
    process_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class Payment:
    order_id: str
    shop_id: str
    payment_number: str
    amount: int
    pay_type: str
    sales_mode: SalesMode
    buyer_name: str
    member_id: str | None
    renewal: bool = False
    plan: CardPlan | None = None
    kaiin_id: str | None = None
    state: PaymentState = PaymentState.PENDING
    linked: bool = False
    cleanup: Cleanup = Cleanup.NONE
    unsent: int = 0
    transaction_id: str | None = None
    approval_number: str | None = None
    process_id: str | None = None
    codes: tuple[str, ...] = ()
    reason: str | None = None
    buyer_message: str | None = None
    resolution: str | None = None
    version: int = 0
    order_total: int | None = None
    sales_date: date | None = None
    running_action: RunningAction | None = None
    unknown_action: UnknownAction | None = None
    previous_hold: PreviousHold | None = None
    authentication: Authentication | None = None
    card_read_due: bool = False
    """A subscription order's link is announced only after one 4MemRefM read of the linked card, so `CardLinked`
    carries its expiry (the subscription service warns before a renewal's card expires)."""

    @property
    def current_order_total(self) -> int:
        """The order's total as checkout last reported it (`OrderAmountChanged`); the placed amount before."""
        return self.amount if self.order_total is None else self.order_total

    @property
    def held_amount(self) -> int:
        """What the current hold reserves and is not yet captured."""
        return self.amount if self.state is PaymentState.AUTHORIZED else 0

    @property
    def captured_amount(self) -> int:
        return self.amount if self.state is PaymentState.CAPTURED else 0

    @property
    def update_required(self) -> bool:
        """R12: the order was edited and the hold no longer equals its total; capture waits for an update."""
        return self.state is PaymentState.AUTHORIZED and self.current_order_total != self.amount

    @property
    def two_live_holds(self) -> bool:
        """An amount update could not release the replaced hold (design §6.5): flagged for ops."""
        return self.previous_hold is not None and self.previous_hold.state is HoldState.RELEASE_FAILED


Decided = tuple[Payment, list[ev.DomainEvent]]


def open_payment(order: PlaceOrder, *, linked_kaiin: str | None, new_kaiin_id: str,
                 credentials_issue: str | None = None, proc_no: str = "0000000") -> Decided:
    """The new payment for `order`: skipped (R21), refused (declined without a call), or pending with a plan.

    `credentials_issue` names why the shop's gateway credentials cannot be used (missing, unreadable): a
    business refusal the operator must fix, declined with that reason rather than dead-lettered.
    """
    if order.skip_reason:
        return skip_payment(order), []
    payment = _new_payment(order)
    try:
        _check_payable(order, credentials_issue)
        plan = plan_card(order.choice, linked=linked_kaiin is not None)
    except Refused as refusal:
        return _decline(payment, charge_operation(order.sales_mode), (), reason=refusal.reason)
    kaiin = new_kaiin_id if plan.link is GatewayOperation.MEM_ADD else linked_kaiin if plan.touches_member else None
    read_due = order.choice.subscription and plan.link is not None
    opened = replace(payment, plan=plan, kaiin_id=kaiin, card_read_due=read_due)
    if order.authentication is not None and order.choice.has_token:  # design §6.7: the new card is authenticated
        auth = Authentication(request=order.authentication, proc_no=proc_no)
        return replace(opened, state=PaymentState.AWAITING_AUTHENTICATION, authentication=auth), []
    return opened, []


def record_authentication(payment: Payment, result: Mapping[str, str]) -> Decided:
    """The buyer came back from 3-D Secure: go on to link/charge with the result fields, or decline (R16: a failed
    authentication sends the buyer to the card company). `AuthenticationClosed` when the payment awaits none."""
    check_return(payment.authentication, result, payment_number=payment.payment_number)
    assert payment.authentication is not None
    auth = decided(payment.authentication, result)
    if auth.state is AuthenticationState.AUTHENTICATED:
        return replace(payment, state=PaymentState.PENDING, authentication=auth), []
    card_company = CARD_COMPANY_CODES & set(auth.codes)
    return _decline(replace(payment, authentication=auth), GatewayOperation.SECURE, auth.codes, reason=FAILED,
                    buyer_message=result_codes.BUYER_CARD_COMPANY if card_company else None)


def expire_authentication(payment: Payment) -> Decided:
    """The deadline passed without a return: declined as abandoned (nothing was charged, the token is unspent)."""
    if payment.authentication is None or payment.state is not PaymentState.AWAITING_AUTHENTICATION:
        raise InvalidTransition(f"payment {payment.order_id} awaits no authentication")
    return _decline(replace(payment, authentication=abandoned(payment.authentication)), GatewayOperation.SECURE, (),
                    reason=ABANDONED)


def skip_payment(order: PlaceOrder) -> Payment:
    """R21: checkout decided not to authorize (and completed the order itself): the payment only records why."""
    assert order.skip_reason
    return replace(_new_payment(order), state=PaymentState.SKIPPED, reason=order.skip_reason)


def _new_payment(order: PlaceOrder) -> Payment:
    return Payment(order_id=order.order_id, shop_id=order.shop_id, payment_number=order.payment_number,
                   amount=order.amount, pay_type=order.pay_type, sales_mode=order.sales_mode,
                   buyer_name=order.buyer_name, member_id=order.choice.member_id, renewal=order.choice.renewal,
                   order_total=order.amount)


def _check_payable(order: PlaceOrder, credentials_issue: str | None) -> None:
    """Business refusals that need no gateway: unusable credentials for the shop, a non-positive amount (R4)."""
    if credentials_issue:
        raise Refused(credentials_issue)
    if order.amount < 1:
        raise Refused("amount_not_payable")


def next_operation(payment: Payment) -> GatewayOperation | None:
    """The gateway call to make now, or None when the payment needs nothing more from the gateway."""
    if payment.state is PaymentState.PENDING and payment.plan is not None:
        if payment.plan.link is not None and not payment.linked:
            return payment.plan.link
        if payment.card_read_due:
            return GatewayOperation.MEM_REF
        return charge_operation(payment.sales_mode)
    return _CLEANUP_CALLS.get(payment.cleanup)


def apply_reply(payment: Payment, op: GatewayOperation, reply: Reply, *, attempt_id: str, max_sends: int,
                face: CardFace | None = None) -> Decided:
    """Apply the reply of the call `next_operation` asked for. A `not_sent` call is tried up to `max_sends`,
    except the card read after a link (`face`: what it showed), which is made once whatever it answers."""
    if next_operation(payment) is not op:
        raise InvalidTransition(f"{op} is not the next call of payment {payment.order_id} ({payment.state})")
    if op is GatewayOperation.MEM_REF:
        return _after_card_read(payment, reply, face)
    if reply.outcome is Outcome.NOT_SENT and payment.unsent + 1 < max_sends:
        return replace(payment, unsent=payment.unsent + 1), []
    payment = replace(payment, unsent=0)
    if op in LINKS:
        return _after_link(payment, op, reply)
    if op in CHARGES:
        return _after_charge(payment, op, reply, attempt_id=attempt_id)
    return _after_cleanup(payment, op, reply), _unlinked(payment, op, reply)


def will_retry(payment: Payment, reply: Reply, *, max_sends: int) -> bool:
    """True when `apply_reply` would send the same call again (a not_sent reply within the budget)."""
    if next_operation(payment) is GatewayOperation.MEM_REF:
        return False
    return reply.outcome is Outcome.NOT_SENT and payment.unsent + 1 < max_sends


def _after_link(payment: Payment, op: GatewayOperation, reply: Reply) -> Decided:
    if reply.outcome is Outcome.OK:
        assert payment.member_id is not None
        if payment.card_read_due:  # announced after the card read (`_after_card_read`)
            return replace(payment, linked=True), []
        linked = ev.CardLinked(shop_id=payment.shop_id, member_id=payment.member_id, order_id=payment.order_id,
                               replaced=op is GatewayOperation.MEM_CHG)
        return replace(payment, linked=True), [linked]
    if reply.outcome is Outcome.DECLINED:
        message = result_codes.MEMBER_FUNCTION_OFF if "K68" in reply.codes else None  # R17
        return _decline(payment, op, reply.codes, buyer_message=message)
    reason = "gateway_unreachable" if reply.outcome is Outcome.NOT_SENT else "link_outcome_unknown"
    return _decline(payment, op, (), reason=reason)


def _after_card_read(payment: Payment, reply: Reply, face: CardFace | None) -> Decided:
    """The read after a subscription order's link: `CardLinked` with the card's expiry and masked number when it
    answered them, without them otherwise (a read never fails or delays the order)."""
    assert payment.member_id is not None and payment.plan is not None
    shown = face if reply.outcome is Outcome.OK and face is not None else CardFace()
    linked = ev.CardLinked(shop_id=payment.shop_id, member_id=payment.member_id, order_id=payment.order_id,
                           replaced=payment.plan.link is GatewayOperation.MEM_CHG, masked_card=shown.masked,
                           card_expiry=shown.expiry)
    return replace(payment, card_read_due=False, unsent=0), [linked]


def _after_charge(payment: Payment, op: GatewayOperation, reply: Reply, *, attempt_id: str) -> Decided:
    if reply.outcome is Outcome.OK:
        assert reply.transaction_id is not None
        return _authorize(payment, Resolution(authorized=True, transaction_id=reply.transaction_id,
                                              approval_number=reply.approval_number, process_id=reply.process_id),
                          by="gateway")
    if reply.outcome is Outcome.DECLINED:
        by_member = payment.plan is not None and payment.plan.source is CardSource.MEMBER
        declined, events = _decline(payment, op, reply.codes,
                                    reason=member_decline_reason(reply.codes) if by_member else None)
        if reply.process_id:  # K40: approved but refused; the hold is live and must be voided (I2)
            declined = replace(declined, process_id=reply.process_id, cleanup=Cleanup.VOID_HOLD)
        return declined, events
    if reply.outcome is Outcome.NOT_SENT:
        return _decline(payment, op, (), reason="gateway_unreachable")
    unknown = ev.PaymentOutcomeUnknown(order_id=payment.order_id, shop_id=payment.shop_id,
                                       payment_number=payment.payment_number, attempt_id=attempt_id,
                                       operation=op.value, amount=payment.amount, reason=reply.reason or "unknown")
    return replace(payment, state=PaymentState.UNKNOWN, reason=reply.reason or "unknown"), [unknown]


def _after_cleanup(payment: Payment, op: GatewayOperation, reply: Reply) -> Payment:
    if op is GatewayOperation.MEM_INVAL and (reply.outcome is Outcome.OK or reply.codes == ("K75",)):
        return replace(payment, cleanup=Cleanup.DELETE_MEMBER)
    if reply.outcome is Outcome.OK:
        return replace(payment, cleanup=Cleanup.DONE)
    return replace(payment, cleanup=Cleanup.FAILED)


def _unlinked(payment: Payment, op: GatewayOperation, reply: Reply) -> list[ev.DomainEvent]:
    if op is not GatewayOperation.MEM_DEL or reply.outcome is not Outcome.OK or payment.plan is None:
        return []
    assert payment.member_id is not None
    return [ev.CardUnlinked(shop_id=payment.shop_id, member_id=payment.member_id, order_id=payment.order_id,
                            reason=payment.plan.unlink_reason or "unlinked")]


def resolve(payment: Payment, resolution: Resolution) -> Decided:
    """Record an operator's finding about an unknown outcome; the matching event tells checkout."""
    if payment.state is not PaymentState.UNKNOWN:
        raise InvalidTransition(f"payment {payment.order_id} is {payment.state}, not unknown")
    if not resolution.authorized:
        return _decline(payment, charge_operation(payment.sales_mode), (), reason="resolved_not_authorized",
                        resolution="operator")
    if not resolution.transaction_id:
        raise InvalidTransition("an authorized resolution needs the gateway's transaction id")
    return _authorize(payment, resolution, by="operator")


def _authorize(payment: Payment, found: Resolution, *, by: str) -> Decided:
    """Authorized as the gateway answered (`by` gateway) or as an operator found it in Sony's screen."""
    captured = payment.sales_mode is SalesMode.AUTH_CAPTURE
    plan = payment.plan
    assert plan is not None and found.transaction_id is not None
    authorized = replace(
        payment, state=PaymentState.CAPTURED if captured else PaymentState.AUTHORIZED, reason=None,
        transaction_id=found.transaction_id, approval_number=found.approval_number, process_id=found.process_id,
        resolution=by, cleanup=Cleanup.UNLINK if plan.unlink_after else Cleanup.NONE)
    event = ev.PaymentAuthorized(order_id=payment.order_id, shop_id=payment.shop_id,
                                 payment_number=payment.payment_number, amount=payment.amount,
                                 pay_type=payment.pay_type, captured=captured, card_source=plan.source.value,
                                 transaction_id=found.transaction_id, approval_number=found.approval_number,
                                 resolution=by)
    return authorized, [event]


def refuse(payment: Payment, reason: str) -> Decided:
    """Declined without a gateway call: a business refusal an operator must fix (e.g. the shop's credentials
    are gone when a renewal's retry comes due), announced with `reason` and the shop message."""
    return _decline(payment, charge_operation(payment.sales_mode), (), reason=reason)


def _decline(payment: Payment, op: GatewayOperation, codes: tuple[str, ...], *, reason: str | None = None,
             buyer_message: str | None = None, resolution: str = "gateway") -> Decided:
    """R16: the buyer sees only the message; operators see the codes, or our `reason` when there are none."""
    message = buyer_message or result_codes.buyer_message(codes)
    declined = replace(payment, state=PaymentState.DECLINED, codes=codes, reason=reason, buyer_message=message,
                       resolution=resolution if resolution != "gateway" else payment.resolution)
    event = ev.PaymentDeclined(order_id=payment.order_id, shop_id=payment.shop_id,
                               payment_number=payment.payment_number, amount=payment.amount, operation=op.value,
                               codes=codes, buyer_message=message, reason=reason, resolution=resolution)
    return declined, [event]

