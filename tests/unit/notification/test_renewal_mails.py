"""A renewal order's mails, on fakes (R21-R23, I3): a completed renewal gets the thanks mail and the shop copy like
any order; a skipped one also the skip notices; a failed one the failure notices and no thanks mail. The buyer's
notices follow the shop's `notify_buyer_on_failure`; every mail goes once, whatever is redelivered."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.events import MailFailed, MailSent
from services.notification.domain.model import MailStatus
from services.notification.handlers import operator
from tests.fakes.notification import START, NotificationFakes
from tests.unit.notification.handling import consume, failed_renewal, inbound, order, renewal, send_due, shop

SHOP_COPY, BUYER = "orders@example.jp", "taro@example.jp"


def sent(fakes: NotificationFakes) -> list[tuple[str, str]]:
    """(kind, recipient) of every mail the transport accepted, sorted."""
    return sorted((m.headers["X-Mail-Kind"], m.content.recipient) for m in fakes.transport.sent)


def statuses(fakes: NotificationFakes) -> dict[str, MailStatus]:
    return {m.kind: m.status for m in fakes.state.mails.values()}


@pytest.mark.parametrize("payment_status", ["authorized", "captured"])
async def test_a_completed_renewal_order_gets_the_thanks_mail_and_the_shop_copy_like_any_order(payment_status):
    fakes = NotificationFakes()
    await consume(fakes, shop(), renewal("ord-r2", payment_status=payment_status))
    await send_due(fakes)
    assert sent(fakes) == [("shop_copy", SHOP_COPY), ("thanks", BUYER)]
    assert {e.kind for e in fakes.state.emitted(MailSent)} == {"thanks", "shop_copy"}


async def test_a_failed_renewal_sends_the_shop_a_notice_and_the_buyer_a_card_mail_and_no_thanks_mail():
    fakes = NotificationFakes()
    await consume(fakes, shop(), failed_renewal("ord-r2"))
    await send_due(fakes)
    assert sent(fakes) == [("renewal_failed_buyer", BUYER), ("renewal_failed_shop", SHOP_COPY)]
    assert {(e.TYPE, e.kind, e.recipient) for e in fakes.state.emitted(MailSent)} == {
        ("mail.sent.v2", "renewal_failed_shop", SHOP_COPY), ("mail.sent.v2", "renewal_failed_buyer", BUYER)}
    source = fakes.state.orders["ord-r2"].source
    assert {e.causation_id for e in fakes.state.outbox} == {str(source.event_id)}


async def test_the_shops_failure_notice_answers_to_the_buyer_and_the_buyers_to_the_shop():
    fakes = NotificationFakes()
    await consume(fakes, shop(), failed_renewal("ord-r2"))
    await send_due(fakes)
    reply_to = {m.headers["X-Mail-Kind"]: m.content.reply_to for m in fakes.transport.sent}
    assert reply_to == {"renewal_failed_shop": BUYER, "renewal_failed_buyer": None}


async def test_with_the_buyer_switch_off_a_failed_renewal_sends_the_shop_notice_only():
    fakes = NotificationFakes()
    await consume(fakes, shop(notify_buyer=False), failed_renewal("ord-r2"))
    await send_due(fakes)
    assert sent(fakes) == [("renewal_failed_shop", SHOP_COPY)]
    assert statuses(fakes) == {"renewal_failed_shop": MailStatus.SENT, "renewal_failed_buyer": MailStatus.SUPPRESSED}
    assert [e.kind for e in fakes.state.emitted(MailSent)] == ["renewal_failed_shop"]
    assert fakes.state.emitted(MailFailed) == []


async def test_a_skipped_renewal_sends_thanks_shop_copy_and_both_skip_notices():
    fakes = NotificationFakes()
    await consume(fakes, shop(), renewal("ord-r2", payment_status="skipped", skip_reason="authorize_at_renewal off"))
    await send_due(fakes)
    assert sent(fakes) == [("renewal_skipped_buyer", BUYER), ("renewal_skipped_shop", SHOP_COPY),
                           ("shop_copy", SHOP_COPY), ("thanks", BUYER)]
    assert sorted((e.TYPE, e.kind) for e in fakes.state.emitted(MailSent)) == [
        ("mail.sent.v1", "shop_copy"), ("mail.sent.v1", "thanks"),
        ("mail.sent.v2", "renewal_skipped_buyer"), ("mail.sent.v2", "renewal_skipped_shop")]


async def test_with_the_buyer_switch_off_a_skipped_renewal_still_thanks_the_buyer_but_sends_no_skip_notice():
    fakes = NotificationFakes()
    await consume(fakes, shop(notify_buyer=False), renewal("ord-r2", payment_status="skipped", skip_reason="x"))
    await send_due(fakes)
    assert sent(fakes) == [("renewal_skipped_shop", SHOP_COPY), ("shop_copy", SHOP_COPY), ("thanks", BUYER)]
    assert statuses(fakes)["renewal_skipped_buyer"] is MailStatus.SUPPRESSED


async def test_a_redelivered_or_re_emitted_failed_renewal_adds_no_mail_before_or_after_sending():
    fakes = NotificationFakes()
    first = inbound(failed_renewal("ord-r2"))
    await consume(fakes, shop(), first)
    await consume(fakes, first, failed_renewal("ord-r2"))  # redelivered, then re-emitted (a new event id)
    await send_due(fakes)
    await consume(fakes, first, failed_renewal("ord-r2"))
    assert await send_due(fakes) == []
    assert len(fakes.state.mails) == 2 and len(fakes.transport.sent) == 2 and len(fakes.state.outbox) == 2
    assert fakes.wakeup.wakes == 1


async def test_a_redelivered_skipped_renewal_adds_no_mail():
    fakes = NotificationFakes()
    skipped = inbound(renewal("ord-r2", payment_status="skipped", skip_reason="x"))
    await consume(fakes, shop(), skipped)
    await send_due(fakes)
    await consume(fakes, skipped, renewal("ord-r2", payment_status="skipped", skip_reason="x"))
    assert await send_due(fakes) == []
    assert (len(fakes.state.mails), len(fakes.transport.sent)) == (4, 4)


async def test_a_suppressed_notice_stays_suppressed_when_the_event_comes_again_after_the_switch_is_turned_on():
    fakes = NotificationFakes()
    await consume(fakes, shop(notify_buyer=False), failed_renewal("ord-r2"))
    await send_due(fakes)
    await consume(fakes, inbound(shop(notify_buyer=True), at=START + timedelta(hours=1)), failed_renewal("ord-r2"))
    await send_due(fakes)
    assert sent(fakes) == [("renewal_failed_shop", SHOP_COPY)]


async def test_the_switch_is_read_when_the_notice_is_composed_so_settings_arriving_after_the_failure_count():
    fakes = NotificationFakes()
    await consume(fakes, failed_renewal("ord-r2"))
    assert await send_due(fakes) == []  # no shop settings yet: both notices wait and back off
    await consume(fakes, shop(notify_buyer=False))
    await send_due(fakes)
    assert sent(fakes) == [("renewal_failed_shop", SHOP_COPY)]
    assert statuses(fakes)["renewal_failed_buyer"] is MailStatus.SUPPRESSED


async def test_a_refused_failure_notice_backs_off_and_goes_out_on_its_retry():
    fakes = NotificationFakes()
    await consume(fakes, shop(), failed_renewal("ord-r2"))
    fakes.transport.refuse("temporary", count=2)
    assert {s.mail.status for s in await send_due(fakes)} == {MailStatus.PENDING}
    fakes.clock.advance(seconds=5)
    await send_due(fakes)
    assert {(e.kind, e.attempts) for e in fakes.state.emitted(MailSent)} == {
        ("renewal_failed_shop", 2), ("renewal_failed_buyer", 2)}


async def test_an_operator_can_resend_a_suppressed_notice_and_it_goes_to_the_buyer():
    fakes = NotificationFakes()
    await consume(fakes, shop(notify_buyer=False), failed_renewal("ord-r2"))
    await send_due(fakes)
    suppressed = next(m for m in fakes.state.mails.values() if m.status is MailStatus.SUPPRESSED)
    resend = await operator.resend_mail(fakes.deps, shop_id="demo-shop", mail_id=suppressed.mail_id)
    await send_due(fakes)
    assert resend is not None and fakes.state.mails[resend.mail_id].status is MailStatus.SENT
    assert ("renewal_failed_buyer", BUYER) in sent(fakes)


async def test_a_completed_order_for_an_order_whose_payment_failed_fails_its_mails_with_the_reason():
    """The contract makes `RenewalPaymentFailed` final; should a completion follow anyway, the log keeps the first
    event, so its thanks mail cannot be composed: it fails visibly (MailFailed) instead of going out wrong."""
    fakes = NotificationFakes()
    await consume(fakes, shop(), failed_renewal("ord-r2"))
    await consume(fakes, order("ord-r2"))
    await send_due(fakes)
    failed = {e.kind: e.last_error for e in fakes.state.emitted(MailFailed)}
    assert set(failed) == {"thanks", "shop_copy"}
    assert "cannot be made from order 'ord-r2': it is a FailedRenewal" in failed["thanks"]
    assert sent(fakes) == [("renewal_failed_buyer", BUYER), ("renewal_failed_shop", SHOP_COPY)]
