"""What the card notices rely on in the `MailLog`, against the fake and PostgreSQL: card notice rows kept once per
notice and kind, the `unsendable` state final, each member's newest contact, the card notices waiting for a
member's address freed at once, and the shop's card switch kept with its settings."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from services.notification.domain.compose import message_id_for, original_mail_id
from services.notification.domain.kinds import CARD_KINDS
from services.notification.domain.model import Mail, MailStatus, ShopProfile, new_mail
from services.notification.domain.notices import MemberContact
from services.notification.ports import OrderSource
from tests.fakes.notification import START

SOURCE = OrderSource(event_id=uuid.UUID("00000000-0000-4000-8000-0000000000c1"), correlation_id="chk-1")
SHOP = ShopProfile(shop_id="demo-shop", shop_name="デモ茶舗", sender_address="shop@example.jp", sender_name="",
                   shop_copy_address="orders@example.jp")
TARO = MemberContact(shop_id="demo-shop", member_id="m-1001", name="山田 太郎", email="taro@example.jp", as_of=START)


def notice_mail(notice_id: str, kind: str = "card_replaced", *, shop_id: str = "demo-shop") -> Mail:
    mail_id = original_mail_id(notice_id, kind)
    return new_mail(mail_id=mail_id, order_id=notice_id, shop_id=shop_id, kind=kind,
                    message_id=message_id_for(mail_id, "test.invalid"), now=START)


async def with_notices(store, notices: list[tuple[Mail, str]]) -> None:
    """Each notice's kept event (of member `member_id`) and its mail, in one unit."""
    async with store.uow() as uow:
        for mail, member_id in notices:
            await uow.mail_log.add_order(order_id=mail.order_id, shop_id=mail.shop_id, source=SOURCE,
                                         snapshot={"member_id": member_id, "event_type": "card.replaced.v1"})
            assert await uow.mail_log.add_mail(mail)


@pytest.mark.parametrize("kind", CARD_KINDS)
async def test_a_card_notice_is_added_once_per_notice_and_kind(store, kind):
    mail = notice_mail("card-1", kind)
    await with_notices(store, [(mail, "m-1001")])
    async with store.uow() as uow:
        assert not await uow.mail_log.add_mail(replace(mail, mail_id=str(uuid.uuid4()), message_id="<x@t.invalid>"))
        assert await uow.mail_log.get_mail(mail.mail_id) == mail


async def test_an_unsendable_notice_reads_back_final_and_is_never_due(store):
    mail = notice_mail("card-1")
    await with_notices(store, [(mail, "m-ghost")])
    final = replace(mail, status=MailStatus.UNSENDABLE, attempts=4, last_error="not sent: no e-mail address")
    async with store.uow() as uow:
        assert await uow.mail_log.save_mail(final)
    async with store.uow() as uow:
        assert await uow.mail_log.get_mail(mail.mail_id) == final
        assert await uow.mail_log.claim_due(now=START + timedelta(days=1), limit=10) == []
        assert [m.mail_id for m in await uow.mail_log.list_mails(shop_id="demo-shop", status="unsendable")] == [
            mail.mail_id]


async def test_each_members_newest_contact_wins_and_unknown_members_have_none(store):
    newer = replace(TARO, email="new@example.jp", as_of=START + timedelta(hours=1))
    async with store.uow() as uow:
        assert await uow.mail_log.member_contact("demo-shop", "m-1001") is None
        assert await uow.mail_log.save_member_contact(newer)
        assert not await uow.mail_log.save_member_contact(TARO)  # an older order arriving later
        assert await uow.mail_log.save_member_contact(replace(TARO, shop_id="other-shop"))
    async with store.uow() as uow:
        assert await uow.mail_log.member_contact("demo-shop", "m-1001") == newer
        assert await uow.mail_log.member_contact("other-shop", "m-1001") == replace(TARO, shop_id="other-shop")
        assert await uow.mail_log.member_contact("demo-shop", "m-other") is None


async def test_only_the_members_card_notices_waiting_for_an_address_are_made_due_now(store):
    waiting, other_member = notice_mail("card-1"), notice_mail("card-2")
    other_shop, due_already = notice_mail("card-3", shop_id="other-shop"), notice_mail("card-4")
    await with_notices(store, [(waiting, "m-1001"), (other_member, "m-2"), (other_shop, "m-1001"),
                               (due_already, "m-1001")])
    backoff, now = START + timedelta(minutes=10), START + timedelta(minutes=1)
    async with store.uow() as uow:
        for mail in (waiting, other_member, other_shop):
            await uow.mail_log.save_mail(replace(mail, attempts=1, next_attempt_at=backoff))
        freed = await uow.mail_log.retry_waiting_for_member("demo-shop", "m-1001", now=now)
        claimed = await uow.mail_log.claim_due(now=now, limit=10)
    assert freed == 1
    assert {m.mail_id: m.next_attempt_at for m in claimed} == {waiting.mail_id: now, due_already.mail_id: START}


async def test_the_shops_card_switch_is_kept_with_its_settings(store):
    quiet = replace(SHOP, notify_card_changes=False)
    async with store.uow() as uow:
        assert await uow.mail_log.save_shop(quiet, as_of=START)
    async with store.uow() as uow:
        assert await uow.mail_log.shop("demo-shop") == quiet
