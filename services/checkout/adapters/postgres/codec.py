"""JSON column encodings of domain values (shop settings, the checkout request of an order).

Explicit both ways, so a stored row is readable by a person and a renamed field breaks a test, not a shop.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from services.checkout.domain import values as v
from services.checkout.domain.authentication import OrderAuthentication
from services.checkout.domain.order import OperationFailed
from services.checkout.domain.shop import (
    CardMethod,
    CardNote,
    Carrier,
    MailSettings,
    RenewalRetry,
    RenewalSettings,
    ThreeDSecure,
)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def mail_to_json(mail: MailSettings) -> str:
    return dumps(asdict(mail))


def mail_from_json(raw: str) -> MailSettings:
    return MailSettings(**json.loads(raw))


def carriers_to_json(carriers: tuple[Carrier, ...]) -> str:
    return dumps([asdict(c) for c in carriers])


def carriers_from_json(raw: str) -> tuple[Carrier, ...]:
    return tuple(Carrier(**c) for c in json.loads(raw))


def card_to_json(card: CardMethod | None) -> str | None:
    if card is None:
        return None
    data = asdict(card)
    del data["note"]["on_confirmation_page"]  # always true, not a setting
    return dumps(data)


def card_from_json(raw: str | None) -> CardMethod | None:
    if raw is None:
        return None
    data = json.loads(raw)
    note = CardNote(**data.pop("note"))
    sales_mode = data.pop("sales_mode")
    return CardMethod(
        **{k: data[k] for k in ("display_name", "min_amount", "max_amount", "logo_url", "logo_alt",
                                "show_installments", "subscriptions_enabled", "authorize_at_renewal")},
        note=note, sales_mode=v.SalesMode(sales_mode) if sales_mode else None,
        card_link_mode=v.CardLinkMode(data["card_link_mode"]),
        renewal_sales_mode=v.SalesMode(data["renewal_sales_mode"]),
        contract_start=_date(data["contract_start"]), contract_end=_date(data["contract_end"]),
        renewal=_renewal(data["renewal"]),
        notify_card_changes=data.get("notify_card_changes", True),  # stored before the setting existed: its default
        three_d_secure=_three_d_secure(data.get("three_d_secure")),
    )  # fmt: skip


def _three_d_secure(data: dict[str, Any] | None) -> ThreeDSecure:
    """Stored before the setting existed: off (the shop's flow stays as it was)."""
    if data is None:
        return ThreeDSecure()
    return ThreeDSecure(enabled=data["enabled"], accepted_results=tuple(data["accepted_results"]))


def _renewal(data: dict[str, Any]) -> RenewalSettings:
    """Every stored card has its renewal settings (migration 006 wrote the defaults into older rows)."""
    retry = data["retry"]
    return RenewalSettings(lead_days=data["lead_days"], hour_jst=data["hour_jst"],
                           notify_buyer_on_failure=data["notify_buyer_on_failure"],
                           retry=RenewalRetry(**retry) if retry is not None else None)


def _date(raw: str | None) -> date | None:
    return date.fromisoformat(raw) if raw else None


def request_to_json(request: v.CheckoutRequest) -> str:
    return dumps(asdict(request))


def request_from_json(raw: str) -> v.CheckoutRequest:
    data = json.loads(raw)
    terms = data["subscription"]
    return v.CheckoutRequest(
        checkout_id=data["checkout_id"], shop_id=data["shop_id"], cart_type=v.CartType(data["cart_type"]),
        buyer=v.Buyer(**data["buyer"]), shipping=v.Shipping(**data["shipping"]),
        lines=tuple(v.Line(**x) for x in data["lines"]), fees=tuple(v.Fee(**x) for x in data["fees"]),
        payment=v.PaymentChoice(**data["payment"]),
        subscription=v.SubscriptionTerms(**terms) if terms else None, return_url=data.get("return_url"),
    )  # fmt: skip


def failed_operation_to_json(failed: OperationFailed | None) -> str | None:
    return dumps(asdict(failed)) if failed is not None else None


def failed_operation_from_json(raw: str | None) -> OperationFailed | None:
    if raw is None:
        return None
    data = json.loads(raw)
    return OperationFailed(**{**data, "codes": tuple(data["codes"]), "descriptions": tuple(data["descriptions"])})


def authentication_to_json(value: OrderAuthentication | None) -> str | None:
    """The order's 3-D Secure wait; the form fields stay sealed (only the storefront sees them in clear)."""
    if value is None:
        return None
    return dumps({**asdict(value), "deadline": value.deadline.isoformat(),
                  "accepted_results": list(value.accepted_results)})


def authentication_from_json(raw: str | None) -> OrderAuthentication | None:
    if raw is None:
        return None
    data = json.loads(raw)
    return OrderAuthentication(**{**data, "deadline": datetime.fromisoformat(data["deadline"]),
                                  "accepted_results": tuple(data["accepted_results"])})
