"""A running payment service against real PostgreSQL, Kafka and the in-process emulator, and ways to drive it.

`PaymentHarness` publishes `OrderPlaced` the way checkout does, watches `payments.events` with a background
reader (no sleeps: tests wait with `eventually`), calls the HTTP API in-process, mints tokens and reads the
emulator's ledger and members through its admin API, and captures every log line the service writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from contracts.envelope import Envelope
from contracts.events import Event, OrderPlaced
from contracts.events.common import Buyer, PaymentChoice
from contracts.topics import ORDERS_EVENTS, PAYMENTS_EVENTS
from contracts.types import CartType
from delivery.cancellation import cancel_and_wait
from delivery.sealing import DEV_ONLY_SEAL_KEY, TokenSealer
from delivery.settings import KafkaSettings
from emulator.testing import RunningEmulator
from tests.waiting import eventually

DEMO = {"merchant_id": "10000001", "merchant_pass": "escottpass01", "token_auth_code": "DEMOTOKEN0001",
        "tenant_id": "0001"}
INTERNAL_TOKEN = "test-internal-token-0123456789"
OPERATOR_KEY = "test-operator-key-for-shop-1"
STOREFRONT_KEY = "test-storefront-key-for-shop-1"
SHOP = "shop-1"
_numbers = itertools.count(1)


def order_placed(*, member_id: str | None = None, token: str | None = None, amount: int = 5500,
                 sales_mode: str = "auth", link_mode: str = "always", registered: bool = False,
                 keep_card: bool | None = None, order_id: str | None = None, buyer: str = "山田 太郎",
                 shop_id: str = SHOP, sealed: bool = True, cart_type: CartType = "three_step") -> OrderPlaced:
    """An OrderPlaced as checkout emits it (unique order id and 20-digit payment number by default): the token
    sealed with the (dev) seal key the harness's payment service also uses, or in clear with `sealed=False`."""
    number = next(_numbers)
    seal = sealed and token is not None
    return OrderPlaced(
        order_id=order_id or f"ord-{uuid.uuid4().hex[:10]}", shop_id=shop_id, checkout_id=f"chk-{number}",
        origin="checkout", cart_type=cart_type, payment_number=f"{20250000000000000000 + number:020d}",
        amount=amount, order_date=date(2025, 6, 1),
        buyer=Buyer(name=buyer, name_kana="ヤマダ タロウ", email="taro@example.jp", member_id=member_id),
        payment=PaymentChoice.model_validate({"token": None if seal else token, "use_registered_card": registered,
                                              "keep_card": keep_card, "pay_type": "01"}),
        sealed_token=TokenSealer(DEV_ONLY_SEAL_KEY).seal(token) if seal and token else None,
        sales_mode=sales_mode, card_link_mode=link_mode)


def renewal_placed(*, member_id: str, cycle_no: int, amount: int = 3980, sales_mode: str = "auth",
                   subscription_id: str = "sub-1") -> OrderPlaced:
    """A renewal order as checkout places it (design §6.6): the registered card, no token, one payment."""
    number = next(_numbers)
    return OrderPlaced(
        order_id=f"ord-r{uuid.uuid4().hex[:10]}", shop_id=SHOP, origin="renewal", subscription_id=subscription_id,
        cycle_no=cycle_no, cart_type="subscription", payment_number=f"{20250000000000000000 + number:020d}",
        amount=amount, order_date=date(2025, 6, 1),
        buyer=Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email="taro@example.jp", member_id=member_id),
        payment=PaymentChoice(use_registered_card=True, pay_type="01"), sales_mode=sales_mode,
        card_link_mode="always")


class MovableClock:
    """The service's clock in tests that move time (renewal retries): real time plus an offset tests advance."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


class LogCapture(logging.Handler):
    """Every record the service logs, rendered by the service's own (redacting JSON) formatter."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass(kw_only=True)
class PaymentHarness:
    kafka: KafkaSettings
    emulator: RunningEmulator
    api: httpx.AsyncClient
    admin: httpx.AsyncClient
    producer: AIOKafkaProducer
    database_url: str
    events: list[Envelope] = field(default_factory=list)
    raw_events: list[bytes] = field(default_factory=list)
    logs: LogCapture | None = None

    # -- driving ---------------------------------------------------------------------------------------
    async def publish(self, event: Event, *, event_id: uuid.UUID | None = None) -> Envelope:
        envelope = Envelope.wrap(event, producer="checkout", correlation_id=getattr(event, "checkout_id", None)
                                 or "corr")
        if event_id is not None:
            envelope = envelope.model_copy(update={"event_id": event_id})
        await self.producer.send_and_wait(self.kafka.topic(event.TOPIC), envelope.to_bytes(),
                                          key=event.kafka_key().encode(), headers=envelope.headers())
        return envelope

    async def token(self, pan: str = "4111111111111111", exp: str = "3012") -> str:
        response = await self.admin.post("/_emulator/tokens", data={
            "k_TokenNinsyoCode": "DEMOTOKEN0001", "CardNo": pan, "CardExp": exp, "SecCd": "123"})
        response.raise_for_status()
        return response.text.removeprefix("token=")

    async def put_credentials(self, shop_id: str = SHOP, **overrides: str) -> None:
        response = await self.api.put(f"/internal/v1/shops/{shop_id}/gateway-credentials",
                                      json={**DEMO, **overrides}, headers={"X-Internal-Token": INTERNAL_TOKEN})
        assert response.status_code == 204, response.text

    async def put_operator_key(self, shop_id: str = SHOP, key: str = OPERATOR_KEY) -> None:
        response = await self.api.put(f"/internal/v1/shops/{shop_id}/operator-key",
                                      json={"sha256": hashlib.sha256(key.encode()).hexdigest()},
                                      headers={"X-Internal-Token": INTERNAL_TOKEN})
        assert response.status_code == 204, response.text

    async def put_storefront_key(self, shop_id: str = SHOP, key: str = STOREFRONT_KEY) -> None:
        response = await self.api.put(f"/internal/v1/shops/{shop_id}/storefront-key",
                                      json={"sha256": hashlib.sha256(key.encode()).hexdigest()},
                                      headers={"X-Internal-Token": INTERNAL_TOKEN})
        assert response.status_code == 204, response.text

    async def faults(self, plan: dict[str, Any]) -> None:
        (await self.admin.put("/_emulator/faults", json=plan)).raise_for_status()

    async def decline_member(self, kaiin_id: str, *, code: str, times: int | None = None) -> None:
        """The emulator's switch: the member's charges decline with `code` (from now on, or the next `times`)."""
        body: dict[str, Any] = {"code": code} if times is None else {"code": code, "times": times}
        response = await self.admin.post(f"/_emulator/members/{DEMO['merchant_id']}/{kaiin_id}/decline", json=body)
        response.raise_for_status()

    # -- observing -------------------------------------------------------------------------------------
    def events_of(self, key: str) -> list[Envelope]:
        return [e for e in self.events if e.event().kafka_key() == key]

    async def outcome(self, order_id: str, timeout: float = 60.0) -> Envelope:
        """The order's payment outcome event (authorized, declined or unknown)."""
        outcomes = {"payment.authorized.v1", "payment.declined.v1", "payment.outcome_unknown.v1"}

        async def found() -> Envelope | None:
            return next((e for e in self.events_of(order_id) if e.type in outcomes), None)

        return await eventually(found, timeout=timeout, message=f"payment outcome of {order_id}")

    async def consumed(self, *envelopes: Envelope) -> None:
        """Wait until the service applied these inbound events (their ids are in its inbox)."""
        wanted = {e.event_id for e in envelopes}

        async def applied() -> bool:
            conn = await asyncpg.connect(self.database_url)
            try:
                rows = await conn.fetch("SELECT event_id FROM inbox WHERE consumer = 'payment'")
            finally:
                await conn.close()
            return wanted <= {r["event_id"] for r in rows}

        await eventually(applied, message="inbound events applied")

    async def ledger(self, **query: str) -> list[dict[str, Any]]:
        response = await self.admin.get("/_emulator/transactions", params=query)
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()
        return rows

    async def requests(self, operate_id: str) -> dict[str, int]:
        """The emulator's counters of one OperateId: every request, those answered OK, those declined."""
        response = await self.admin.get("/_emulator/stats")
        response.raise_for_status()
        counters: dict[str, int] = response.json()["operations"].get(operate_id, {})
        return {"requests": counters.get("requests", 0), "ok": counters.get("ok", 0),
                "errors": counters.get("errors", 0)}

    async def members(self) -> list[dict[str, Any]]:
        response = await self.admin.get("/_emulator/members", params={"MerchantId": DEMO["merchant_id"]})
        response.raise_for_status()
        data = response.json()
        return data["members"] if isinstance(data, dict) else data

    async def payment(self, order_id: str, shop_id: str = SHOP, key: str = OPERATOR_KEY) -> httpx.Response:
        return await self.api.get(f"/v1/shops/{shop_id}/payments/{order_id}", headers={"X-Operator-Key": key})

    async def stored_card(self, member_id: str, shop_id: str = SHOP) -> dict[str, Any]:
        response = await self.api.get(f"/internal/v1/shops/{shop_id}/members/{member_id}/card",
                                      headers={"X-Internal-Token": INTERNAL_TOKEN})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


async def read_events_forever(kafka: KafkaSettings, harness: PaymentHarness) -> None:
    """Append every payments.events record (from the beginning) to the harness, decoded."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.servers, enable_auto_commit=False)
    await consumer.start()
    try:
        topic = kafka.topic(PAYMENTS_EVENTS)
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while True:
            batch = await consumer.getmany(timeout_ms=100)
            for records in batch.values():
                for record in records:
                    harness.raw_events.append(record.value or b"")
                    harness.events.append(Envelope.from_bytes(record.value or b""))
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()


async def cancel(task: asyncio.Task[None]) -> None:
    """Stop the event reader; bounded, and again if aiokafka swallowed the first cancel (cpython#86296)."""
    assert await cancel_and_wait(task, timeout=10), "the payments.events reader did not stop"


__all__ = ["DEMO", "INTERNAL_TOKEN", "OPERATOR_KEY", "ORDERS_EVENTS", "SHOP", "STOREFRONT_KEY", "MovableClock",
           "PaymentHarness", "order_placed", "renewal_placed"]
