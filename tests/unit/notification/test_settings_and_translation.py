"""Settings from the environment, and the contract <-> domain mapping of the notification service."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from contracts.events import MailFailed, MailSent
from services.notification import translate
from services.notification.domain.model import MailDelivered, MailGaveUp, MailStatus, new_mail
from services.notification.settings import NotificationSettings
from tests.unit.contracts import samples


def test_settings_come_from_notification_prefixed_variables(monkeypatch):
    monkeypatch.setenv("NOTIFICATION_SMTP__HOST", "smtp.example.jp")
    monkeypatch.setenv("NOTIFICATION_SMTP__PORT", "587")
    monkeypatch.setenv("NOTIFICATION_SMTP__SECURITY", "starttls")
    monkeypatch.setenv("NOTIFICATION_SMTP__PASSWORD", "s3cret")
    monkeypatch.setenv("NOTIFICATION_DISPATCH__MAX_ATTEMPTS", "3")
    monkeypatch.setenv("NOTIFICATION_INTERNAL_TOKEN", "internal-op")
    settings = NotificationSettings()
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.security) == ("smtp.example.jp", 587, "starttls")
    assert settings.dispatch.max_attempts == 3 and "s3cret" not in repr(settings)
    assert settings.internal_token.get_secret_value() == "internal-op" and not settings.uses_dev_secrets
    assert "internal-op" not in repr(settings)


def test_the_lease_must_outlive_a_whole_smtp_conversation():
    with pytest.raises(ValidationError, match="sending_lease_s"):
        NotificationSettings(smtp={"send_timeout_s": 30}, dispatch={"sending_lease_s": 10})


def test_shop_settings_become_the_projection_and_no_card_method_means_no_note():
    event = samples.shop_settings_changed()
    shop = translate.shop_from_contract(event)
    assert (shop.payment_method_name, shop.thanks_note, shop.shop_copy_address) == (
        "クレジットカード決済", "VISA/Master 利用可", "orders@example.jp")
    bare = translate.shop_from_contract(event.model_copy(update={"card": None}))
    assert bare.payment_method_name is None and bare.thanks_note is None


def test_outcomes_become_mail_sent_and_mail_failed():
    mail = new_mail(mail_id="4264f206-499b-57b4-9023-1ea7afee9886", order_id="o-1", shop_id="s-1",
                    kind="shop_copy", message_id="<m@x>", now=datetime(2025, 1, 1, tzinfo=UTC))
    sent = replace(mail, status=MailStatus.SENT, recipient="orders@example.jp", attempts=2, sent_at=mail.created_at,
                   smtp_response="250 ok")
    event = translate.outcome_to_contract(MailDelivered(sent))
    assert isinstance(event, MailSent) and (event.attempts, event.message_id, event.resend) == (2, "<m@x>", False)
    failed = translate.outcome_to_contract(MailGaveUp(mail, permanent=False))
    assert isinstance(failed, MailFailed) and failed.recipient == translate.UNKNOWN_RECIPIENT
    assert failed.attempts == 1 and not failed.permanent
