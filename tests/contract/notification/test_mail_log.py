"""The `MailLog` port and the unit of work around it, against the fake and PostgreSQL: what the handlers rely on
(dedupe keys, due mails, the fenced save, the newest shop settings, numbered mail events, inbox and outbox)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import asyncpg
import pytest

from contracts.envelope import Envelope
from contracts.events import MailSent
from delivery.envelopes import Inbound
from services.notification.domain.compose import message_id_for, original_mail_id
from services.notification.domain.model import Mail, MailContent, MailStatus, ShopProfile, new_mail
from services.notification.ports import OrderSource
from tests.fakes.notification import START
from tests.unit.contracts import samples

SOURCE = OrderSource(event_id=uuid.UUID("00000000-0000-4000-8000-000000000001"), correlation_id="chk-1")
SNAPSHOT = {"order_id": "ord-1", "lines": [{"name": "煎茶", "quantity": 2}], "total": 7610}
CONTENT = MailContent(sender_address="shop@example.jp", sender_name="デモ茶舗", recipient="taro@example.jp",
                      subject="件名", text="本文", html="<p>本文</p>", reply_to=None)
SHOP = ShopProfile(shop_id="demo-shop", shop_name="デモ茶舗", sender_address="shop@example.jp", sender_name="",
                   shop_copy_address="orders@example.jp", payment_method_name="カード", note_text="注記",
                   note_in_thanks_mail=True)


def original(order_id: str = "ord-1", kind: str = "thanks", *, minutes: int = 0, shop_id: str = "demo-shop") -> Mail:
    mail_id = original_mail_id(order_id, kind)
    return new_mail(mail_id=mail_id, order_id=order_id, shop_id=shop_id, kind=kind,
                    message_id=message_id_for(mail_id, "test.invalid"), now=START + timedelta(minutes=minutes),
                    recipient="taro@example.jp" if kind == "thanks" else None)


def resend_of(mail: Mail, *, minutes: int = 1) -> Mail:
    mail_id = str(uuid.uuid4())
    return new_mail(mail_id=mail_id, order_id=mail.order_id, shop_id=mail.shop_id, kind=mail.kind,
                    message_id=message_id_for(mail_id, "test.invalid"), now=START + timedelta(minutes=minutes),
                    resend_of=mail.mail_id)


async def with_orders(store, mails: list[Mail]) -> None:
    """The orders of `mails` recorded and the mails added, in one unit."""
    async with store.uow() as uow:
        for order_id, shop_id in sorted({(m.order_id, m.shop_id) for m in mails}):
            await uow.mail_log.add_order(order_id=order_id, shop_id=shop_id, source=SOURCE, snapshot=SNAPSHOT)
        for mail in mails:
            assert await uow.mail_log.add_mail(mail)


async def test_an_order_snapshot_reads_back_and_a_second_add_keeps_the_first(store):
    async with store.uow() as uow:
        await uow.mail_log.add_order(order_id="ord-1", shop_id="demo-shop", source=SOURCE, snapshot=SNAPSHOT)
        await uow.mail_log.add_order(order_id="ord-1", shop_id="demo-shop", source=SOURCE, snapshot={"other": 1})
    async with store.uow() as uow:
        assert await uow.mail_log.order_snapshot("ord-1") == SNAPSHOT
        assert await uow.mail_log.order_snapshot("ord-unknown") is None


async def test_an_orders_mail_events_are_numbered_from_zero_and_carry_its_source(store):
    await with_orders(store, [original()])
    async with store.uow() as uow:
        first = await uow.mail_log.next_mail_event("ord-1")
        second = await uow.mail_log.next_mail_event("ord-1")
        with pytest.raises(LookupError):
            await uow.mail_log.next_mail_event("ord-unknown")
    assert (first.source, first.version, second.version) == (SOURCE, 0, 1)


async def test_a_mail_reads_back_as_added_and_as_saved_with_its_content(store):
    mail = original()
    await with_orders(store, [mail])
    sending = replace(mail, status=MailStatus.SENDING, attempts=1, lease_until=START + timedelta(minutes=2),
                      content=CONTENT, last_error="earlier", smtp_response="451 later")
    async with store.uow() as uow:
        added = await uow.mail_log.get_mail(mail.mail_id)
        assert await uow.mail_log.save_mail(sending)
    async with store.uow() as uow:
        saved = await uow.mail_log.get_mail(mail.mail_id)
        assert await uow.mail_log.get_mail(str(uuid.uuid4())) is None
    assert (added, saved) == (mail, sending)


async def test_an_original_mail_is_added_once_per_order_and_kind_and_resends_are_new_rows(store):
    thanks = original()
    await with_orders(store, [thanks])
    twin = replace(original(), mail_id=str(uuid.uuid4()), message_id="<another@test.invalid>")
    async with store.uow() as uow:
        assert not await uow.mail_log.add_mail(thanks)
        assert not await uow.mail_log.add_mail(twin)
        assert await uow.mail_log.add_mail(original(kind="shop_copy"))
        assert await uow.mail_log.add_mail(resend_of(thanks))
        assert await uow.mail_log.add_mail(resend_of(thanks))
        mails = await uow.mail_log.list_mails(shop_id="demo-shop")
    assert len(mails) == 4


async def test_mails_added_together_are_each_added_once_and_the_new_ones_counted(store):
    thanks, copy = original(), original(kind="shop_copy")
    await with_orders(store, [thanks])
    twin = replace(original(), mail_id=str(uuid.uuid4()), message_id="<another@test.invalid>")
    async with store.uow() as uow:
        assert await uow.mail_log.add_mails([thanks, copy, twin, resend_of(thanks)]) == 2
        assert await uow.mail_log.add_mails([copy]) == 0
        added = await uow.mail_log.get_mail(copy.mail_id)
        mails = await uow.mail_log.list_mails(shop_id="demo-shop")
    assert added == copy
    assert sorted(m.mail_id for m in mails if m.resend_of is None) == sorted([thanks.mail_id, copy.mail_id])
    assert len(mails) == 3


@pytest.mark.parametrize("kind", ["renewal_failed_shop", "renewal_failed_buyer", "renewal_skipped_shop",
                                  "renewal_skipped_buyer"])
async def test_a_renewal_notice_is_added_once_per_order_and_kind_like_the_order_mails(store, kind):
    notice = original("ord-r2", kind)
    await with_orders(store, [notice])
    async with store.uow() as uow:
        assert not await uow.mail_log.add_mail(notice)
        assert not await uow.mail_log.add_mail(replace(notice, mail_id=str(uuid.uuid4()), message_id="<x@t.invalid>"))
        assert await uow.mail_log.get_mail(notice.mail_id) == notice


async def test_a_suppressed_mail_reads_back_final_and_is_never_due(store):
    notice = original("ord-r2", "renewal_failed_buyer")
    await with_orders(store, [notice])
    quiet = replace(notice, status=MailStatus.SUPPRESSED, attempts=1, last_error="not sent: switched off")
    async with store.uow() as uow:
        assert await uow.mail_log.save_mail(quiet)
    async with store.uow() as uow:
        assert await uow.mail_log.get_mail(notice.mail_id) == quiet
        assert await uow.mail_log.claim_due(now=START + timedelta(days=1), limit=10) == []
        assert [m.mail_id for m in await uow.mail_log.list_mails(shop_id="demo-shop", status="suppressed")] == [
            notice.mail_id]


async def test_a_mail_whose_message_id_is_taken_is_not_added(store):
    thanks = original()
    await with_orders(store, [thanks])
    async with store.uow() as uow:
        assert not await uow.mail_log.add_mail(replace(resend_of(thanks), message_id=thanks.message_id))


async def test_a_mail_of_an_order_never_recorded_is_refused(store):
    with pytest.raises((LookupError, asyncpg.ForeignKeyViolationError)):
        async with store.uow() as uow:
            await uow.mail_log.add_mail(original("ord-never"))


async def test_the_log_lists_a_shops_mails_newest_first_filtered_and_limited(store):
    old, new = original("ord-1"), original("ord-2", minutes=5)
    copy = original("ord-2", "shop_copy", minutes=5)
    await with_orders(store, [old, new, copy, original("ord-9", shop_id="other-shop", minutes=9)])
    async with store.uow() as uow:
        await uow.mail_log.save_mail(replace(old, status=MailStatus.FAILED, attempts=1))
        log = uow.mail_log
        everything = await log.list_mails(shop_id="demo-shop")
        of_order = await log.list_mails(shop_id="demo-shop", order_id="ord-2")
        failed = await log.list_mails(shop_id="demo-shop", status="failed")
        newest = await log.list_mails(shop_id="demo-shop", limit=1)
    assert [m.mail_id for m in everything] == [copy.mail_id, new.mail_id, old.mail_id]  # then by kind
    assert [m.mail_id for m in of_order] == [copy.mail_id, new.mail_id]
    assert [m.mail_id for m in failed] == [old.mail_id]
    assert [m.mail_id for m in newest] == [copy.mail_id]


async def test_due_mails_are_pending_ones_whose_time_came_and_sending_ones_whose_lease_ran_out(store):
    due, later = original("ord-1"), original("ord-2", minutes=10)
    leased, expired, sent = original("ord-3"), original("ord-4"), original("ord-5")
    await with_orders(store, [due, later, leased, expired, sent])
    now = START + timedelta(minutes=5)
    async with store.uow() as uow:
        await uow.mail_log.save_mail(replace(leased, status=MailStatus.SENDING, lease_until=now + timedelta(seconds=1)))
        await uow.mail_log.save_mail(replace(expired, status=MailStatus.SENDING, lease_until=now))
        await uow.mail_log.save_mail(replace(sent, status=MailStatus.SENT, sent_at=START))
    async with store.uow() as uow:
        claimed = await uow.mail_log.claim_due(now=now, limit=10)
    assert {m.mail_id for m in claimed} == {due.mail_id, expired.mail_id}


async def test_mails_the_claimer_still_holds_are_not_claimed_even_past_their_lease(store):
    held, expired, due = original("ord-1"), original("ord-2"), original("ord-3")
    await with_orders(store, [held, expired, due])
    now = START + timedelta(minutes=5)
    async with store.uow() as uow:
        for mail in (held, expired):
            await uow.mail_log.save_mail(replace(mail, status=MailStatus.SENDING, lease_until=now))
    async with store.uow() as uow:
        claimed = await uow.mail_log.claim_due(now=now, limit=10, held=[held.mail_id])
    assert {m.mail_id for m in claimed} == {expired.mail_id, due.mail_id}


async def test_claimed_mails_compose_from_their_orders_snapshot_and_the_shops_current_settings(store):
    """The adapter reads both with the claim: they must be what reading them alone gives, within the unit too."""
    first, other_shop = original("ord-1"), original("ord-2", shop_id="other-shop")
    await with_orders(store, [first, other_shop])
    renamed = replace(SHOP, shop_name="新茶舗")
    async with store.uow() as uow:
        await uow.mail_log.save_shop(SHOP, as_of=START)
    async with store.uow() as uow:
        claimed = await uow.mail_log.claim_due(now=START + timedelta(hours=1), limit=10)
        snapshots = [await uow.mail_log.order_snapshot(m.order_id) for m in claimed]
        shops = [await uow.mail_log.shop(m.shop_id) for m in claimed]
        assert await uow.mail_log.save_shop(renamed, as_of=START + timedelta(seconds=1))
        after_save = await uow.mail_log.shop("demo-shop")
    assert [m.order_id for m in claimed] == ["ord-1", "ord-2"]
    assert (snapshots, shops, after_save) == ([SNAPSHOT, SNAPSHOT], [SHOP, None], renamed)


async def test_the_earliest_due_mails_are_claimed_first_up_to_the_limit(store):
    mails = [original(f"ord-{n}", minutes=n) for n in (3, 1, 2)]
    await with_orders(store, mails)
    async with store.uow() as uow:
        claimed = await uow.mail_log.claim_due(now=START + timedelta(hours=1), limit=2)
    assert [m.order_id for m in claimed] == ["ord-1", "ord-2"]


async def test_a_save_fenced_on_the_attempts_seen_is_refused_once_another_worker_took_the_mail_over(store):
    mail = original()
    await with_orders(store, [mail])
    first = replace(mail, status=MailStatus.SENDING, attempts=1, lease_until=START)
    second = replace(first, attempts=2, recoveries=1, lease_until=START + timedelta(minutes=2))
    async with store.uow() as uow:
        assert await uow.mail_log.save_mail(first)
        assert await uow.mail_log.save_mail(second, expected_attempts=1)  # the recovering worker
        late = await uow.mail_log.save_mail(replace(first, status=MailStatus.SENT), expected_attempts=1)
        unknown = await uow.mail_log.save_mail(original("ord-unknown"))
        stored = await uow.mail_log.get_mail(mail.mail_id)
    assert (late, unknown, stored) == (False, False, second)


async def test_the_newest_shop_settings_win_and_older_ones_change_nothing(store):
    renamed = replace(SHOP, shop_name="新茶舗")
    async with store.uow() as uow:
        assert await uow.mail_log.shop("demo-shop") is None
        assert await uow.mail_log.save_shop(SHOP, as_of=START)
        assert await uow.mail_log.save_shop(renamed, as_of=START + timedelta(seconds=1))
        assert not await uow.mail_log.save_shop(SHOP, as_of=START)
        assert await uow.mail_log.save_shop(renamed, as_of=START + timedelta(seconds=1))  # a replay of the same
    async with store.uow() as uow:
        assert await uow.mail_log.shop("demo-shop") == renamed


async def test_the_shops_renewal_switch_is_kept_with_its_settings(store):
    quiet = replace(SHOP, notify_buyer_on_failure=False)
    async with store.uow() as uow:
        assert await uow.mail_log.save_shop(quiet, as_of=START)
    async with store.uow() as uow:
        assert await uow.mail_log.shop("demo-shop") == quiet
        assert await uow.mail_log.save_shop(SHOP, as_of=START + timedelta(seconds=1))
        assert (await uow.mail_log.shop("demo-shop")).notify_buyer_on_failure is True


async def test_only_mails_waiting_for_the_shops_settings_are_made_due_now(store):
    waiting, composed = original("ord-1"), original("ord-2")
    due_already, other_shop = original("ord-3"), original("ord-4", shop_id="other-shop")
    await with_orders(store, [waiting, composed, due_already, other_shop])
    backoff = START + timedelta(minutes=10)
    now = START + timedelta(minutes=1)
    async with store.uow() as uow:
        for mail in (waiting, other_shop):
            await uow.mail_log.save_mail(replace(mail, attempts=1, next_attempt_at=backoff))
        await uow.mail_log.save_mail(replace(composed, attempts=1, next_attempt_at=backoff, content=CONTENT))
        retried = await uow.mail_log.retry_waiting_for_shop("demo-shop", now=now)
        claimed = await uow.mail_log.claim_due(now=now, limit=10)
    assert retried == 1
    assert {m.mail_id: m.next_attempt_at for m in claimed} == {waiting.mail_id: now, due_already.mail_id: START}


async def test_an_inbound_event_is_claimed_once_and_a_call_without_one_always(store):
    inbound = _inbound()
    async with store.uow() as uow:
        first = await uow.claim(inbound)
    async with store.uow() as uow:
        again = await uow.claim(inbound)
        http = await uow.claim(None), await uow.claim(None)
    assert (first, again, http) == (True, False, (True, True))


async def test_an_emitted_event_is_staged_with_its_key_correlation_causation_and_version(store):
    event = samples.mail_sent()
    async with store.uow() as uow:
        staged = await uow.emit(event, correlation_id="chk-1", causation=SOURCE.event_id, subject_version=3)
    [envelope] = await store.emitted()
    assert envelope == staged
    assert (envelope.producer, envelope.correlation_id, envelope.causation_id, envelope.subject_version) == (
        "notification", "chk-1", str(SOURCE.event_id), 3)
    assert envelope.event_as(MailSent) == event


async def test_an_exception_rolls_back_the_mail_log_the_inbox_and_the_outbox(store):
    inbound = _inbound()
    with pytest.raises(RuntimeError):
        async with store.uow() as uow:
            await uow.claim(inbound)
            await uow.mail_log.add_order(order_id="ord-1", shop_id="demo-shop", source=SOURCE, snapshot=SNAPSHOT)
            await uow.emit(samples.mail_sent(), correlation_id="chk-1")
            raise RuntimeError("the handler failed")
    async with store.uow() as uow:
        assert await uow.mail_log.order_snapshot("ord-1") is None
        assert await uow.claim(inbound)
    assert await store.emitted() == []


def _inbound() -> Inbound:
    event = samples.order_completed()
    return Inbound(Envelope.wrap(event, producer="checkout", correlation_id="chk-1"), event)
