"""The demo shop's products and shipping choices (a real shop has its own catalogue; the payment services
never see it: they get lines with prices, as a checkout carries them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Product:
    sku: str
    name: str
    price: int
    blurb: str
    subscription: bool = False


@dataclass(frozen=True)
class Carrier:
    carrier_id: str
    name: str
    fee: int


PRODUCTS = {p.sku: p for p in (
    Product(sku="TEA-001", name="煎茶 100g", price=3300, blurb="静岡県産の一番茶。すっきりした甘みと香り。"),
    Product(sku="TEA-002", name="ほうじ茶 200g", price=1800, blurb="香ばしく、食後にもおすすめです。"),
    Product(sku="TEA-SUB", name="煎茶 定期便（毎月お届け）", price=3000, subscription=True,
            blurb="毎月1回、煎茶100gをお届けします（会員のみ。いつでも休止・解約できます）。"),
)}
CARRIERS = {c.carrier_id: c for c in (Carrier("yamato", "ヤマト運輸", 500),
                                      Carrier("cod", "代金引換（佐川急便）", 800))}
SUBSCRIPTION_TERMS = {"every": 1, "unit": "month"}
