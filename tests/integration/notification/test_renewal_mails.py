"""A renewal's mails over real Kafka, PostgreSQL and SMTP (R21-R23, I3): a declined renewal sends the shop a notice
and the buyer a card-update mail, each once however often the event comes; the shop's switch keeps the buyer's
mail back; a skipped renewal sends the thanks mail, the shop copy and both skip notices."""

from __future__ import annotations

import pytest

from contracts.envelope import Envelope
from tests.integration.notification.support import (
    SHOP_COPY,
    body,
    consumed_everything,
    failed_renewal,
    log_rows,
    mail_events,
    mails_of,
    publish,
    running,
    shop,
    skipped_renewal,
    start,
)
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
BUYER = "taro@example.jp"


async def test_a_failed_renewal_delivered_three_times_and_re_emitted_mails_the_shop_and_the_buyer_once(
        database_url, isolated_kafka, sink):
    envelope = Envelope.wrap(failed_renewal("ord-r2"), producer="checkout", correlation_id="sub-0001/2")
    await publish(isolated_kafka, shop())
    await publish(isolated_kafka, envelope=envelope, times=3)
    await publish(isolated_kafka, failed_renewal("ord-r2"))  # a new envelope: the inbox cannot catch it, the log does
    async with running(start(database_url, isolated_kafka, sink)):
        await eventually(lambda: consumed_everything(isolated_kafka), message="every event consumed")
        await eventually(lambda: _all_final(database_url, 2), message="both notices final")
        events = await mail_events(isolated_kafka, at_least=2)
    mails = {m["X-Mail-Kind"]: m for m in mails_of(sink, "ord-r2")}
    assert len(mails_of(sink, "ord-r2")) == 2
    assert {kind: m["X-Sink-Rcpt-To"] for kind, m in mails.items()} == {
        "renewal_failed_shop": SHOP_COPY, "renewal_failed_buyer": BUYER}
    subject = "【デモ茶舗】定期購入のお支払いについてのお願い（ご注文番号：ord-r2）"
    assert mails["renewal_failed_buyer"]["Subject"] == subject
    assert "クレジットカード会社にお問い合わせください" in body(mails["renewal_failed_buyer"])
    for expected in ("sub-0001", "第2回", "ord-r2", "20250101000000000042", "the card was declined (G12)"):
        assert expected in body(mails["renewal_failed_shop"]), expected
    assert mails["renewal_failed_shop"]["Reply-To"] == BUYER
    assert sorted((e.type, e.data["kind"]) for e in events) == [
        ("mail.sent.v2", "renewal_failed_buyer"), ("mail.sent.v2", "renewal_failed_shop")]
    assert {e.correlation_id for e in events} == {"sub-0001/2"}


async def test_with_the_buyer_switch_off_only_the_shops_notice_arrives(database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(notify_buyer=False), failed_renewal("ord-r2"))
    async with running(start(database_url, isolated_kafka, sink)):
        await eventually(lambda: _all_final(database_url, 2), message="both notices final")
        events = await mail_events(isolated_kafka, at_least=1)
    assert [m["X-Mail-Kind"] for m in mails_of(sink, "ord-r2")] == ["renewal_failed_shop"]
    assert [(r["kind"], r["status"]) for r in await log_rows(database_url)] == [
        ("renewal_failed_buyer", "suppressed"), ("renewal_failed_shop", "sent")]
    assert [e.data["kind"] for e in events] == ["renewal_failed_shop"]


async def test_a_skipped_renewal_sends_thanks_shop_copy_and_both_skip_notices_once(database_url, isolated_kafka,
                                                                                    sink):
    await publish(isolated_kafka, shop(), skipped_renewal("ord-r3"))
    await publish(isolated_kafka, skipped_renewal("ord-r3"))
    async with running(start(database_url, isolated_kafka, sink)):
        await eventually(lambda: consumed_everything(isolated_kafka), message="every event consumed")
        await eventually(lambda: _all_final(database_url, 4), message="four mails final")
        events = await mail_events(isolated_kafka, at_least=4)
    assert sorted((m["X-Mail-Kind"], m["X-Sink-Rcpt-To"]) for m in mails_of(sink, "ord-r3")) == [
        ("renewal_skipped_buyer", BUYER), ("renewal_skipped_shop", SHOP_COPY), ("shop_copy", SHOP_COPY),
        ("thanks", BUYER)]
    shop_notice = next(m for m in mails_of(sink, "ord-r3") if m["X-Mail-Kind"] == "renewal_skipped_shop")
    assert "ゲートウェイ契約期間外" in body(shop_notice)
    assert sorted((e.type, e.data["kind"]) for e in events) == [
        ("mail.sent.v1", "shop_copy"), ("mail.sent.v1", "thanks"),
        ("mail.sent.v2", "renewal_skipped_buyer"), ("mail.sent.v2", "renewal_skipped_shop")]


async def _all_final(database_url: str, count: int) -> bool:
    rows = await log_rows(database_url)
    return len(rows) == count and all(r["status"] in ("sent", "failed", "suppressed") for r in rows)
