"""The card notices' translation and built-in templates (Japanese, text and HTML): what the buyer reads (when, on
their page or by the shop, the new card's expiry month, the renewal to update the card before), never a card
number; a snapshot kept in the log reads back as the same notice; the templates are overridable per shop."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.notification import translate
from services.notification.adapters.templates import JinjaRenderer
from services.notification.domain.compose import context_for
from services.notification.domain.notices import CardNotice, MemberContact
from tests.unit.contracts import samples
from tests.unit.notification.handling import card_expiring, card_replaced, card_unlinked

SHOP = translate.shop_from_contract(samples.shop_settings_changed())
EVENT_ID = uuid.UUID("00000000-0000-4000-8000-00000000c0de")
AT = datetime(2025, 6, 1, 16, 0, tzinfo=UTC)  # June 2, 01:00 JST
TARO = MemberContact(shop_id="demo-shop", member_id="m-1001", name="山田 太郎", email="taro@example.jp", as_of=AT)


def notice(event) -> CardNotice:
    found = translate.card_notice(event, event_id=EVENT_ID, occurred_at=AT)
    assert found is not None
    return found.addressed(TARO)


def render(found: CardNotice, *, renderer: JinjaRenderer | None = None):
    mail = (renderer or JinjaRenderer()).render(found.kind, shop_id="demo-shop", context=context_for(found, SHOP))
    assert mail.html is not None
    return mail


@pytest.mark.parametrize(("event", "subject", "expected"), [
    (card_replaced(source="my_page"), "【デモ茶舗】ご登録カードが変更されました",
     ("山田 太郎 様", "2025年6月2日", "会員ページにて", "2030年12月", "次回以降のお支払いから", "変更前のカード")),
    (card_unlinked(source="operator"), "【デモ茶舗】ご登録カードが削除されました",
     ("山田 太郎 様", "2025年6月2日", "ショップにて", "削除されました")),
    (card_expiring(cycle_no=3), "【デモ茶舗】ご登録カードの有効期限についてのお願い",
     ("山田 太郎 様", "2025年2月", "2025年3月1日", "第3回", "sub-0001", "会員ページからご登録カードの変更")),
])
def test_each_card_notice_says_what_the_buyer_needs_in_text_and_html(event, subject, expected):
    mail = render(notice(event))
    assert mail.subject == subject
    for part in (mail.text, mail.html):
        for value in expected:
            assert value in part, (event.TYPE, value)


def test_a_notice_greets_a_buyer_whose_name_is_unknown_and_shows_no_card_number():
    mail = render(replace(notice(card_replaced()), buyer_name=""))
    assert mail.text.startswith("お客様\n")
    for part in (mail.text, mail.html):
        assert "カード番号" not in part and "*" not in part


def test_changes_made_in_a_checkout_make_no_notice():
    for event in (card_replaced(source="checkout"), card_unlinked(source="checkout")):
        assert translate.card_notice(event, event_id=EVENT_ID, occurred_at=AT) is None


@pytest.mark.parametrize("event", [card_replaced(), card_unlinked(), card_expiring()])
def test_a_kept_snapshot_reads_back_as_the_same_notice(event):
    made = translate.card_notice(event, event_id=EVENT_ID, occurred_at=AT)
    assert made is not None
    assert translate.order_from_snapshot(translate.notice_snapshot(event, made)) == made


def test_only_a_member_buyer_gives_a_contact_and_the_shops_card_switch_is_projected():
    order = samples.order_completed()
    assert translate.member_contact(order, as_of=AT) == TARO
    guest = order.model_copy(update={"buyer": order.buyer.model_copy(update={"member_id": None})})
    assert translate.member_contact(guest, as_of=AT) is None
    settings = samples.shop_settings_changed()
    assert settings.card is not None
    off = settings.model_copy(update={"card": settings.card.model_copy(update={"notify_card_changes": False})})
    assert SHOP.notify_card_changes and not translate.shop_from_contract(off).notify_card_changes


def test_a_card_notice_is_overridable_per_shop_like_the_order_mails(tmp_path):
    (tmp_path / "demo-shop").mkdir()
    (tmp_path / "demo-shop" / "card_expiring.subject.j2").write_text("{{ shop_name }}：{{ next_cycle_on }}までに")
    mail = render(notice(card_expiring()), renderer=JinjaRenderer(tmp_path))
    assert mail.subject == "デモ茶舗：2025年3月1日までに" and "第3回" in mail.text  # the rest built in


def test_a_warning_names_its_cycle_date_and_expiry():
    found = notice(card_expiring(cycle_no=5))
    assert (found.cycle_no, found.next_cycle_on, found.card_expiry) == (5, date(2025, 3, 1), "2025-02")
