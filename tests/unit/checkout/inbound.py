"""Contract events as they reach checkout's handlers in unit tests: a storefront's `CheckoutRequested`, the
subscription service's `RenewalOrderRequested`, payment outcomes for a placed order, each wrapped as the consumer
hands it over (`Inbound`), plus a fakes-backed shop."""

from __future__ import annotations

import hashlib
from typing import Any

from contracts.envelope import Envelope
from contracts.events import (
    CheckoutRequested,
    Event,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentOutcomeUnknown,
    RenewalOrderRequested,
)
from contracts.events.payments import PaymentEvent
from delivery.envelopes import Inbound
from services.checkout import translate
from services.checkout.domain.order import Decision, Order
from services.checkout.handlers.checkouts import place_checkout
from services.checkout.handlers.payments import record_payment_outcome
from services.checkout.handlers.renewals import place_renewal
from services.checkout.ports import ShopKeys
from tests.fakes.checkout import CheckoutFakes
from tests.unit.checkout.builders import shop

TOKEN = "tok0123456789abcdef"
STOREFRONT_KEY = "storefront-key-0123456789"
OPERATOR_KEY = "operator-key-0123456789"
CARD_COMPANY_MESSAGE = "クレジットカード会社にお問い合わせください"


def inbound(event: Event, *, producer: str = "storefront") -> Inbound:
    """The event as the consumer decodes it: a fresh envelope (a new event id) around it."""
    return Inbound(Envelope.wrap(event, producer=producer, correlation_id="test"), event)


def checkout_requested(checkout_id: str = "chk-1", **changes: Any) -> CheckoutRequested:
    """A valid checkout of the configured `tea-shop` (builders.shop): ¥3,200 by yamato, token, lump sum."""
    body: dict[str, Any] = {
        "checkout_id": checkout_id, "shop_id": "tea-shop", "cart_type": "three_step",
        "buyer": {"name": "山田 太郎", "name_kana": "ヤマダ タロウ", "email": "taro@example.jp", "member_id": "m-1"},
        "shipping": shipping(),
        "lines": [{"sku": "TEA-1", "name": "煎茶 100g", "unit_price": 1200, "quantity": 2}],
        "fees": [{"name": "ギフト包装", "amount": 300}],
        "payment": {"method": "escott_card", "token": TOKEN, "use_registered_card": False, "keep_card": True,
                    "pay_type": "01"},
        **changes,
    }  # fmt: skip
    return CheckoutRequested.model_validate(body)


def renewal_requested(cycle_no: int = 2, **changes: Any) -> RenewalOrderRequested:
    """Cycle `cycle_no` of subscription sub-1 of the configured `tea-shop` for member m-1: ¥3,200 by yamato."""
    body: dict[str, Any] = {
        "subscription_id": "sub-1", "cycle_no": cycle_no, "shop_id": "tea-shop", "scheduled_for": "2025-06-05",
        "first_order_id": "ord_first",
        "buyer": {"name": "山田 太郎", "name_kana": "ヤマダ タロウ", "email": "taro@example.jp", "member_id": "m-1"},
        "shipping": shipping(),
        "lines": [{"sku": "TEA-1", "name": "煎茶 100g", "unit_price": 1200, "quantity": 2}],
        "fees": [{"name": "ギフト包装", "amount": 300}], "terms": {"every": 1, "unit": "month"},
        **changes,
    }  # fmt: skip
    return RenewalOrderRequested.model_validate(body)


def shipping(**changes: Any) -> dict[str, Any]:
    """The shipping part of `checkout_requested`: yamato (accepts cards), ¥500."""
    return {"carrier_id": "yamato", "fee": 500, "recipient_name": "山田 太郎", "postal_code": "100-0001",
            "prefecture": "東京都", "city": "千代田区", "address_line1": "千代田1-1", **changes}


def authorized(order: Order, **changes: Any) -> PaymentAuthorized:
    return PaymentAuthorized.model_validate({
        "order_id": order.order_id, "shop_id": order.shop_id, "payment_number": order.payment_number,
        "amount": order.amount, "pay_type": order.pay_type, "captured": False, "card_source": "token",
        "transaction_id": "T0001", "approval_number": "0012345", **changes})


def declined(order: Order, **changes: Any) -> PaymentDeclined:
    return PaymentDeclined.model_validate({
        "order_id": order.order_id, "shop_id": order.shop_id, "payment_number": order.payment_number,
        "amount": order.amount, "operation": "1Auth", "codes": ["G12"], "descriptions": ["カード使用不可"],
        "buyer_message": CARD_COMPANY_MESSAGE, **changes})


def outcome_unknown(order: Order) -> PaymentOutcomeUnknown:
    return PaymentOutcomeUnknown(order_id=order.order_id, shop_id=order.shop_id, payment_number=order.payment_number,
                                 amount=order.amount, attempt_id="att-1", operation="1Auth", reason="timeout")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def with_shop(fakes: CheckoutFakes, **changes: object) -> CheckoutFakes:
    """`fakes` holding the configured `tea-shop` (changed as given) with STOREFRONT_KEY and OPERATOR_KEY."""
    configured = shop(**changes)
    fakes.state.shops[configured.shop_id] = configured
    fakes.state.shop_keys[configured.shop_id] = ShopKeys(storefront_sha256=digest(STOREFRONT_KEY),
                                                         operator_sha256=digest(OPERATOR_KEY))
    return fakes


async def placed(fakes: CheckoutFakes, event: CheckoutRequested | None = None) -> Order:
    """The order `place_checkout` makes of `event` (default: the valid checkout chk-1), delivered once."""
    event = event or checkout_requested()
    order = await place_checkout(fakes.deps, translate.incoming_checkout(event), inbound=inbound(event))
    assert order is not None, "the checkout was placed before"
    return order


async def renewed(fakes: CheckoutFakes, event: RenewalOrderRequested | None = None) -> Order:
    """The order `place_renewal` generates for `event` (default: cycle 2 of sub-1), delivered once."""
    event = event or renewal_requested()
    order = await place_renewal(fakes.deps, translate.renewal_request(event),
                                inbound=inbound(event, producer="subscription"))
    assert order is not None, "the cycle was generated before"
    return order


async def record(fakes: CheckoutFakes, event: PaymentEvent, *, delivered: Inbound | None = None) -> Decision | None:
    """`record_payment_outcome` for a payment event, as the subscriber calls it (a fresh delivery by default)."""
    outcome = translate.payment_outcome(event)
    assert outcome is not None, f"{type(event).__name__} does not concern the order"
    return await record_payment_outcome(fakes.deps, order_id=event.order_id, shop_id=event.shop_id,
                                        payment_number=event.payment_number, outcome=outcome,
                                        inbound=delivered or inbound(event, producer="payment"))
