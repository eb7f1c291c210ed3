"""JSON views of shops, orders, checkout outcomes and availability (what the HTTP API returns).

Views never contain a key, a credential or a token: the shop view says only whether credentials are set.
Storefront views never contain raw gateway codes (R16). A renewal order whose authorization was skipped (R21)
shows `payment.skipped_reason`, no payment number (nothing was sent to the gateway under it) and no actions.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from delivery.sealing import TokenSealer
from services.checkout.domain.order import OperationFailed, Order, OrderStatus, PaymentStatus
from services.checkout.domain.rules import PAY_TYPES
from services.checkout.domain.shop import CardMethod, Shop
from services.checkout.domain.values import SalesMode
from services.checkout.handlers.checkouts import Availability, CheckoutOutcome

UPDATE_REQUIRED = "hold differs from order total — update required"


def shop_view(shop: Shop) -> dict[str, Any]:
    return {
        "shop_id": shop.shop_id,
        "shop_name": shop.shop_name,
        "mail": asdict(shop.mail),
        "carriers": [asdict(c) for c in shop.carriers],
        "payment_methods": [] if shop.card is None else [card_view(shop)],
    }


def card_view(shop: Shop) -> dict[str, Any]:
    card = shop.card
    assert card is not None
    data = asdict(card)
    data["contract_start"] = card.contract_start.isoformat() if card.contract_start else None
    data["contract_end"] = card.contract_end.isoformat() if card.contract_end else None
    return {"method": "escott_card", **data, "gateway_credentials_set": shop.credentials_set,
            "configured": shop.configured, "missing": list(shop.missing()),
            "card_link_mode_forced": card.subscriptions_enabled}


def installments_label(pay_type: str) -> str:
    return PAY_TYPES.get(pay_type, pay_type)


def order_summary(order: Order) -> dict[str, Any]:
    """A search hit for operators: with the reason, the R16 buyer message and the raw codes of a decline."""
    request = order.request
    return {
        "order_id": order.order_id, "checkout_id": order.checkout_id, "origin": order.origin, "status": order.status,
        "payment_status": order.payment_status, "payment_number": shown_payment_number(order),
        "order_date": order.order_date.isoformat(), "placed_at": order.placed_at.isoformat(),
        "amount": order.amount, "buyer": {"name": request.buyer.name, "email": request.buyer.email},
        "renewal": renewal_view(order), "reason_code": order.reason_code, "buyer_message": order.buyer_message,
        "gateway_codes": list(order.gateway_codes),
    }  # fmt: skip


def order_view(order: Order) -> dict[str, Any]:
    """What an operator sees: the summary, the payment (method, number, installments, status) and the cart."""
    request = order.request
    return {
        **order_summary(order),
        "cart_type": request.cart_type,
        "buyer": asdict(request.buyer),
        "payment": {
            **_payment_basics(order),
            "sales_mode": order.sales_mode, "card_link_mode": order.card_link_mode,
            "card_source": "registered_card" if request.payment.use_registered_card else "token",
            "transaction_id": order.transaction_id, "approval_number": order.approval_number,
            "gateway_codes": list(order.gateway_codes), "attempt_id": order.attempt_id,
            "amount": order.payment_amount, "update_required": order.update_required,
            "notices": [UPDATE_REQUIRED] if order.update_required else [],
            "failed_operation": failed_operation_view(order.failed_operation),
            "actions": payment_actions(order),
        },
        "reason_code": order.reason_code, "reason": order.reason, "buyer_message": order.buyer_message,
        "anomaly": order.anomaly, **_contents(order),
    }  # fmt: skip


def storefront_order_view(order: Order) -> dict[str, Any]:
    """What a shop's storefront (the member's my-page) sees of an order: status, payment as the buyer may know it
    (no raw gateway codes, R16; the skip reason or the retry time of a renewal) and the contents."""
    return {
        "order_id": order.order_id, "checkout_id": order.checkout_id, "origin": order.origin, "status": order.status,
        "order_date": order.order_date.isoformat(), "amount": order.amount, "renewal": renewal_view(order),
        "payment": _payment_basics(order),
        "reason_code": order.reason_code, "buyer_message": order.buyer_message, **_contents(order),
    }  # fmt: skip


def _payment_basics(order: Order) -> dict[str, Any]:
    return {
        "method_name": order.payment_method_name, "payment_number": shown_payment_number(order),
        "pay_type": order.pay_type, "installments": installments_label(order.pay_type), "status": order.payment_status,
        "skipped_reason": order.payment_skip_reason,
        "retry_at": order.retry_at.isoformat() if order.retry_at else None,
    }  # fmt: skip


def _contents(order: Order) -> dict[str, Any]:
    request = order.request
    return {
        "shipping": asdict(request.shipping), "lines": [asdict(x) for x in request.lines],
        "fees": [asdict(x) for x in request.fees],
        "subscription": asdict(request.subscription) if request.subscription else None,
    }  # fmt: skip


def shown_payment_number(order: Order) -> str | None:
    """R21: a skipped renewal was never sent to the gateway, so no payment number is shown for it."""
    return None if order.payment_status is PaymentStatus.SKIPPED else order.payment_number


def renewal_view(order: Order) -> dict[str, Any] | None:
    renewal = order.renewal
    if renewal is None:
        return None
    return {"subscription_id": renewal.subscription_id, "cycle_no": renewal.cycle_no,
            "scheduled_for": renewal.scheduled_for.isoformat(), "first_order_id": renewal.first_order_id}


def payment_actions(order: Order) -> list[str]:
    """What an operator may do with the payment now (R12/R13): capture, cancel or update an uncaptured
    authorization in `auth` mode; nothing for a captured sale, an `auth_capture` order or a skipped renewal."""
    if order.payment_status is PaymentStatus.AUTHORIZED and order.sales_mode is SalesMode.AUTH:
        return ["capture", "cancel", "update_amount"]
    return []


def failed_operation_view(failed: OperationFailed | None) -> dict[str, Any] | None:
    """The last payment operation that did not happen, raw gateway codes with descriptions (R16: operators only)."""
    if failed is None:
        return None
    return {
        "operation": failed.operation, "outcome": failed.outcome, "reason": failed.reason,
        "gateway_operation": failed.gateway_operation, "requested_by": failed.requested_by,
        "codes": [{"code": code, "description": text} for code, text in zip(failed.codes, failed.descriptions,
                                                                              strict=True)],
    }  # fmt: skip


def outcome_view(outcome: CheckoutOutcome, sealer: TokenSealer) -> dict[str, Any]:
    """What a storefront learns about its checkout: never raw gateway codes (R16). While the buyer must take 3-D
    Secure (design §6.7), `status` is `action_required` and `action` the form to auto-submit from the browser."""
    order = outcome.order
    status = "action_required" if outcome.action_required else outcome.status
    view: dict[str, Any] = {"checkout_id": outcome.checkout_id, "status": status, "final": outcome.final}
    if order is not None:
        view.update(order_id=order.order_id, order_status=order.status.value, payment_number=order.payment_number,
                    amount=order.amount, pay_type=order.pay_type, reason_code=order.reason_code, reason=order.reason,
                    buyer_message=order.buyer_message)
    auth = order.authentication if order is not None else None
    if auth is not None and order is not None and order.status is OrderStatus.AWAITING_AUTHENTICATION:
        view["authentication_deadline"] = auth.deadline.isoformat()
        if auth.action_url is not None and auth.sealed_form is not None:
            view["action"] = {"type": "redirect_form", "method": "POST", "url": auth.action_url,
                              "fields": json.loads(sealer.open(auth.sealed_form))}
    return view


def availability_view(availability: Availability) -> dict[str, Any]:
    first = availability.rejections[0] if availability.rejections else None
    view: dict[str, Any] = {
        "method": "escott_card", "offered": availability.offered,
        "reason_code": first.code if first else None, "reason": first.message if first else None,
        "rejections": [asdict(r) for r in availability.rejections],
    }
    if availability.offered and availability.card is not None:
        view.update(_payment_page(availability.card, availability))
    return view


def _payment_page(card: CardMethod, availability: Availability) -> dict[str, Any]:
    registered = availability.registered_card
    return {
        "name": card.display_name,
        "note": card.note.text if card.note.on_payment_page and card.note.text else None,
        "logo": {"url": card.logo_url, "alt": card.logo_alt} if card.logo_url else None,
        "installments": [{"pay_type": p, "label": installments_label(p)} for p in availability.installments]
        if card.show_installments else None,
        "registered_card": {"masked_card_no": registered.masked_card_no}
        if registered is not None and registered.linked else None,
        "registered_card_lookup": availability.registered_card_lookup,
    }
