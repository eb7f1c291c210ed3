"""SMTP trouble: temporary refusals are retried without holding other mails back; permanent ones fail the mail
with `MailFailed`, and an operator resend delivers it once the server accepts mail again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.events import MailFailed, MailSent
from tests.integration.notification.support import (
    SHOP_COPY,
    log_rows,
    mail_events,
    mails_of,
    order,
    publish,
    publish_after_shop,
    running,
    shop,
    start,
)
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_mails_refused_for_a_while_are_retried_and_delivered_after_the_server_recovers(
        database_url, isolated_kafka, sink):
    sink.faults.set("temporary", count=3)
    await publish(isolated_kafka, shop())
    async with running(start(database_url, isolated_kafka, sink)):
        await publish_after_shop(database_url, isolated_kafka, order("ord-1"))
        rows = await eventually(lambda: _when_all(database_url, "sent"), message="both mails sent")
        events = await mail_events(isolated_kafka, at_least=2)
    assert sink.stats["refused"] == 3
    assert len(mails_of(sink, "ord-1")) == 2
    assert sum(r["attempts"] for r in rows) == 2 + 3
    assert any("451" in (r["smtp_response"] or "") or r["attempts"] > 1 for r in rows)
    assert {e.type for e in events} == {MailSent.TYPE}
    assert max(e.event_as(MailSent).attempts for e in events) > 1


async def test_a_mail_waiting_for_its_retry_does_not_hold_other_mails_back(database_url, isolated_kafka, sink):
    sink.faults.set("temporary", count=2)  # the first order's two mails are refused once
    await publish(isolated_kafka, shop())
    app = start(database_url, isolated_kafka, sink, backoff_initial_s=60.0, backoff_max_s=60.0)
    async with running(app):
        # after the shop's settings: the two refusals must go to this order's SMTP attempts, not a later one's
        await publish_after_shop(database_url, isolated_kafka, order("ord-slow"))
        await eventually(lambda: _when_all(database_url, "pending", order_id="ord-slow", attempted=True),
                         message="first order refused and waiting")
        await publish(isolated_kafka, order("ord-fast"))
        await eventually(lambda: _when_all(database_url, "sent", order_id="ord-fast"), message="second order sent")
        waiting = await log_rows(database_url, "ord-slow")
    assert [r["status"] for r in waiting] == ["pending", "pending"]
    assert all(r["next_attempt_at"] > datetime.now(UTC) for r in waiting)
    assert {m["X-Order-Id"] for m in mails_of(sink, "ord-fast")} == {"ord-fast"}


async def test_a_permanent_refusal_fails_the_mail_with_mail_failed_and_a_resend_works_after_recovery(
        database_url, isolated_kafka, sink):
    sink.faults.set("permanent")
    await publish(isolated_kafka, shop())
    async with running(start(database_url, isolated_kafka, sink)) as api:
        await publish_after_shop(database_url, isolated_kafka, order("ord-2"))
        rows = await eventually(lambda: _when_all(database_url, "failed"), message="both mails failed")
        failed = await mail_events(isolated_kafka, at_least=2)
        sink.faults.set("normal")
        thanks = next(r for r in rows if r["kind"] == "thanks")
        response = await api.post(f"/v1/shops/demo-shop/mails/{thanks['mail_id']}/resend")
        assert response.status_code == 202, response.text
        await eventually(lambda: _count(sink, 1), message="the resent mail arrives")
        events = await mail_events(isolated_kafka, at_least=3)
    assert all(r["attempts"] == 1 and "554" in r["last_error"] and r["permanent_failure"] for r in rows)
    assert {(e.type, e.event_as(MailFailed).permanent) for e in failed} == {(MailFailed.TYPE, True)}
    [resent] = [e.event_as(MailSent) for e in events if e.type == MailSent.TYPE]
    assert resent.resend and resent.kind == "thanks" and resent.mail_id == response.json()["mail_id"]
    [mail] = mails_of(sink, "ord-2")
    assert mail["Message-ID"] == resent.message_id and mail["To"] == "taro@example.jp"


async def test_a_server_refusing_temporarily_past_the_attempt_limit_fails_the_mail_not_permanently(
        database_url, isolated_kafka, sink):
    sink.faults.set("temporary")
    await publish(isolated_kafka, shop())
    async with running(start(database_url, isolated_kafka, sink, max_attempts=3)):
        await publish_after_shop(database_url, isolated_kafka, order("ord-3"))
        rows = await eventually(lambda: _when_all(database_url, "failed"), message="both mails failed")
        events = await mail_events(isolated_kafka, at_least=2)
    assert all(r["attempts"] == 3 and r["last_error"].startswith("gave up after 3 attempts") for r in rows)
    assert all(not e.event_as(MailFailed).permanent for e in events)
    assert {e.event_as(MailFailed).recipient for e in events} == {"taro@example.jp", SHOP_COPY}


async def _when_all(database_url, status: str, *, order_id: str | None = None, attempted: bool = False):
    rows = await log_rows(database_url, order_id)
    done = len(rows) == 2 and all(r["status"] == status and (r["attempts"] > 0 or not attempted) for r in rows)
    return rows if done else None


async def _count(sink, n: int) -> bool:
    return len(sink.messages()) >= n
