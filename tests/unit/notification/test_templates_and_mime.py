"""Templates (Jinja2: Japanese, autoescaped HTML, per-shop overrides) and the MIME message (RFC 2047, UTF-8)."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.notification import translate
from services.notification.adapters.smtp import build_message
from services.notification.adapters.templates import JinjaRenderer
from services.notification.domain.compose import template_context
from services.notification.domain.model import MailContent
from services.notification.ports import OutgoingMail, RenderError
from tests.unit.contracts import samples

ORDER = translate.order_from_contract(samples.order_completed())
SHOP = translate.shop_from_contract(samples.shop_settings_changed())


def context(**changes):
    return {**template_context(ORDER, SHOP), **changes}


@pytest.mark.parametrize("kind", ["thanks", "shop_copy"])
def test_both_mails_show_the_order_payment_and_note_in_text_and_html(kind):
    mail = JinjaRenderer().render(kind, shop_id="demo-shop", context=context())
    for part in (mail.text, mail.html):
        assert part is not None
        for expected in ("ord-0001", "20250101000000000042", "煎茶 100g", "5,700円", "880円", "ギフト包装", "7,610円",
                         "クレジットカード決済", "一括払い", "VISA/Master 利用可", "1ヶ月ごと", "千代田区"):
            assert expected in part, (kind, expected)
    assert "\n" not in mail.subject and "デモ茶舗" in mail.subject


def test_html_is_autoescaped_and_text_is_not():
    mail = JinjaRenderer().render("thanks", shop_id="demo-shop", context=context(shop_name="<b>茶&舗</b>"))
    assert "&lt;b&gt;茶&amp;舗&lt;/b&gt;" in mail.html and "<b>茶&舗</b>" not in mail.html
    assert "<b>茶&舗</b>" in mail.text


def test_a_shop_directory_overrides_one_shop_and_the_root_every_shop(tmp_path):
    (tmp_path / "demo-shop").mkdir()
    (tmp_path / "demo-shop" / "thanks.subject.j2").write_text("{{ shop_name }}様専用 {{ order_id }}")
    (tmp_path / "shop_copy.subject.j2").write_text("全店共通 {{ order_id }}")
    renderer = JinjaRenderer(tmp_path)
    assert renderer.render("thanks", shop_id="demo-shop", context=context()).subject == "デモ茶舗様専用 ord-0001"
    assert renderer.render("thanks", shop_id="other", context=context()).subject.startswith("【デモ茶舗】ご注文")
    assert renderer.render("shop_copy", shop_id="other", context=context()).subject == "全店共通 ord-0001"


def test_a_shop_override_without_html_sends_text_only(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "thanks.html.j2").write_text("")
    (tmp_path / "thanks.html.j2").write_text("x")
    renderer = JinjaRenderer(tmp_path)
    assert renderer.render("thanks", shop_id="plain", context=context()).html == ""


def test_a_shop_id_that_is_not_a_plain_name_never_reaches_the_file_system(tmp_path):
    (tmp_path / "thanks.subject.j2").write_text("root override")
    renderer = JinjaRenderer(tmp_path / "shops")
    assert renderer.render("thanks", shop_id="../", context=context()).subject.startswith("【デモ茶舗】")


def test_a_broken_or_undefined_variable_override_is_a_render_error(tmp_path):
    (tmp_path / "thanks.subject.j2").write_text("{{ no_such_value }}")
    with pytest.raises(RenderError, match="no_such_value"):
        JinjaRenderer(tmp_path).render("thanks", shop_id="demo-shop", context=context())
    (tmp_path / "thanks.subject.j2").write_text("{% if %}")
    with pytest.raises(RenderError, match="template error in thanks mail"):
        JinjaRenderer(tmp_path).render("thanks", shop_id="demo-shop", context=context())


def test_the_sandbox_refuses_reaching_into_python_internals(tmp_path):
    (tmp_path / "thanks.subject.j2").write_text("{{ order.__class__.__init__.__globals__ }}")
    with pytest.raises(RenderError):
        JinjaRenderer(tmp_path).render("thanks", shop_id="demo-shop", context=context())


def outgoing(html: str | None = "<p>本文</p>") -> OutgoingMail:
    content = MailContent(sender_address="shop@example.jp", sender_name="デモ茶舗", recipient="taro@example.jp",
                          subject="【デモ茶舗】ご注文ありがとうございます", text="山田 太郎 様\n本文です。", html=html,
                          reply_to="buyer@example.jp")
    return OutgoingMail(content=content, message_id="<m-1@escott-payments.invalid>",
                        date=datetime(2025, 1, 1, 9, tzinfo=UTC),
                        headers={"X-Order-Id": "ord-1", "X-Mail-Kind": "thanks"})


def test_the_message_is_seven_bit_with_encoded_japanese_headers_and_utf8_bodies():
    raw = build_message(outgoing())
    assert raw.isascii() and b"\r\n" in raw
    assert b"Subject: =?utf-8?b?" in raw and b"From: =?utf-8?b?" in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "【デモ茶舗】ご注文ありがとうございます"
    assert parsed["From"].addresses[0].display_name == "デモ茶舗" and parsed["Reply-To"] == "buyer@example.jp"
    assert parsed["Message-ID"] == "<m-1@escott-payments.invalid>" and parsed["X-Order-Id"] == "ord-1"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",))
    assert plain["Content-Transfer-Encoding"] == "base64" and plain.get_content_charset() == "utf-8"
    assert plain.get_content().strip() == "山田 太郎 様\r\n本文です。"  # MIME canonical text: CRLF
    assert parsed.get_body(("html",)).get_content().strip() == "<p>本文</p>"


def test_the_same_mail_always_becomes_the_same_bytes():
    assert build_message(outgoing()) == build_message(outgoing())


def test_without_html_the_message_is_plain_text_only():
    parsed = email.message_from_bytes(build_message(outgoing(html=None)), policy=email.policy.default)
    assert parsed.get_content_type() == "text/plain"


@pytest.mark.parametrize(("name", "subject"), [
    ("Tea & Co. (Kyoto)", "A plain ASCII subject"),
    ("デモ茶舗", "【デモ茶舗】" + "ご注文ありがとうございます" * 8 + " 🍵 end"),
])
def test_headers_round_trip_through_a_mail_reader_however_long_or_unusual(name, subject):
    mail = outgoing()
    mail = replace(mail, content=replace(mail.content, sender_name=name, subject=subject))
    raw = build_message(mail)
    assert raw.isascii() and all(len(line) <= 78 for line in raw.split(b"\r\n") if b"?=" in line)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert (parsed["Subject"], parsed["From"].addresses[0].display_name) == (subject, name)
    assert parsed["From"].addresses[0].addr_spec == "shop@example.jp"


@pytest.mark.parametrize("change", [
    {"subject": "hello\r\nBcc: victim@example.com"}, {"sender_name": "shop\nBcc: x@example.com"},
    {"recipient": "taro@example.jp\r\nBcc: victim@example.com"}, {"recipient": "not an address"},
])
def test_a_header_injection_or_an_unusable_address_is_refused(change):
    mail = outgoing()
    with pytest.raises(ValueError):
        build_message(replace(mail, content=replace(mail.content, **change)))


def test_templates_are_read_once_per_process(tmp_path):
    """Which file serves a shop's template (or that it has none) is looked up once: later mails touch no file."""
    (tmp_path / "demo-shop").mkdir()
    (tmp_path / "demo-shop" / "thanks.subject.j2").write_text("専用 {{ order_id }}")
    renderer = JinjaRenderer(tmp_path)
    first = renderer.render("thanks", shop_id="demo-shop", context=context())
    (tmp_path / "demo-shop" / "thanks.subject.j2").unlink()
    (tmp_path / "thanks.html.j2").write_text("added later")
    again = renderer.render("thanks", shop_id="demo-shop", context=context())
    assert again == first and first.subject == "専用 ord-0001" and "added later" not in (again.html or "")
