"""What a mail says and to whom (domain, pure): ids, addresses, installments, the note switch, the context."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.notification import translate
from services.notification.domain.compose import (
    check_address,
    context_for,
    installments_label,
    message_id_for,
    original_mail_id,
    recipient_for,
    suppression,
    template_context,
    yen,
)
from services.notification.domain.errors import InvalidAddress
from services.notification.domain.model import new_mail
from tests.unit.contracts import samples


def order_and_shop(in_thanks_mail: bool = True):
    shop_event = samples.shop_settings_changed()
    assert shop_event.card is not None
    note = shop_event.card.note.model_copy(update={"in_thanks_mail": in_thanks_mail})
    shop_event = shop_event.model_copy(update={"card": shop_event.card.model_copy(update={"note": note})})
    return translate.order_from_contract(samples.order_completed()), translate.shop_from_contract(shop_event)


def test_an_orders_original_mails_have_stable_distinct_ids():
    assert original_mail_id("o-1", "thanks") == original_mail_id("o-1", "thanks")
    assert original_mail_id("o-1", "thanks") != original_mail_id("o-1", "shop_copy")
    assert message_id_for("abc", "example.jp") == "<abc@example.jp>"


@pytest.mark.parametrize("address", ["taro@example.jp", " a.b+tag@mail.example.co.jp ", "x_y@a-b.example"])
def test_plain_addresses_pass(address):
    assert check_address(address) == address.strip()


@pytest.mark.parametrize(("address", "reason"), [
    ("not-an-address", "not an e-mail address"), ("@example.jp", "not an e-mail address"),
    ("taro@localhost", "invalid domain"), ("ta ro@example.jp", "invalid local part"),
    ("taro..x@example.jp", "invalid local part"), ("taro@-bad.jp", "invalid domain"),
    ("山田@例え.jp", "non-ASCII"), ("a@" + "b" * 250 + ".jp", "not an e-mail address"),
])
def test_impossible_addresses_are_refused_with_a_reason(address, reason):
    with pytest.raises(InvalidAddress, match=reason):
        check_address(address)


@pytest.mark.parametrize(("pay_type", "label"), [
    ("01", "一括払い"), ("03", "分割払い（3回）"), ("24", "分割払い（24回）"), ("80", "ボーナス一括払い"),
    ("88", "リボルビング払い"), ("99", "支払区分 99"),
])
def test_installments_read_as_a_buyer_expects(pay_type, label):
    assert installments_label(pay_type) == label


def test_yen_has_thousands_separators():
    assert yen(1234567) == "1,234,567円" and yen(0) == "0円"


def test_the_note_is_in_the_context_only_when_switched_on():
    order, shop = order_and_shop(in_thanks_mail=True)
    assert template_context(order, shop)["note"] == "VISA/Master 利用可"
    order, shop = order_and_shop(in_thanks_mail=False)
    assert template_context(order, shop)["note"] is None


def test_the_context_carries_totals_payment_and_subscription():
    order, shop = order_and_shop()
    context = template_context(order, shop)
    assert (context["items_total"], context["total"], context["order_date"]) == (5700, 7610, "2025年1月1日")
    assert (context["payment_method_name"], context["installments"]) == ("クレジットカード決済", "一括払い")
    assert context["subscription"] == "1ヶ月ごと" and context["shop_name"] == "デモ茶舗"


def test_recipients_are_the_buyer_the_shop_or_the_operators_choice():
    order, shop = order_and_shop()
    common = {"mail_id": "m", "order_id": "o", "shop_id": "s", "message_id": "<m@x>", "now": order.order_date}
    assert recipient_for(new_mail(kind="thanks", **common), order, shop) == "taro@example.jp"
    assert recipient_for(new_mail(kind="shop_copy", **common), order, shop) == "orders@example.jp"
    chosen = new_mail(kind="shop_copy", recipient="boss@example.jp", **common)
    assert recipient_for(chosen, order, shop) == "boss@example.jp"


@pytest.mark.parametrize(("kind", "recipient"), [
    ("renewal_failed_buyer", "taro@example.jp"), ("renewal_skipped_buyer", "taro@example.jp"),
    ("renewal_failed_shop", "orders@example.jp"), ("renewal_skipped_shop", "orders@example.jp"),
])
def test_renewal_notices_go_to_the_buyer_or_the_shops_copy_address(kind, recipient):
    order, shop = order_and_shop()
    mail = new_mail(kind=kind, mail_id="m", order_id="o", shop_id="s", message_id="<m@x>", now=order.order_date)
    assert recipient_for(mail, order, shop) == recipient


def test_only_the_buyers_original_renewal_notices_follow_the_shops_switch():
    _, shop = order_and_shop()
    off = replace(shop, notify_buyer_on_failure=False)
    common = {"mail_id": "m", "order_id": "o", "shop_id": "s", "message_id": "<m@x>", "now": date(2025, 1, 1)}
    buyer_notice = new_mail(kind="renewal_failed_buyer", **common)
    assert suppression(buyer_notice, off) == "not sent: the shop's renewal setting notify_buyer_on_failure is off"
    assert suppression(buyer_notice, shop) is None
    assert suppression(new_mail(kind="renewal_failed_shop", **common), off) is None
    assert suppression(new_mail(kind="thanks", **common), off) is None
    resend = new_mail(kind="renewal_skipped_buyer", resend_of="m0", **{**common, "mail_id": "m2"})
    assert suppression(resend, off) is None


def test_a_failed_renewals_context_names_its_subscription_cycle_reason_and_the_buyers_message():
    _, shop = order_and_shop()
    failure = translate.failed_renewal_from_contract(samples.renewal_payment_failed())
    context = context_for(failure, shop)
    assert (context["subscription_id"], context["cycle_no"], context["payment_number"], context["total"]) == (
        "sub-0001", 1, "20250101000000000042", 7610)
    assert (context["reason_code"], context["buyer_message"]) == (
        "card_declined", "クレジットカード会社にお問い合わせください")
    assert context["buyer_notified"] is True and context["order_date"] == "2025年2月1日"


def test_a_failed_renewal_without_a_buyer_message_tells_the_buyer_to_ask_the_shop():
    _, shop = order_and_shop()
    failure = translate.failed_renewal_from_contract(samples.renewal_payment_failed().model_copy(
        update={"buyer_message": None}))
    assert context_for(failure, shop)["buyer_message"] == "ショップ様にお問い合わせください"  # R16's fallback


def test_a_skipped_renewals_context_says_it_was_skipped_and_why():
    order, shop = order_and_shop()
    skipped = replace(order, origin="renewal", payment_status="skipped", payment_skip_reason="契約期間外")
    assert (template_context(skipped, shop)["payment_skipped"], template_context(skipped, shop)["skip_reason"]) == (
        True, "契約期間外")
    assert template_context(order, shop)["payment_skipped"] is False
