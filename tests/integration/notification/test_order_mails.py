"""A completed order's two mails over real Kafka, PostgreSQL and SMTP (R23, I3); other orders get none."""

from __future__ import annotations

import pytest

from contracts.envelope import Envelope
from contracts.events import MailSent
from tests.integration.notification.support import (
    NOTE,
    SHOP_COPY,
    body,
    consumed_everything,
    log_rows,
    mail_events,
    mails_of,
    mails_to,
    order,
    publish,
    publish_after_shop,
    running,
    shop,
    start,
)
from tests.unit.contracts import samples
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_a_completed_order_yields_a_thanks_mail_to_the_buyer_and_a_copy_to_the_shop(
        database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(note_in_mail=True))
    async with running(start(database_url, isolated_kafka, sink)):
        await publish_after_shop(database_url, isolated_kafka, order("ord-1", pay_type="03"))
        await eventually(lambda: _count(sink, 2), message="two mails in the sink")
        events = await mail_events(isolated_kafka, at_least=2)
    [thanks] = mails_to(sink, "taro@example.jp")
    [copy] = mails_to(sink, SHOP_COPY)
    assert thanks["Subject"] == "【デモ茶舗】ご注文ありがとうございます（ご注文番号：ord-1）"
    assert copy["Subject"] == "【デモ茶舗】受注通知（ご注文番号：ord-1）"
    assert _seven_bit_with_encoded_subjects(sink)
    assert thanks["From"].addresses[0].display_name == "デモ茶舗"
    assert thanks["Message-ID"] != copy["Message-ID"]
    for mail in (thanks, copy):
        text = body(mail)
        for expected in ("ord-1", "20250101000000000042", "煎茶 100g", "2,400円", "送料", "880円", "ギフト包装",
                         "7,610円", "クレジットカード決済（分割払い（3回））", NOTE):
            assert expected in text, expected
        assert NOTE in mail.get_body(("html",)).get_content()
    assert {(e.type, e.data["kind"]) for e in events} == {("mail.sent.v1", "thanks"), ("mail.sent.v1", "shop_copy")}
    sent = [e.event_as(MailSent) for e in events]
    assert {s.message_id for s in sent} == {thanks["Message-ID"], copy["Message-ID"]}
    assert all(e.causation_id and e.correlation_id == "chk-ord-1" for e in events)
    assert [(r["kind"], r["status"], r["attempts"]) for r in await log_rows(database_url)] == [
        ("shop_copy", "sent", 1), ("thanks", "sent", 1)]


async def test_the_shops_note_is_left_out_when_include_in_thanks_mail_is_off(database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(note_in_mail=False), order("ord-2"))
    async with running(start(database_url, isolated_kafka, sink)):
        await eventually(lambda: _count(sink, 2), message="two mails in the sink")
    for _, mail in sink.messages():
        assert "クレジットカード決済" in body(mail)
        assert NOTE not in body(mail) and NOTE not in mail.get_body(("html",)).get_content()


async def test_rejected_and_needs_review_orders_get_no_mail(database_url, isolated_kafka, sink):
    rejected = samples.order_rejected().model_copy(update={"order_id": "ord-rejected"})
    review = samples.order_needs_review().model_copy(update={"order_id": "ord-review"})
    for event in (shop(), rejected, review, samples.order_placed(), order("ord-completed")):
        await publish(isolated_kafka, event)
    async with running(start(database_url, isolated_kafka, sink)):
        await eventually(lambda: consumed_everything(isolated_kafka), message="every event consumed")
        await eventually(lambda: _count(sink, 2), message="the completed order's mails")
    assert {m["X-Order-Id"] for _, m in sink.messages()} == {"ord-completed"}
    assert {r["order_id"] for r in await log_rows(database_url)} == {"ord-completed"}


async def test_the_same_order_completed_delivered_three_times_yields_two_mails(database_url, isolated_kafka, sink):
    completed = order("ord-3")
    envelope = Envelope.wrap(completed, producer="checkout", correlation_id="chk-3")
    await publish(isolated_kafka, shop())
    await publish(isolated_kafka, envelope=envelope, times=3)
    async with running(start(database_url, isolated_kafka, sink)):
        await eventually(lambda: consumed_everything(isolated_kafka), message="every event consumed")
        await eventually(lambda: _all_final(database_url), message="mails sent")
    assert len(mails_of(sink, "ord-3")) == 2
    assert len(await log_rows(database_url)) == 2


async def test_an_order_completed_re_emitted_with_a_new_event_id_sends_nothing_new(database_url, isolated_kafka,
                                                                                   sink):
    await publish(isolated_kafka, shop(), order("ord-4"))
    async with running(start(database_url, isolated_kafka, sink)):
        await eventually(lambda: _count(sink, 2), message="two mails")
        await publish(isolated_kafka, order("ord-4"))  # a new envelope: the inbox cannot catch it, the log does
        await eventually(lambda: consumed_everything(isolated_kafka), message="re-emitted event consumed")
    assert len(mails_of(sink, "ord-4")) == 2


async def _count(sink, n: int) -> bool:
    return len(sink.messages()) >= n


async def _all_final(database_url) -> bool:
    rows = await log_rows(database_url)
    return bool(rows) and all(r["status"] in ("sent", "failed") for r in rows)


def _seven_bit_with_encoded_subjects(sink) -> bool:
    """Japanese never travels raw: headers are RFC 2047 encoded-words (UTF-8), bodies base64."""
    for key in sink.store.iterkeys():
        raw = sink.store.get_bytes(key)
        subject = next(line for line in raw.split(b"\r\n") if line.startswith(b"Subject:"))
        if not raw.isascii() or not subject.startswith(b"Subject: =?utf-8?b?"):
            return False
    return True
