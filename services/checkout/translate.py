"""Contracts <-> checkout domain: the only module that imports both (style rule 6).

The card token crosses here in one direction only: from the inbound `CheckoutRequested` into the outbound
`OrderPlaced`, sealed for the payment service; the domain sees just `has_token`. A request checkout's own HTTP
gateway publishes is sealed before it leaves (`sealed_for_kafka`); its sealed token is passed on unopened.
Handlers hold an inbound checkout as an `IncomingCheckout`: the domain request they decide on, and the contract
event they never read, kept for the events that must repeat it. A `RenewalOrderRequested` carries no token: its
order pays with the member's registered card, and all its events are built from the order alone.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypedDict, TypeVar, cast

from contracts.events import (
    CheckoutRequested,
    OrderAmountChanged,
    OrderCompleted,
    OrderNeedsReview,
    OrderPlaced,
    OrderRejected,
    PaymentAmountUpdated,
    PaymentAuthenticationRequired,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentCaptured,
    PaymentDeclined,
    PaymentHoldReleased,
    PaymentOperationFailed,
    PaymentOutcomeUnknown,
    RenewalOrderRequested,
    RenewalPaymentFailed,
    ShopSettingsChanged,
)
from contracts.events import common as c
from contracts.events import shops as s
from contracts.events.base import Event
from contracts.events.orders import ACCEPTABLE_RESULTS, AuthenticationRequest, SecureResult
from delivery.idempotency import Fingerprint, fingerprint
from delivery.sealing import TokenSealer, UnsealableToken
from services.checkout.domain import order as o
from services.checkout.domain import values as v
from services.checkout.domain.authentication import AuthenticationAsked, OrderAuthentication
from services.checkout.domain.renewal import RenewalRequest
from services.checkout.domain.shop import CardMethod, RenewalSettings, Shop

T = TypeVar("T")


@dataclass(frozen=True)
class IncomingCheckout:
    """A `CheckoutRequested` as the handlers hold it: `request` is what they decide on; `event` is opaque to them
    and read only here again (its token, sealed into `OrderPlaced` or into the published request)."""

    request: v.CheckoutRequest
    event: CheckoutRequested = field(repr=False)


def incoming_checkout(event: CheckoutRequested) -> IncomingCheckout:
    return IncomingCheckout(request=checkout_request(event), event=event)


def checkout_request(event: CheckoutRequested) -> v.CheckoutRequest:
    return v.CheckoutRequest(
        checkout_id=event.checkout_id, shop_id=event.shop_id, cart_type=v.CartType(event.cart_type),
        buyer=v.Buyer(**event.buyer.model_dump()), shipping=v.Shipping(**event.shipping.model_dump()),
        lines=tuple(v.Line(**line.model_dump()) for line in event.lines),
        fees=tuple(v.Fee(**fee.model_dump()) for fee in event.fees),
        payment=v.PaymentChoice(has_token=event.payment.token is not None or event.sealed_token is not None,
                                use_registered_card=event.payment.use_registered_card,
                                keep_card=event.payment.keep_card, pay_type=event.payment.pay_type),
        subscription=v.SubscriptionTerms(**event.subscription.model_dump()) if event.subscription else None,
        return_url=event.return_url,
    )  # fmt: skip


def renewal_request(event: RenewalOrderRequested) -> RenewalRequest:
    cycle = o.RenewalCycle(subscription_id=event.subscription_id, cycle_no=event.cycle_no,
                           scheduled_for=event.scheduled_for, first_order_id=event.first_order_id)
    return RenewalRequest(
        cycle=cycle, shop_id=event.shop_id, buyer=v.Buyer(**event.buyer.model_dump()),
        shipping=v.Shipping(**event.shipping.model_dump()),
        lines=tuple(v.Line(**line.model_dump()) for line in event.lines),
        fees=tuple(v.Fee(**fee.model_dump()) for fee in event.fees),
        terms=v.SubscriptionTerms(**event.terms.model_dump()),
    )  # fmt: skip


def sealed_for_kafka(checkout: IncomingCheckout, sealer: TokenSealer) -> CheckoutRequested:
    """The request as checkout's HTTP gateway publishes it: the token moved into `sealed_token` (I5)."""
    event = checkout.event
    token = event.payment.token
    if token is None:
        return event
    return event.model_copy(update={"payment": event.payment.model_copy(update={"token": None}),
                                    "sealed_token": sealer.seal(token.get_secret_value())})


def checkout_fingerprint(checkout: IncomingCheckout, sealer: TokenSealer) -> Fingerprint:
    """The body a storefront sent under its `checkout_id`, as one hash per field (`delivery.idempotency`): the
    same whether the token came plain or sealed by checkout's own HTTP gateway (a token that does not open counts
    as its sealed text)."""
    event = checkout.event
    body = event.model_dump(mode="json", exclude={"sealed_token"})
    token = event.payment.token.get_secret_value() if event.payment.token else event.sealed_token
    if event.sealed_token is not None:
        with suppress(UnsealableToken):
            token = sealer.open(event.sealed_token)
    body["payment"]["token"] = token
    return fingerprint(body)


def shop_settings_changed(shop: Shop) -> ShopSettingsChanged:
    """The full snapshot published on the compacted `shops.settings` topic (never a delta)."""
    mail = shop.mail
    return ShopSettingsChanged(
        shop_id=shop.shop_id, shop_name=shop.shop_name,
        mail=s.MailSettings(sender_address=mail.sender_address, sender_name=mail.sender_name,
                            shop_copy_address=mail.shop_copy_address),
        carriers=[s.Carrier(carrier_id=k.carrier_id, name=k.name, accepts_card=k.accepts_card) for k in shop.carriers],
        card=_card_settings(shop.card, configured=shop.configured) if shop.card else None,
    )  # fmt: skip


def _card_settings(card: CardMethod, *, configured: bool) -> s.CardMethodSettings:
    return s.CardMethodSettings(
        configured=configured, display_name=card.display_name, min_amount=card.min_amount,
        max_amount=card.max_amount,
        note=s.CardNote(text=card.note.text, on_payment_page=card.note.on_payment_page,
                        in_thanks_mail=card.note.in_thanks_mail),
        logo_url=card.logo_url, logo_alt=card.logo_alt,
        sales_mode=_wire(card.sales_mode or v.SalesMode.AUTH),  # unset only while `configured` is false
        show_installments=card.show_installments, card_link_mode=_wire(card.card_link_mode),
        subscriptions_enabled=card.subscriptions_enabled, renewal_sales_mode=_wire(card.renewal_sales_mode),
        authorize_at_renewal=card.authorize_at_renewal, contract_start=card.contract_start,
        contract_end=card.contract_end, renewal=_renewal_settings(card.renewal),
        notify_card_changes=card.notify_card_changes,
        three_d_secure=s.CardThreeDSecure(enabled=card.three_d_secure.enabled,
                                          accepted_results=list(card.three_d_secure.accepted_results)),
    )  # fmt: skip


def _renewal_settings(renewal: RenewalSettings) -> s.RenewalSettings:
    retry = renewal.retry
    return s.RenewalSettings(
        lead_days=renewal.lead_days, hour_jst=renewal.hour_jst, notify_buyer_on_failure=renewal.notify_buyer_on_failure,
        retry=s.RenewalRetry(max_tries=retry.max_tries, within_days=retry.within_days) if retry else None,
    )  # fmt: skip


def order_event(order: o.Order, *, checkout: IncomingCheckout | None = None,
                sealer: TokenSealer | None = None) -> Event:
    """The event announcing the order's current status (`OrderPlaced` of a checkout needs the inbound request's
    token, which it carries sealed for the payment service)."""
    if order.status in (o.OrderStatus.PENDING_PAYMENT, o.OrderStatus.AWAITING_AUTHENTICATION):
        if order.renewal is not None:
            return renewal_placed(order)
        if checkout is None or sealer is None:
            raise ValueError("OrderPlaced is built from the inbound CheckoutRequested (it carries the token)")
        return _placed(order, checkout.event, sealer)
    if order.status is o.OrderStatus.COMPLETED:
        return _completed(order)
    if order.status is o.OrderStatus.PAYMENT_FAILED:
        return _renewal_failed(order)
    if order.status is o.OrderStatus.REJECTED:
        return OrderRejected(**_ids(order), payment_number=order.payment_number, reason_code=_known(order.reason_code),
                             reason=_known(order.reason), buyer_message=order.buyer_message)
    return OrderNeedsReview(**_ids(order), payment_number=_known(order.payment_number),
                            reason_code=_known(order.reason_code), reason=_known(order.reason),
                            buyer_message=order.buyer_message, attempt_id=order.attempt_id)


class _OrderIds(TypedDict):
    order_id: str
    shop_id: str
    checkout_id: str | None
    subscription_id: str | None
    cycle_no: int | None


def _ids(order: o.Order) -> _OrderIds:
    renewal = order.renewal
    return {"order_id": order.order_id, "shop_id": order.shop_id, "checkout_id": order.checkout_id,
            "subscription_id": renewal.subscription_id if renewal else None,
            "cycle_no": renewal.cycle_no if renewal else None}


def _wire(value: StrEnum) -> Any:
    """A domain enum as the contract's literal (pydantic checks the literal when the event is built)."""
    return value.value


def _placed(order: o.Order, inbound: CheckoutRequested, sealer: TokenSealer) -> OrderPlaced:
    token = inbound.payment.token
    payment = inbound.payment.model_copy(update={"pay_type": order.pay_type, "token": None})
    return OrderPlaced(
        sealed_token=sealer.seal(token.get_secret_value()) if token is not None else inbound.sealed_token,
        **_ids(order), origin="checkout", cart_type=_wire(order.request.cart_type),
        payment_number=_known(order.payment_number), amount=_known(order.amount), order_date=order.order_date,
        buyer=inbound.buyer, payment=payment,
        sales_mode=_wire(_known(order.sales_mode)), card_link_mode=_wire(_known(order.card_link_mode)),
        authentication=_authentication(order.authentication),
    )  # fmt: skip


def _authentication(auth: OrderAuthentication | None) -> AuthenticationRequest | None:
    if auth is None:
        return None
    return AuthenticationRequest(deadline=auth.deadline, accepted_results=[_result(r) for r in auth.accepted_results],
                                 return_url=auth.return_url)


def _result(value: str) -> SecureResult:
    if value not in ACCEPTABLE_RESULTS:
        raise ValueError(f"SecureResultCode {value!r} cannot be accepted")
    return cast(SecureResult, value)


def renewal_placed(order: o.Order) -> OrderPlaced:
    """A renewal order's `OrderPlaced` (version 0): pay with the registered card, no token; with
    `payment_skip_reason` set (R21) payment makes no gateway call for it."""
    request = order.request
    return OrderPlaced(
        **_ids(order), origin="renewal", cart_type=_wire(request.cart_type),
        payment_number=_known(order.payment_number), amount=_total(order), order_date=order.order_date,
        buyer=c.Buyer.model_validate(asdict(request.buyer)),
        payment=c.PaymentChoice(use_registered_card=True, keep_card=None, pay_type=order.pay_type),
        sales_mode=_wire(_known(order.sales_mode)), card_link_mode=_wire(_known(order.card_link_mode)),
        payment_skip_reason=order.payment_skip_reason,
    )  # fmt: skip


def _completed(order: o.Order) -> OrderCompleted:
    request = order.request
    terms = request.subscription
    return OrderCompleted(
        **_ids(order), origin=_wire(order.origin), cart_type=_wire(request.cart_type),
        payment_number=_known(order.payment_number), order_date=order.order_date,
        buyer=c.Buyer.model_validate(asdict(request.buyer)),
        shipping=c.Shipping.model_validate(asdict(request.shipping)),
        lines=[c.Line.model_validate(asdict(x)) for x in request.lines],
        fees=[c.Fee.model_validate(asdict(x)) for x in request.fees], total=_total(order),
        payment_method_name=_known(order.payment_method_name), pay_type=order.pay_type,
        sales_mode=_wire(_known(order.sales_mode)), payment_status=_completed_payment(order.payment_status),
        subscription=c.SubscriptionTerms.model_validate(asdict(terms)) if terms else None,
        payment_skip_reason=order.payment_skip_reason,
    )  # fmt: skip


def _completed_payment(status: o.PaymentStatus) -> Literal["authorized", "captured", "skipped"]:
    if status is o.PaymentStatus.SKIPPED:
        return "skipped"
    return "captured" if status is o.PaymentStatus.CAPTURED else "authorized"


def _renewal_failed(order: o.Order) -> RenewalPaymentFailed:
    """R22: the cycle's order exists, flagged; raw codes stay in the operator views (R16)."""
    request = order.request
    return RenewalPaymentFailed(
        **_ids(order), payment_number=_known(order.payment_number), order_date=order.order_date,
        buyer=c.Buyer.model_validate(asdict(request.buyer)), total=_total(order),
        reason_code=_known(order.reason_code), reason=_known(order.reason), buyer_message=order.buyer_message,
    )  # fmt: skip


def _total(order: o.Order) -> int:
    """The order total; for a renewal skipped because a part is "to be advised" (R21), the known part."""
    if order.amount is None and order.payment_status is o.PaymentStatus.SKIPPED:
        return order.request.known_total
    return _known(order.amount)


def _known(value: T | None) -> T:
    """A field the order's status guarantees (e.g. set by `place_order`); None here is a programming error."""
    if value is None:
        raise ValueError("order event built from an order lacking a field its status guarantees")
    return value


def payment_outcome(event: Event) -> o.PaymentOutcome | None:
    """The domain outcome of a payment event, or None for payment events checkout does not act on."""
    if isinstance(event, PaymentAuthorized):
        return o.Authorized(amount=event.amount, captured=event.captured, transaction_id=event.transaction_id,
                            approval_number=event.approval_number)
    if isinstance(event, PaymentDeclined):
        return o.Declined(operation=event.operation, codes=tuple(event.codes), buyer_message=event.buyer_message,
                          descriptions=tuple(event.descriptions), reason=event.reason, retry_at=event.retry_at)
    if isinstance(event, PaymentOutcomeUnknown):
        return o.OutcomeUnknown(attempt_id=event.attempt_id, operation=event.operation, reason=event.reason)
    if isinstance(event, PaymentAuthenticationRequired):
        return AuthenticationAsked(action_url=event.action_url, sealed_form=event.sealed_form, deadline=event.deadline)
    return _operation_outcome(event)


def _operation_outcome(event: Event) -> o.PaymentOutcome | None:
    """Operator operations: what they changed, or why they did not happen, is shown on the order."""
    if isinstance(event, PaymentCaptured):
        return o.Captured(transaction_id=event.transaction_id, amount=event.amount)
    if isinstance(event, PaymentCanceled):
        return o.Canceled(transaction_id=event.transaction_id)
    if isinstance(event, PaymentAmountUpdated):
        return o.AmountUpdated(amount=event.amount, transaction_id=event.transaction_id,
                               previous_hold_released=event.previous_hold_released)
    if isinstance(event, PaymentHoldReleased):
        return o.HoldReleased(transaction_id=event.transaction_id)
    if isinstance(event, PaymentOperationFailed):
        return o.OperationFailed(operation=event.operation, outcome=event.outcome, reason=event.reason,
                                 gateway_operation=event.gateway_operation, codes=tuple(event.codes),
                                 descriptions=tuple(event.descriptions), requested_by=event.requested_by)
    return None


def order_amount_changed(order: o.Order, *, previous_amount: int, edited_by: str | None) -> OrderAmountChanged:
    """The edited cart and its new total, for payment (R12: no capture until the hold is updated)."""
    request = order.request
    return OrderAmountChanged(
        **_ids(order), payment_number=_known(order.payment_number), previous_amount=previous_amount,
        amount=_known(order.amount), lines=[c.Line.model_validate(asdict(x)) for x in request.lines],
        shipping=c.Shipping.model_validate(asdict(request.shipping)),
        fees=[c.Fee.model_validate(asdict(x)) for x in request.fees], edited_by=edited_by,
    )  # fmt: skip
