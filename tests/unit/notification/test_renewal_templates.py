"""The renewal notices' built-in templates (Japanese, text and HTML) and their per-shop overrides: the shop reads
which subscription, cycle, order, payment number and reason; the buyer reads the R16 message and what to do,
never a detailed code."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.notification import translate
from services.notification.adapters.templates import JinjaRenderer
from services.notification.domain.compose import context_for, template_context
from tests.unit.contracts import samples

SHOP = translate.shop_from_contract(samples.shop_settings_changed())
FAILURE = translate.failed_renewal_from_contract(samples.renewal_payment_failed().model_copy(update={"cycle_no": 4}))
SKIPPED = replace(translate.order_from_contract(samples.order_completed()), origin="renewal", cycle_no=4,
                  payment_status="skipped", payment_skip_reason="ゲートウェイ契約期間外のため")


def render(kind: str, *, shop=SHOP, renderer: JinjaRenderer | None = None):
    order = FAILURE if kind.startswith("renewal_failed") else SKIPPED
    mail = (renderer or JinjaRenderer()).render(kind, shop_id="demo-shop", context=context_for(order, shop))
    assert mail.html is not None
    return mail


@pytest.mark.parametrize(("kind", "subject", "expected"), [
    ("renewal_failed_shop", "【デモ茶舗】定期購入の決済エラー（ご注文番号：ord-0001）",
     ("sub-0001", "第4回", "ord-0001", "20250101000000000042", "7,610円", "the card was declined (G12)",
      "card_declined", "山田 太郎", "taro@example.jp", "クレジットカード会社にお問い合わせください")),
    ("renewal_failed_buyer", "【デモ茶舗】定期購入のお支払いについてのお願い（ご注文番号：ord-0001）",
     ("山田 太郎 様", "第4回", "ord-0001", "7,610円", "クレジットカード会社にお問い合わせください", "カード情報の更新",
      "shop@example.jp")),
    ("renewal_skipped_shop", "【デモ茶舗】定期購入の決済未実施（ご注文番号：ord-0001）",
     ("ゲートウェイ契約期間外のため", "sub-0001", "第4回", "ord-0001", "7,610円", "山田 太郎")),
    ("renewal_skipped_buyer", "【デモ茶舗】定期購入のお支払いについてのご連絡（ご注文番号：ord-0001）",
     ("山田 太郎 様", "第4回", "ord-0001", "7,610円", "お問い合わせください")),
])
def test_each_renewal_notice_says_what_its_reader_needs_in_text_and_html(kind, subject, expected):
    mail = render(kind)
    assert mail.subject == subject
    for part in (mail.text, mail.html):
        for value in expected:
            assert value in part, (kind, value)


@pytest.mark.parametrize("kind", ["renewal_failed_buyer", "renewal_skipped_buyer"])
def test_the_buyers_notices_show_no_detailed_reason_code_or_payment_number(kind):
    mail = render(kind)
    for part in (mail.text, mail.html):
        for hidden in ("G12", "card_declined", "the card was declined", "20250101000000000042", "契約期間外"):
            assert hidden not in part, (kind, hidden)


@pytest.mark.parametrize("kind", ["renewal_failed_shop", "renewal_skipped_shop"])
def test_the_shops_notice_says_whether_the_buyer_was_told(kind):
    told = render(kind).text
    untold = render(kind, shop=replace(SHOP, notify_buyer_on_failure=False)).text
    assert "お知らせしていません" in untold or "サンクスメールのみ" in untold
    assert "お送りしています" in told and told != untold


def test_the_thanks_mail_of_a_skipped_renewal_shows_no_payment_number():
    renderer = JinjaRenderer()
    skipped = renderer.render("thanks", shop_id="demo-shop", context=template_context(SKIPPED, SHOP))
    paid = renderer.render("thanks", shop_id="demo-shop", context=template_context(
        replace(SKIPPED, payment_status="authorized"), SHOP))
    for part in (skipped.text, skipped.html):
        assert "決済番号" not in part and "20250101000000000042" not in part and "煎茶 100g" in part
    assert "20250101000000000042" in paid.text


def test_a_renewal_notice_is_overridable_per_shop_like_the_order_mails(tmp_path):
    (tmp_path / "demo-shop").mkdir()
    (tmp_path / "demo-shop" / "renewal_failed_buyer.subject.j2").write_text("{{ shop_name }}：カード更新のお願い")
    mail = render("renewal_failed_buyer", renderer=JinjaRenderer(tmp_path))
    assert mail.subject == "デモ茶舗：カード更新のお願い" and "カード情報の更新" in mail.text  # the rest built in


def test_the_html_of_a_notice_escapes_what_the_event_carried():
    failure = replace(FAILURE, reason="<script>alert(1)</script>")
    mail = JinjaRenderer().render("renewal_failed_shop", shop_id="demo-shop", context=context_for(failure, SHOP))
    assert mail.html is not None and "<script>" not in mail.html and "&lt;script&gt;" in mail.html
