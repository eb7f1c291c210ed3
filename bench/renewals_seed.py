"""Seeding for the end-to-end renewals benchmark (bench/renewals_e2e.py): the demo shop, then N members with a card
registered at the emulator and known to payment, each with a monthly subscription started today (JST).

- `checkout` (`--seed checkout`): N real first orders of the `subscription` cart through checkout's storefront API
  (`POST /v1/checkouts?wait=30`): payment registers each card (4MemAdd) and authorizes; the subscription service
  starts the subscriptions from the OrderCompleted. The real path, and the slow one (every service works).
- `direct` (`--seed direct`, default): 4MemAdd of each member at the emulator (the wire of emulator/README.md),
  the same member records written through payment's own repository (`MemberCardsSql`, KaiinPass encrypted with
  the key the payment process uses), then N first-order `OrderCompleted` published on `orders.events` as checkout
  would (as the subscription-only benchmark does). Renewals are then charged by member exactly as after a real
  first order: checkout's renewal order names the registered card, payment finds the member record.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from contracts.envelope import Envelope
from contracts.events.common import Buyer, SubscriptionTerms
from delivery.settings import KafkaSettings
from deploy.local import demo_shop as demo
from services.payment.adapters.crypto import Cipher
from services.payment.adapters.postgres.members import MemberCardsSql
from services.payment.domain.cards import LinkStatus
from services.payment.ports import MemberCard, MemberKey
from services.payment.settings import DEV_ONLY_ENCRYPTION_KEY
from tests.e2e.stack import Shop
from tests.unit.contracts import samples

JST = timezone(timedelta(hours=9))
CARD, MASKED = "4111111111111111", "4111********1111"
Started = Callable[[], int]


def member_id(n: int) -> str:
    return f"m-bench-{n:06}"


async def seed_shop(http: httpx.AsyncClient, checkout: str) -> None:
    """The demo shop as deploy.local.demo_shop seeds it, tolerating a notification service that is not running."""
    admin = {"X-Admin-Token": os.environ.get("CHECKOUT_ADMIN_TOKEN", "dev-admin-token")}
    shop = {"shop_id": demo.SHOP_ID, "shop_name": "デモショップ", "mail": demo.MAIL,
            "storefront_key": demo.STOREFRONT_KEY, "operator_key": demo.OPERATOR_KEY}
    base, operator = f"{checkout}/v1/shops/{demo.SHOP_ID}", {"X-Operator-Key": demo.OPERATOR_KEY}
    steps: list[tuple[str, str, Any, dict[str, str]]] = [
        ("POST", f"{checkout}/admin/v1/shops", shop, admin),
        ("POST", f"{base}/payment-methods", {"method": "escott_card"}, operator),
        ("PUT", f"{base}/gateway-credentials", demo.CREDENTIALS, operator),
        ("PUT", f"{base}/payment-methods/escott_card", demo.CARD, operator),
        ("PUT", f"{base}/carriers", demo.CARRIERS, operator)]
    for method, url, body, headers in steps:
        response = await http.request(method, url, json=body, headers=headers)
        if response.status_code >= 400:
            raise SystemExit(f"seeding the shop: {method} {url}: {response.status_code} {response.text[:500]}")


async def by_checkouts(shop: Shop, *, count: int, concurrency: int) -> None:
    """N real first orders of the subscription cart, one member each."""
    gate = asyncio.Semaphore(concurrency)
    statuses: dict[str, int] = defaultdict(int)

    async def first_order(n: int) -> None:
        async with gate:
            body = shop.body(await shop.token(CARD), member_id=member_id(n), cart_type="subscription",
                             subscription={"every": 1, "unit": "month"})
            statuses[(await shop.checkout(body, wait=30)).json().get("status", "error")] += 1

    await asyncio.gather(*(first_order(n) for n in range(count)))
    if statuses.get("completed") != count:
        raise SystemExit(f"not every first order completed: {dict(statuses)}")


async def directly(shop: Shop, *, env: dict[str, str], kafka: KafkaSettings, count: int) -> None:
    """4MemAdd at the emulator, the member records through payment's repository, N OrderCompleted on Kafka."""
    keys = [MemberKey(f"KB{n:011d}", SecretStr(f"pw{n:010d}")) for n in range(count)]
    await register_at_emulator(shop, keys)
    cipher = Cipher(SecretStr(env.get("PAYMENT_ENCRYPTION_KEY", DEV_ONLY_ENCRYPTION_KEY)))
    payment_db = env["PAYMENT_DATABASE_URL"]
    conn = await asyncpg.connect(payment_db)
    try:
        async with conn.transaction():
            members = MemberCardsSql(conn, cipher)
            for n, key in enumerate(keys):
                await members.register(MemberCard(kaiin_id=key.kaiin_id, shop_id=demo.SHOP_ID, member_id=member_id(n),
                                                  status=LinkStatus.ACTIVE, masked_card=MASKED), key)
    finally:
        await conn.close()
    await publish_first_orders(kafka, count)


async def register_at_emulator(shop: Shop, keys: list[MemberKey], concurrency: int = 32) -> None:
    url = f"{shop.stack.urls['emulator']}/online/crp/OCRP005.do"
    today = datetime.now(JST).strftime("%Y%m%d")
    gate = asyncio.Semaphore(concurrency)

    async def add(key: MemberKey) -> None:
        form = {"MerchantId": demo.CREDENTIALS["merchant_id"], "MerchantPass": demo.CREDENTIALS["merchant_pass"],
                "TenantId": demo.CREDENTIALS["tenant_id"], "TransactionDate": today, "OperateId": "4MemAdd",
                "KaiinId": key.kaiin_id, "KaiinPass": key.kaiin_pass.get_secret_value(), "CardNo": CARD,
                "CardExp": "3012"}
        async with gate:
            reply = (await shop.http.post(url, data=form)).text
        if "ResponseCd=OK" not in reply.split("&"):
            raise SystemExit(f"4MemAdd {key.kaiin_id} refused: {reply[:300]}")

    await asyncio.gather(*(add(key) for key in keys))


async def publish_first_orders(kafka: KafkaSettings, count: int) -> None:
    """N completed first orders of the `subscription` cart, dated today (JST), monthly, one member each."""
    today = datetime.now(JST).date()
    base = samples.order_completed()
    producer = AIOKafkaProducer(bootstrap_servers=kafka.servers, enable_idempotence=True, linger_ms=10)
    await producer.start()
    try:
        futures = []
        for n in range(count):
            event = base.model_copy(update={
                "order_id": f"bench-{n:06}", "checkout_id": f"chk-{n:06}", "order_date": today,
                "subscription_id": None, "cycle_no": None, "subscription": SubscriptionTerms(every=1, unit="month"),
                "buyer": Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email="t@example.jp",
                               member_id=member_id(n))})
            envelope = Envelope.wrap(event, producer="bench", correlation_id=event.order_id)
            futures.append(await producer.send(kafka.topic(event.TOPIC), envelope.to_bytes(),
                                               key=event.kafka_key().encode(), headers=envelope.headers()))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def seed(how: Awaitable[None], *, count: int, started: Started, timeout: float) -> None:
    """Run one seeding and wait (bounded) until the N subscriptions are started; prints how long it took."""
    t0 = time.perf_counter()
    await how
    t1 = time.perf_counter()
    while started() < count:
        if time.perf_counter() - t1 > timeout:
            raise SystemExit(f"{started()} of {count} subscriptions started within {timeout:.0f}s")
        await asyncio.sleep(0.2)
    t2 = time.perf_counter()
    print(f"seeded {count} members and subscriptions in {t2 - t0:.1f}s (members and first orders {t1 - t0:.1f}s, "
          f"subscriptions started {t2 - t1:.1f}s later)", flush=True)
