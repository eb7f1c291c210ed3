"""Card notices (R18) over real Kafka, PostgreSQL and SMTP: a card replaced on the member's page is mailed to the
member once however often its event comes (a change made in a checkout, and payment's other events, mail
nothing); a renewal that would charge an expired card is mailed with the date to update it before; a member whose
address was never seen gets no mail, and the log says why."""

from __future__ import annotations

import pytest

from contracts.envelope import Envelope
from services.notification.domain.compose import card_notice_id
from tests.integration.notification.support import (
    body,
    card_replaced,
    card_unlinked,
    consumed_everything,
    log_rows,
    mail_events,
    mails_of_kind,
    member_order,
    publish,
    running,
    shop,
    start,
)
from tests.unit.contracts import samples
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
BUYER = "taro@example.jp"


async def test_a_card_replaced_published_twice_mails_the_member_one_notice(database_url, isolated_kafka, sink):
    replaced = Envelope.wrap(card_replaced(source="my_page"), producer="payment", correlation_id="card-m-1001")
    await publish(isolated_kafka, shop(), member_order("ord-m1"))
    await publish(isolated_kafka, envelope=replaced, times=2)
    await publish(isolated_kafka, card_replaced(source="checkout"), samples.payment_authorized())
    async with running(start(database_url, isolated_kafka, sink)):
        await eventually(lambda: consumed_everything(isolated_kafka), message="every event consumed")
        await eventually(lambda: _all_final(database_url, 3), message="the order's mails and the notice final")
        events = await mail_events(isolated_kafka, at_least=3)
    [mail] = mails_of_kind(sink, "card_replaced")
    assert (mail["X-Sink-Rcpt-To"], mail["Subject"]) == (BUYER, "【デモ茶舗】ご登録カードが変更されました")
    for expected in ("山田 太郎 様", "会員ページにて", "2030年12月", "次回以降のお支払いから"):
        assert expected in body(mail), expected
    [announced] = [e for e in events if e.data["kind"] == "card_replaced"]
    assert (announced.type, announced.data["order_id"], announced.correlation_id) == (
        "mail.sent.v2", card_notice_id(replaced.event_id), "card-m-1001")


async def test_a_renewal_card_expiring_warning_mails_the_member_the_date_to_update_before(
        database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(), member_order("ord-m1"))
    await publish(isolated_kafka, samples.renewal_card_expiring())
    async with running(start(database_url, isolated_kafka, sink)):
        await eventually(lambda: _all_final(database_url, 3), message="the order's mails and the warning final")
    [mail] = mails_of_kind(sink, "card_expiring")
    assert mail["X-Sink-Rcpt-To"] == BUYER
    for expected in ("2025年2月", "2025年3月1日", "第3回", "会員ページからご登録カードの変更"):
        assert expected in body(mail), expected


async def test_a_notice_for_a_member_never_seen_is_unsendable_with_the_reason(database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(), card_unlinked(source="operator", member_id="m-ghost"))
    async with running(start(database_url, isolated_kafka, sink)):
        [row] = await eventually(lambda: _final_rows(database_url, 1), message="the notice final")
    assert (row["kind"], row["status"]) == ("card_removed", "unsendable")
    assert "no e-mail address of member 'm-ghost' in shop 'demo-shop'" in row["last_error"]
    assert mails_of_kind(sink, "card_removed") == []


async def _final_rows(database_url: str, count: int) -> list[dict] | None:
    rows = await log_rows(database_url)
    final = len(rows) == count and all(r["status"] in ("sent", "failed", "suppressed", "unsendable") for r in rows)
    return rows if final else None


async def _all_final(database_url: str, count: int) -> bool:
    return await _final_rows(database_url, count) is not None
