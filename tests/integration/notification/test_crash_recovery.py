"""Crashes: killing the service mid-batch loses no mail; the one duplicate window (the server accepted, the log
was not yet marked `sent`) is real, counted, and the duplicate carries the same Message-ID."""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
import pytest

from contracts.events import MailSent
from services.notification.adapters.smtp import SmtpTransport
from services.notification.app import create_app
from services.notification.ports import OutgoingMail, SendResult
from tests.integration.notification.support import (
    crash,
    crashable,
    log_rows,
    mail_events,
    mails_of,
    order,
    publish,
    publish_after_shop,
    running,
    settings,
    shop,
)
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
ORDERS = 30


class SlowTransport:
    """The real SMTP client, a little slower, so a crash finds conversations in flight."""

    def __init__(self, real: SmtpTransport):
        self._real = real

    async def send(self, mail: OutgoingMail) -> SendResult:
        await asyncio.sleep(0.02)
        return await self._real.send(mail)


class DiesAfterAcceptance:
    """The real SMTP client; after the server accepts the first mail, never returns: the process 'dies' inside
    the duplicate window, between the 250 reply and the log commit."""

    def __init__(self, real: SmtpTransport):
        self._real = real
        self.died = asyncio.Event()

    async def send(self, mail: OutgoingMail) -> SendResult:
        result = await self._real.send(mail)
        if result.status == "accepted" and not self.died.is_set():
            self.died.set()
            await asyncio.Event().wait()
        return result


@pytest.mark.timeout(600)  # a restart waits out the 25 s lease, then sends 60 mails, on a busy machine
@pytest.mark.parametrize("moment", ["while consuming", "while sending"])
async def test_killing_the_service_in_the_middle_of_a_batch_and_restarting_loses_no_mail(
        moment, database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(), *(order(f"ord-{i:03}") for i in range(ORDERS)))
    config = settings(database_url, isolated_kafka, sink)
    # one small batch of orders at a time (batch mode applies the ready records of a partition together), so a
    # crash while consuming lands between batches: some orders recorded, the rest not. Only the crashed service
    # is throttled: the restarted one consumes as configured (throttled, it took minutes at load 25)
    throttled = config.model_copy(deep=True)
    throttled.consumer.concurrency = 1
    throttled.consumer.batch_max_records, throttled.consumer.batch_in_flight = 3, 1
    first = crashable(throttled, transport=SlowTransport(SmtpTransport(config.smtp)))
    async with running(first.app):
        if moment == "while consuming":
            async with first.runtime.pool.acquire() as conn:
                await eventually(lambda: conn.fetchval("SELECT count(*) > 0 FROM mails"), interval=0.002,
                                 message="first orders recorded")
        else:
            await eventually(lambda: _stored(sink, 10), message="a first part of the batch sent")
        await crash(first)
    recorded, sent = len(await log_rows(database_url)), len(sink.messages())
    async with running(create_app(config)):
        await eventually(lambda: _stored(sink, 2 * ORDERS), timeout=180, message="every mail once restarted")
        rows = await eventually(lambda: _all_sent(database_url), timeout=120, message="every row sent")
    ids = Counter(m["Message-ID"] for _, m in sink.messages())
    assert sent < 2 * ORDERS and (recorded < 2 * ORDERS or moment == "while sending"), (recorded, sent)
    assert len(ids) == 2 * ORDERS == len(rows)  # no missing mail
    assert {str(r["message_id"]) for r in rows} == set(ids)
    duplicates = sum(n - 1 for n in ids.values())
    assert duplicates <= sum(r["recoveries"] for r in rows)  # a duplicate only where a crash interrupted a send


@pytest.mark.timeout(600)
async def test_a_crash_between_the_servers_acceptance_and_the_log_commit_sends_one_duplicate_with_the_same_id(
        database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop())
    config = settings(database_url, isolated_kafka, sink)
    dying = DiesAfterAcceptance(SmtpTransport(config.smtp))
    first = crashable(config, transport=dying)
    async with running(first.app):
        await publish_after_shop(database_url, isolated_kafka, order("ord-1"))
        async with asyncio.timeout(60):
            await dying.died.wait()
        await eventually(lambda: _stored(sink, 2), message="both mails reached the server")
        # the other mail must be out of its own duplicate window first, or the crash catches two mails in it
        await eventually(lambda: _sent_rows(database_url, 1), message="the other mail logged as sent")
        await crash(first)
    async with running(create_app(config)):
        rows = await eventually(lambda: _all_sent(database_url), timeout=120, message="the interrupted mail recovered")
        events = await mail_events(isolated_kafka, at_least=2)
    ids = Counter(m["Message-ID"] for _, m in sink.messages())
    [(duplicated, copies)] = [(i, n) for i, n in ids.items() if n > 1]
    assert copies == 2 and len(sink.messages()) == 3
    [recovered] = [r for r in rows if r["recoveries"]]
    assert (recovered["message_id"], recovered["recoveries"], recovered["attempts"]) == (duplicated, 1, 2)
    unique = {e.event_id: e for e in events}.values()  # the crashed relay may publish an event again (at least once)
    assert Counter(e.event_as(MailSent).kind for e in unique) == {"thanks": 1, "shop_copy": 1}


async def _stored(sink, n: int) -> bool:
    return len(sink.messages()) >= n


async def _sent_rows(database_url, n: int) -> bool:
    return sum(r["status"] == "sent" for r in await log_rows(database_url)) >= n


async def _all_sent(database_url):
    rows = await log_rows(database_url)
    return rows if rows and all(r["status"] == "sent" for r in rows) else None


class SlowToReturn:
    """The real SMTP client; the mails of one order are accepted by the server, then their sender takes its time
    (a loaded machine) until the test releases it: past the mails' lease."""

    def __init__(self, real: SmtpTransport, *, order_id: str):
        self._real, self._order_id = real, order_id
        self.release = asyncio.Event()

    async def send(self, mail: OutgoingMail) -> SendResult:
        result = await self._real.send(mail)
        if mail.headers.get("X-Order-Id") == self._order_id:
            await self.release.wait()
        return result


@pytest.mark.timeout(600)
async def test_a_live_sender_slower_than_the_lease_is_not_overtaken_by_its_own_dispatcher(
        database_url, isolated_kafka, sink):
    """A lease lets another worker take over from a dead one; the dispatcher's own conversations still running
    are not dead: claiming them again sent each mail twice (seen on a loaded machine with the tests' 2 s lease)."""
    await publish(isolated_kafka, shop())
    config = settings(database_url, isolated_kafka, sink)
    slow = SlowToReturn(SmtpTransport(config.smtp), order_id="ord-slow")
    async with running(create_app(config, transport=slow)):
        await publish_after_shop(database_url, isolated_kafka, order("ord-slow"))
        await eventually(lambda: _stored(sink, 2), message="both mails reached the server")
        await eventually(lambda: _leases_ran_out(database_url, "ord-slow"), timeout=120, message="their leases ran out")
        # the claim for the next order's mails looks at every due mail, the expired leases' too
        await publish(isolated_kafka, order("ord-next"))
        await eventually(lambda: _sent_rows(database_url, 2), message="the next order's mails sent")
        slow.release.set()
        rows = await eventually(lambda: _all_sent(database_url), message="the slow mails recorded")
    assert len(mails_of(sink, "ord-slow")) == 2
    assert {(r["order_id"], r["attempts"], r["recoveries"]) for r in rows} == {("ord-slow", 1, 0), ("ord-next", 1, 0)}


async def _leases_ran_out(database_url, order_id: str) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        return bool(await conn.fetchval("SELECT bool_and(status = 'sending' AND lease_until < now()) FROM mails "
                                        "WHERE order_id = $1", order_id))
    finally:
        await conn.close()
