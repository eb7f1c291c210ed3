"""Start the checkout service for a test and drive it: HTTP (ASGI), Kafka in and out, database reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from contracts.envelope import Envelope
from contracts.events import Event, PaymentAuthorized, PaymentDeclined, PaymentOutcomeUnknown, RenewalOrderRequested
from contracts.topics import ORDERS_EVENTS
from delivery.settings import KafkaSettings
from tests.kafka_reading import read_topic
from tests.waiting import eventually

ADMIN_TOKEN = "admin-test-token-0123456789"
CREDENTIALS = {"merchant_id": "10000001", "merchant_pass": "escottpass01-SECR",
               "token_auth_code": "DEMOTOKEN0001-SECRET", "tenant_id": "0001"}
CARD_SETTINGS = {"display_name": "クレジットカード決済", "sales_mode": "auth", "min_amount": 1000,
                 "show_installments": False, "card_link_mode": "always", "subscriptions_enabled": True,
                 "note": {"text": "VISA/Master/JCB がご利用いただけます", "on_payment_page": True,
                          "in_thanks_mail": True},
                 "logo_url": "https://cdn.example.jp/cards.png", "logo_alt": "利用可能カード",
                 "three_d_secure": {"enabled": False}}
"""The tests' card method: 3-D Secure off, so a checkout completes without a browser (its tests turn it on)."""
CARRIERS = {"carriers": [{"carrier_id": "yamato", "name": "ヤマト運輸", "accepts_card": True},
                         {"carrier_id": "cod", "name": "代引き便", "accepts_card": False}]}


@dataclass
class ShopAccess:
    shop_id: str
    storefront_key: str
    operator_key: str

    @property
    def storefront(self) -> dict[str, str]:
        return {"X-Storefront-Key": self.storefront_key}

    @property
    def operator(self) -> dict[str, str]:
        return {"X-Operator-Key": self.operator_key}


@dataclass
class Checkout:
    http: httpx.AsyncClient
    kafka: KafkaSettings
    database_url: str

    async def create_shop(self, shop_id: str, **extra: Any) -> ShopAccess:
        body = {"shop_id": shop_id, "shop_name": f"{shop_id} 本店",
                "mail": {"sender_address": f"info@{shop_id}.example.jp",
                         "shop_copy_address": f"orders@{shop_id}.example.jp"}, **extra}
        response = await self.http.post("/admin/v1/shops", json=body, headers={"X-Admin-Token": ADMIN_TOKEN})
        assert response.status_code in (200, 201), response.text
        data = response.json()
        return ShopAccess(shop_id, data["storefront_key"], data["operator_key"])

    async def configured_shop(self, shop_id: str, **card: Any) -> ShopAccess:
        """A shop whose card method is 設定済み: added, configured, credentials set, two carriers."""
        shop = await self.create_shop(shop_id)
        base = f"/v1/shops/{shop_id}"
        for method, path, body in (("POST", "/payment-methods", {"method": "escott_card"}),
                                   ("PUT", "/payment-methods/escott_card", {**CARD_SETTINGS, **card}),
                                   ("PUT", "/carriers", CARRIERS), ("PUT", "/gateway-credentials", CREDENTIALS)):
            response = await self.http.request(method, base + path, json=body, headers=shop.operator)
            assert response.status_code in (200, 204), (path, response.text)
        return shop

    async def submit(self, shop: ShopAccess, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post("/v1/checkouts", json=body, headers=shop.storefront)

    async def outcome(self, shop: ShopAccess, checkout_id: str, *, wait: float = 0) -> httpx.Response:
        return await self.http.get(f"/v1/checkouts/{checkout_id}", params={"wait": wait}, headers=shop.storefront)

    async def placed(self, shop: ShopAccess, body: dict[str, Any]) -> dict[str, Any]:
        """Submit and wait until an order was made of it; returns the outcome view."""
        response = await self.submit(shop, body)
        assert response.status_code == 202, response.text

        async def order_made() -> dict[str, Any] | None:
            data = (await self.outcome(shop, body["checkout_id"])).json()
            return data if data["status"] != "accepted" else None

        return await eventually(order_made, timeout=15, message=f"order for {body['checkout_id']}")

    async def publish(self, event: Event, *, event_id: uuid.UUID | None = None, raw: bytes | None = None) -> Envelope:
        """Put an event (or raw bytes with its key) on its topic, as a storefront or the payment service would."""
        envelope = Envelope.wrap(event, producer="test", correlation_id="test", event_id=event_id)
        producer = AIOKafkaProducer(bootstrap_servers=self.kafka.servers, enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(self.kafka.topic(event.TOPIC), raw or envelope.to_bytes(),
                                         key=event.kafka_key().encode(), headers=envelope.headers())
        finally:
            await producer.stop()
        return envelope

    async def order_events(self, at_least: int) -> list[Envelope]:
        records = await read_topic(self.kafka, self.kafka.topic(ORDERS_EVENTS), at_least=at_least)
        return [Envelope.from_bytes(r.value) for r in records]

    async def records(self, topic: str, at_least: int, settle: float = 0.5) -> list[ConsumerRecord]:
        return await read_topic(self.kafka, self.kafka.topic(topic), at_least=at_least, settle=settle)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()


def checkout_body(checkout_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid `CheckoutRequested` v1 body for the configured test shop (total ¥3,200, token, lump sum)."""
    body: dict[str, Any] = {
        "checkout_id": checkout_id or f"chk-{uuid.uuid4().hex[:12]}", "cart_type": "three_step",
        "buyer": {"name": "山田 太郎", "name_kana": "ヤマダ タロウ", "email": "taro@example.jp", "member_id": "m-1"},
        "shipping": {"carrier_id": "yamato", "fee": 500, "recipient_name": "山田 太郎", "postal_code": "100-0001",
                     "prefecture": "東京都", "city": "千代田区", "address_line1": "千代田1-1"},
        "lines": [{"sku": "TEA-1", "name": "煎茶 100g", "unit_price": 1200, "quantity": 2}],
        "fees": [{"name": "ギフト包装", "amount": 300}],
        "payment": {"method": "escott_card", "token": f"tok{uuid.uuid4().hex}", "use_registered_card": False,
                    "keep_card": True, "pay_type": "01"},
        "subscription": None,
    }
    for path, value in changes.items():
        target = body
        *parents, last = path.split("__")
        for name in parents:
            target = target[name]
        target[last] = value
    return body


def renewal_requested(subscription_id: str = "sub-1", cycle_no: int = 2, **changes: Any) -> RenewalOrderRequested:
    """The subscription service's command for one due cycle of the test shop `tea` (member m-1, ¥3,200)."""
    body = checkout_body()
    data: dict[str, Any] = {
        "subscription_id": subscription_id, "cycle_no": cycle_no, "shop_id": "tea", "scheduled_for": "2025-06-05",
        "first_order_id": "ord_first", "buyer": body["buyer"], "shipping": body["shipping"], "lines": body["lines"],
        "fees": body["fees"], "terms": {"every": 1, "unit": "month"}, **changes,
    }  # fmt: skip
    return RenewalOrderRequested.model_validate(data)


def authorized(order: dict[str, Any], **changes: Any) -> PaymentAuthorized:
    """What the payment service emits for an approved 1Auth of a placed order (an outcome view)."""
    data = {"order_id": order["order_id"], "shop_id": order.get("shop_id", "tea"),
            "payment_number": order["payment_number"], "amount": order["amount"], "pay_type": order["pay_type"],
            "captured": False, "card_source": "token", "transaction_id": f"T{order['payment_number'][-8:]}",
            "approval_number": "0012345", **changes}
    return PaymentAuthorized(**data)


def declined(order: dict[str, Any], code: str = "G12", **changes: Any) -> PaymentDeclined:
    return PaymentDeclined(**{
        "order_id": order["order_id"], "shop_id": order.get("shop_id", "tea"),
        "payment_number": order["payment_number"], "amount": order["amount"], "operation": "1Auth", "codes": [code],
        "descriptions": ["カード使用不可"], "buyer_message": CARD_COMPANY_MESSAGE, **changes})


def outcome_unknown(order: dict[str, Any]) -> PaymentOutcomeUnknown:
    return PaymentOutcomeUnknown(order_id=order["order_id"], shop_id=order.get("shop_id", "tea"),
                                 payment_number=order["payment_number"], amount=order["amount"],
                                 attempt_id="att-1", operation="1Auth", reason="connection_reset")


CARD_COMPANY_MESSAGE = "クレジットカード会社にお問い合わせください"
