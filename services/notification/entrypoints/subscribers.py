"""Kafka subscribers (group `notification`): thin edges that validate, check the inbox and call one handler.

Consumed: `orders.events` (only `OrderCompleted` makes mail; placed, rejected and needs-review orders get
none, R23/I3) and `shops.settings` (the shop projection). Both apply through `delivery.units.apply_once`, so
the inbox claim and the effects commit together. Nothing here talks SMTP: recorded mails are sent by the
dispatcher, so a slow or refusing mail server never holds a consumer lane.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg
from aiokafka.structs import ConsumerRecord

from contracts.events import OrderCompleted, ShopSettingsChanged
from delivery.envelopes import Inbound
from delivery.units import apply_once
from services.notification import translate
from services.notification.adapters.postgres.mail_log import PostgresMailLog
from services.notification.handlers import NotificationHandlers
from services.notification.ports import OrderSource

log = logging.getLogger(__name__)
CONSUMER = "notification"


def dispatch(handlers: NotificationHandlers, pool: asyncpg.Pool,
             wake: Callable[[], None]) -> Callable[[Inbound, ConsumerRecord], Awaitable[None]]:
    """The consumer's `handle`: route by event type; other types on these topics are acknowledged unchanged."""

    async def handle(inbound: Inbound, record: ConsumerRecord) -> None:
        event = inbound.event
        if isinstance(event, OrderCompleted):
            await on_order_completed(handlers, pool, inbound, event, wake)
        elif isinstance(event, ShopSettingsChanged):
            await on_shop_settings_changed(handlers, pool, inbound, event, wake)

    return handle


async def on_order_completed(handlers: NotificationHandlers, pool: asyncpg.Pool, inbound: Inbound,
                             event: OrderCompleted, wake: Callable[[], None]) -> None:
    order = translate.order_from_contract(event)
    source = OrderSource(event_id=str(inbound.envelope.event_id), correlation_id=inbound.envelope.correlation_id)
    snapshot = event.model_dump(mode="json")

    async def apply(conn: asyncpg.Connection) -> None:
        created = await handlers.record_completed_order(PostgresMailLog(conn), order, source=source,
                                                        snapshot=snapshot)
        if created == 0:
            log.info("order %s: mails already recorded (redelivered or re-emitted event)", order.order_id)

    if await apply_once(pool, consumer=CONSUMER, inbound=inbound, apply=apply):
        wake()


async def on_shop_settings_changed(handlers: NotificationHandlers, pool: asyncpg.Pool, inbound: Inbound,
                                   event: ShopSettingsChanged, wake: Callable[[], None]) -> None:
    shop = translate.shop_from_contract(event)

    async def apply(conn: asyncpg.Connection) -> None:
        await handlers.update_shop(PostgresMailLog(conn), shop, as_of=inbound.envelope.occurred_at)

    if await apply_once(pool, consumer=CONSUMER, inbound=inbound, apply=apply):
        wake()
