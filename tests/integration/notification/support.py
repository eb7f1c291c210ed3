"""Helpers of the notification tests: events, publishing, a running service, the sink's mails, the mail log."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from fastapi import FastAPI
from pydantic import SecretStr

from contracts.envelope import Envelope
from contracts.events import (
    CardReplaced,
    CardUnlinked,
    Event,
    OrderCompleted,
    RenewalPaymentFailed,
    ShopSettingsChanged,
)
from contracts.events.common import Buyer
from contracts.events.shops import CardNote, RenewalSettings
from contracts.topics import NOTIFICATIONS_EVENTS
from delivery.service import ServiceRuntime
from delivery.settings import ConsumerSettings, KafkaSettings
from deploy.local.smtp_sink import RunningSink
from services.notification.app import create_app, notification_runtime
from services.notification.entrypoints import subscribers
from services.notification.entrypoints.dispatcher import MailDispatcher
from services.notification.ports import MailTransport
from services.notification.settings import DispatchSettings, NotificationSettings, SmtpSettings
from tests.kafka_reading import read_topic
from tests.unit.contracts import samples
from tests.waiting import eventually

OPERATOR = "test-operator-key-of-the-demo-shop"
OTHER_SHOPS_KEY = "test-operator-key-of-another-shop"
INTERNAL = "test-notification-internal-token"
SHOP_COPY = "orders@example.jp"
NOTE = "VISA/Master 利用可"


def shop(shop_id: str = "demo-shop", *, note_in_mail: bool = True, notify_buyer: bool = True,
         **mail: str) -> ShopSettingsChanged:
    """The demo shop's settings; `notify_buyer` is its `renewal.notify_buyer_on_failure`."""
    base = samples.shop_settings_changed()
    assert base.card is not None
    card = base.card.model_copy(update={
        "note": CardNote(text=NOTE, on_payment_page=True, in_thanks_mail=note_in_mail),
        "renewal": RenewalSettings(notify_buyer_on_failure=notify_buyer)})
    mail_settings = base.mail.model_copy(update=mail)
    return base.model_copy(update={"shop_id": shop_id, "card": card, "mail": mail_settings})


def order(order_id: str = "ord-0001", *, shop_id: str = "demo-shop", email: str = "taro@example.jp",
          pay_type: str = "03") -> OrderCompleted:
    buyer = Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email=email)
    return samples.order_completed().model_copy(
        update={"order_id": order_id, "shop_id": shop_id, "buyer": buyer, "pay_type": pay_type})


def member_order(order_id: str = "ord-m1", *, member_id: str = "m-1001",
                 email: str = "taro@example.jp") -> OrderCompleted:
    """A completed order of a member buyer: the service learns the member's name and address from it."""
    buyer = Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email=email, member_id=member_id)
    return order(order_id).model_copy(update={"buyer": buyer})


def card_replaced(*, source: str = "my_page", member_id: str = "m-1001") -> CardReplaced:
    """The member replaced the stored card (new expiry 2030-12) on their card page, or an operator did."""
    return samples.card_replaced().model_copy(update={"source": source, "member_id": member_id})


def card_unlinked(*, source: str = "operator", member_id: str = "m-1001") -> CardUnlinked:
    return samples.card_unlinked().model_copy(update={"source": source, "member_id": member_id, "order_id": None,
                                                      "reason": "member_request"})


def failed_renewal(order_id: str = "ord-r2", *, cycle_no: int = 2) -> RenewalPaymentFailed:
    """A renewal order of `sub-0001` whose authorization was declined (R22)."""
    return samples.renewal_payment_failed().model_copy(update={"order_id": order_id, "checkout_id": None,
                                                               "cycle_no": cycle_no})


def skipped_renewal(order_id: str = "ord-r3", *, reason: str = "ゲートウェイ契約期間外") -> OrderCompleted:
    """A renewal order of `sub-0001` completed without authorization (R21)."""
    return order(order_id).model_copy(update={"origin": "renewal", "checkout_id": None, "cycle_no": 3,
                                              "payment_status": "skipped", "payment_skip_reason": reason})


def settings(database_url: str, kafka: KafkaSettings, sink: RunningSink, **dispatch: Any) -> NotificationSettings:
    """Fast retries and a short lease so recovery paths finish within a test's seconds. The SMTP timeouts are not
    short: a loaded machine stretched conversations with the sink past 1.5 s, and a timed-out send is retried (a
    second attempt, or a second copy when the server had accepted it), which the tests count as a defect; at
    load 25 on 2 cores the tests' event loop stalled for up to 20 s. The lease must exceed the send timeout."""
    fast = {"poll_interval_s": 0.05, "backoff_initial_s": 0.1, "backoff_max_s": 0.4, "max_attempts": 4,
            "sending_lease_s": 25.0, **dispatch}
    return NotificationSettings(
        database_url=database_url, kafka=kafka, internal_token=SecretStr(INTERNAL),
        smtp=SmtpSettings(host=sink.host, port=sink.smtp_port, timeout_s=10.0, send_timeout_s=20.0),
        dispatch=DispatchSettings(**fast),
        consumer=ConsumerSettings(backoff_initial_s=0.05, backoff_max_s=0.2, max_attempts=3, commit_interval_s=0.05),
    )


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The service started (lifespan), the operator keys of `demo-shop` and `other-shop` registered as checkout
    does, and an HTTP client on its app carrying the demo shop's operator key."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notification",
                                     headers={"X-Operator-Key": OPERATOR}) as client:
            for shop_id, key in (("demo-shop", OPERATOR), ("other-shop", OTHER_SHOPS_KEY)):
                registered = await client.put(f"/internal/v1/shops/{shop_id}/operator-key",
                                              json={"sha256": hashlib.sha256(key.encode()).hexdigest()},
                                              headers={"X-Internal-Token": INTERNAL})
                assert registered.status_code == 204, registered.text
            yield client


def start(database_url: str, kafka: KafkaSettings, sink: RunningSink, **kwargs: Any) -> FastAPI:
    transport = kwargs.pop("transport", None)
    return create_app(settings(database_url, kafka, sink, **kwargs), transport=transport)


@dataclass(frozen=True)
class Crashable:
    """A service app and the parts a test needs to stop it as a crash would (built here, passed to create_app)."""

    app: FastAPI
    runtime: ServiceRuntime
    dispatcher: MailDispatcher


def crashable(config: NotificationSettings, *, transport: MailTransport | None = None) -> Crashable:
    runtime, dispatcher = notification_runtime(config), MailDispatcher(config.dispatch)
    app = create_app(config, transport=transport, runtime=runtime, dispatcher=dispatcher)
    return Crashable(app, runtime, dispatcher)


async def crash(service: Crashable) -> None:
    """Stop as a killed process would: consumers and dispatcher drop their work, nothing more is committed."""
    for consumer in service.runtime.consumers:
        await consumer.abort()
    await service.dispatcher.abort()


async def publish(kafka: KafkaSettings, *events: Event, envelope: Envelope | None = None, times: int = 1) -> None:
    """Each event in its own envelope (or `envelope` itself) on its contract topic, keyed by its aggregate id."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.servers, enable_idempotence=True)
    await producer.start()
    try:
        wrapped = [envelope] if envelope is not None else [
            Envelope.wrap(e, producer="checkout", correlation_id=f"chk-{e.kafka_key()}") for e in events]
        for env in wrapped:
            event = env.event()
            for _ in range(times):
                await producer.send_and_wait(kafka.topic(event.TOPIC), env.to_bytes(),
                                             key=event.kafka_key().encode(), headers=env.headers())
    finally:
        await producer.stop()


async def publish_raw(kafka: KafkaSettings, topic: str, value: bytes, key: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.servers)
    await producer.start()
    try:
        await producer.send_and_wait(kafka.topic(topic), value, key=key)
    finally:
        await producer.stop()


async def consumed_everything(kafka: KafkaSettings, group: str = "notification") -> bool:
    """True once the group's committed offsets reach the end of every topic the service reads."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.servers, group_id=kafka.group(group),
                                enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(kafka.topic(t), p) for t in subscribers.TOPICS
               for p in sorted(consumer.partitions_for_topic(kafka.topic(t)) or ())]
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            if ends[tp] and (await consumer.committed(tp) or 0) < ends[tp]:
                return False
        return bool(tps)
    finally:
        await consumer.stop()


def mails_to(sink: RunningSink, address: str) -> list[Any]:
    return [m for _, m in sink.messages() if address in str(m["X-Sink-Rcpt-To"])]


def mails_of_kind(sink: RunningSink, kind: str) -> list[Any]:
    return [m for _, m in sink.messages() if m["X-Mail-Kind"] == kind]


def mails_of(sink: RunningSink, order_id: str) -> list[Any]:
    return [m for _, m in sink.messages() if m["X-Order-Id"] == order_id]


async def shop_known(database_url: str, shop_id: str = "demo-shop") -> bool:
    """The service's projection has the shop (its settings were consumed)."""
    conn = await asyncpg.connect(database_url)
    try:
        return bool(await conn.fetchval("SELECT count(*) FROM shops WHERE shop_id = $1", shop_id))
    finally:
        await conn.close()


async def publish_after_shop(database_url: str, kafka: KafkaSettings, *events: Event) -> None:
    """Publish `events` once the running service has consumed the shop's settings, so the mails' attempts
    count SMTP conversations only (an order ahead of its shop's settings waits and retries: tested apart)."""
    await eventually(lambda: shop_known(database_url), message="shop settings consumed")
    await publish(kafka, *events)


async def log_rows(database_url: str, order_id: str | None = None) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT * FROM mails WHERE $1::text IS NULL OR order_id = $1 ORDER BY kind, "
                                "created_at", order_id)
    finally:
        await conn.close()
    return [dict(r) for r in rows]


async def mail_events(kafka: KafkaSettings, at_least: int) -> list[Envelope]:
    records = await read_topic(kafka, kafka.topic(NOTIFICATIONS_EVENTS), at_least=at_least, settle=0.3)
    return [Envelope.from_bytes(r.value) for r in records]


def body(message: Any) -> str:
    return message.get_body(("plain",)).get_content()
