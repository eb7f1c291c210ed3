"""Domain values for checkout unit tests: a fully configured shop and a valid checkout, changed per test."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from services.checkout.domain.order import RenewalCycle
from services.checkout.domain.renewal import RenewalRequest
from services.checkout.domain.shop import CardMethod, Carrier, MailSettings, Shop
from services.checkout.domain.values import (
    Buyer,
    CardLinkMode,
    CartType,
    CheckoutRequest,
    Fee,
    Line,
    PaymentChoice,
    SalesMode,
    Shipping,
    SubscriptionTerms,
)

TODAY = date(2025, 6, 1)
NOW = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 JST


def card(**changes: object) -> CardMethod:
    base = CardMethod(display_name="クレジットカード決済", sales_mode=SalesMode.AUTH, min_amount=1000,
                      max_amount=500_000, show_installments=False, card_link_mode=CardLinkMode.ALWAYS,
                      subscriptions_enabled=True)
    return replace(base, **changes)  # type: ignore[arg-type]


def shop(**changes: object) -> Shop:
    base = Shop(
        shop_id="tea-shop", shop_name="お茶の店", mail=MailSettings("shop@example.jp", "orders@example.jp"),
        carriers=(Carrier("yamato", "ヤマト運輸", accepts_card=True), Carrier("cod", "代引き便", accepts_card=False)),
        card=card(), credentials_set=True, version=3,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def shipping(**changes: object) -> Shipping:
    base = Shipping(carrier_id="yamato", fee=500, recipient_name="山田 太郎", postal_code="100-0001",
                    prefecture="東京都", city="千代田区", address_line1="千代田1-1")
    return replace(base, **changes)  # type: ignore[arg-type]


def request(**changes: object) -> CheckoutRequest:
    base = CheckoutRequest(
        checkout_id="chk-1", shop_id="tea-shop", cart_type=CartType.THREE_STEP,
        buyer=Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email="taro@example.jp", member_id="m-1"),
        shipping=shipping(),
        lines=(Line(sku="TEA-1", name="煎茶", unit_price=1200, quantity=2),), fees=(Fee("ギフト包装", 300),),
        payment=PaymentChoice(has_token=True, keep_card=True), subscription=None,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def subscription_request(**changes: object) -> CheckoutRequest:
    return request(cart_type=CartType.SUBSCRIPTION, subscription=SubscriptionTerms(every=1, unit="month"), **changes)


def renewal(cycle_no: int = 2, **changes: object) -> RenewalRequest:
    """Cycle `cycle_no` of subscription sub-1 (member m-1), as the subscription service replays it: ¥3,200."""
    base = RenewalRequest(
        cycle=RenewalCycle(subscription_id="sub-1", cycle_no=cycle_no, scheduled_for=date(2025, 6, 5),
                           first_order_id="ord_first"),
        shop_id="tea-shop", buyer=Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email="taro@example.jp",
                                        member_id="m-1"),
        shipping=shipping(), lines=(Line(sku="TEA-1", name="煎茶", unit_price=1200, quantity=2),),
        fees=(Fee("ギフト包装", 300),), terms=SubscriptionTerms(every=1, unit="month"),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]
