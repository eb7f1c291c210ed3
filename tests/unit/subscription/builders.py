"""Domain values for the subscription tests: a first order, a subscription at a chosen point of its schedule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from services.subscription.domain.contents import Buyer, Contents, Fee, Line, Shipping
from services.subscription.domain.schedule import Terms, Unit
from services.subscription.domain.subscription import FirstOrder, Subscription, start

MONTHLY = Terms(1, Unit.MONTH)


def contents(member_id: str = "m-1001") -> Contents:
    return Contents(
        buyer=Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email="taro@example.jp", member_id=member_id),
        shipping=Shipping(carrier_id="yamato", fee=500, recipient_name="山田 太郎", postal_code="100-0001",
                          prefecture="東京都", city="千代田区", address_line1="千代田1-1"),
        lines=(Line(sku="TEA-001", name="煎茶 100g", unit_price=1200, quantity=2),),
        fees=(Fee("ギフト包装", 330),),
    )  # fmt: skip


def first_order(on: date = date(2025, 1, 31), terms: Terms = MONTHLY, **changes: Any) -> FirstOrder:
    base = FirstOrder(shop_id="demo-shop", order_id="ord-0001", order_date=on, member_id="m-1001",
                      contents=contents(), terms=terms)
    return replace(base, **changes)


def subscription(on: date = date(2025, 1, 31), terms: Terms = MONTHLY, **changes: Any) -> Subscription:
    return replace(start(first_order(on, terms)), **changes)
