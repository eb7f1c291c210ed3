"""Bad input ends in a `failed` mail-log row with a reason or in the DLQ, never in a stuck consumer."""

from __future__ import annotations

import asyncpg
import pytest

from contracts.events import MailFailed
from contracts.topics import ORDERS_EVENTS, dlq
from tests.integration.notification.support import (
    SHOP_COPY,
    log_rows,
    mail_events,
    mails_of,
    order,
    publish,
    publish_raw,
    running,
    shop,
    start,
)
from tests.kafka_reading import read_topic
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_an_order_of_a_shop_whose_settings_never_arrive_fails_with_a_reason_and_others_go_on(
        database_url, isolated_kafka, sink):
    await publish(isolated_kafka, order("ord-lost", shop_id="ghost-shop"), shop())
    await publish(isolated_kafka, order("ord-ok"))
    async with running(start(database_url, isolated_kafka, sink, max_attempts=3)):
        lost = await eventually(lambda: _final(database_url, "ord-lost"), message="unknown shop's mails failed")
        await eventually(lambda: _final(database_url, "ord-ok"), message="the known shop's mails")
        events = await mail_events(isolated_kafka, at_least=4)
    assert [r["status"] for r in lost] == ["failed", "failed"]
    assert all("no settings of shop 'ghost-shop' received yet" in r["last_error"] for r in lost)
    failed = [e.event_as(MailFailed) for e in events if e.type == MailFailed.TYPE]
    assert {(f.order_id, f.kind) for f in failed} == {("ord-lost", "thanks"), ("ord-lost", "shop_copy")}
    assert len(mails_of(sink, "ord-ok")) == 2 and not mails_of(sink, "ord-lost")


async def test_mails_waiting_for_a_shops_settings_go_out_as_soon_as_the_settings_arrive(
        database_url, isolated_kafka, sink):
    await publish(isolated_kafka, order("ord-early", shop_id="late-shop"))
    app = start(database_url, isolated_kafka, sink, backoff_initial_s=60.0, backoff_max_s=60.0)
    async with running(app):
        await eventually(lambda: _attempted(database_url), message="first attempt waits for the shop")
        await publish(isolated_kafka, shop("late-shop"))
        # a bound far below the 60 s backoff: only the settings' arrival can send them this soon
        rows = await eventually(lambda: _final(database_url, "ord-early"), timeout=40, message="mails sent")
    assert [r["status"] for r in rows] == ["sent", "sent"]
    assert len(mails_of(sink, "ord-early")) == 2


async def test_an_invalid_buyer_address_fails_the_thanks_mail_at_once_and_the_shop_copy_still_goes(
        database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(), order("ord-bad", email="山田@例え.jp"))
    await publish(isolated_kafka, order("ord-nx", email="a@shop.invalid"))
    async with running(start(database_url, isolated_kafka, sink)):
        bad = await eventually(lambda: _final(database_url, "ord-bad"), message="ord-bad final")
        nx = await eventually(lambda: _final(database_url, "ord-nx"), message="ord-nx final")
    by_kind = {r["kind"]: r for r in bad}
    assert by_kind["thanks"]["status"] == "failed" and by_kind["thanks"]["permanent_failure"]
    assert by_kind["thanks"]["last_error"].startswith("non-ASCII address not supported")
    assert by_kind["shop_copy"]["status"] == "sent"
    refused = {r["kind"]: r for r in nx}["thanks"]
    assert refused["status"] == "failed" and "550 5.1.1" in refused["last_error"] and refused["permanent_failure"]
    assert [m["To"] for m in mails_of(sink, "ord-bad")] == [SHOP_COPY]


async def test_an_undecodable_order_event_is_dead_lettered_and_the_next_order_is_mailed(
        database_url, isolated_kafka, sink):
    await publish_raw(isolated_kafka, ORDERS_EVENTS, b'{"not": "an envelope"}', key=b"ord-garbage")
    await publish(isolated_kafka, shop(), order("ord-after"))
    async with running(start(database_url, isolated_kafka, sink)):
        [dead] = await read_topic(isolated_kafka, isolated_kafka.topic(dlq(ORDERS_EVENTS)), at_least=1)
        await eventually(lambda: _final(database_url, "ord-after"), message="next order mailed")
    assert dict(dead.headers)["dlq-reason"].decode().startswith("invalid message: schema violation")
    assert len(mails_of(sink, "ord-after")) == 2


async def test_a_mail_that_cannot_be_prepared_fails_with_a_reason_and_does_not_block_the_others(
        database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(), order("ord-a"))
    async with running(start(database_url, isolated_kafka, sink)):
        await eventually(lambda: _final(database_url, "ord-a"), message="first order mailed")
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(POISON)  # an order snapshot that no longer validates, and its pending mail
        finally:
            await conn.close()
        await publish(isolated_kafka, order("ord-b"))
        await eventually(lambda: _final(database_url, "ord-b"), message="next order mailed")
        [poisoned] = await eventually(lambda: _failed(database_url, "ord-poison"), message="poisoned row failed")
    assert poisoned["last_error"].startswith("cannot prepare the mail: ValidationError")


POISON = """
INSERT INTO orders (order_id, shop_id, event_id, correlation_id, snapshot)
VALUES ('ord-poison', 'demo-shop', gen_random_uuid(), 'c', '{"order_id": "ord-poison"}');
INSERT INTO mails (mail_id, order_id, shop_id, kind, status, message_id, next_attempt_at, created_at)
VALUES (gen_random_uuid(), 'ord-poison', 'demo-shop', 'thanks', 'pending', '<poison@x>', now(), now());
"""


async def _failed(database_url, order_id: str):
    rows = await log_rows(database_url, order_id)
    return rows if rows and all(r["status"] == "failed" for r in rows) else None


async def _final(database_url, order_id: str):
    rows = await log_rows(database_url, order_id)
    return rows if len(rows) == 2 and all(r["status"] in ("sent", "failed") for r in rows) else None


async def _attempted(database_url) -> bool:
    rows = await log_rows(database_url)
    return len(rows) == 2 and all(r["attempts"] >= 1 and r["status"] == "pending" for r in rows)
