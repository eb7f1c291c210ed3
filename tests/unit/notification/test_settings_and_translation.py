"""Settings from the environment, and the contract <-> domain mapping of the notification service."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from contracts.events import MailFailed, MailFailedV2, MailSent, MailSentV2
from contracts.events.shops import RenewalSettings
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


def test_the_shops_renewal_switch_is_projected_and_a_shop_without_card_settings_keeps_the_default():
    event = samples.shop_settings_changed()
    assert event.card is not None
    off = event.card.model_copy(update={"renewal": RenewalSettings(notify_buyer_on_failure=False)})
    assert translate.shop_from_contract(event).notify_buyer_on_failure is True
    assert translate.shop_from_contract(event.model_copy(update={"card": off})).notify_buyer_on_failure is False
    assert translate.shop_from_contract(event.model_copy(update={"card": None})).notify_buyer_on_failure is True


def test_a_completed_renewal_keeps_its_origin_payment_status_skip_reason_subscription_and_cycle():
    event = samples.order_completed().model_copy(update={
        "origin": "renewal", "cycle_no": 3, "payment_status": "skipped", "payment_skip_reason": "契約期間外"})
    order = translate.order_from_contract(event)
    assert (order.origin, order.payment_skipped, order.payment_skip_reason, order.subscription_id, order.cycle_no) == (
        "renewal", True, "契約期間外", "sub-0001", 3)
    assert order.mail_kinds == ("thanks", "shop_copy", "renewal_skipped_shop", "renewal_skipped_buyer")


def test_snapshots_read_back_as_the_event_they_were_kept_from():
    completed, failed = samples.order_completed(), samples.renewal_payment_failed()
    assert translate.order_from_snapshot(translate.order_snapshot(completed)) == translate.order_from_contract(
        completed)
    assert translate.order_from_snapshot(translate.order_snapshot(failed)) == translate.failed_renewal_from_contract(
        failed)


def test_a_snapshot_kept_before_renewals_were_mailed_reads_as_a_completed_order():
    untyped = samples.order_completed().model_dump(mode="json")
    assert translate.order_from_snapshot(untyped) == translate.order_from_contract(samples.order_completed())
    with pytest.raises(ValueError, match=r"no mails are made from a 'order\.rejected\.v1' snapshot"):
        translate.order_from_snapshot({**untyped, translate.SNAPSHOT_TYPE: "order.rejected.v1"})


@pytest.mark.parametrize(("kind", "sent_type", "failed_type"), [
    ("thanks", MailSent, MailFailed), ("shop_copy", MailSent, MailFailed),
    ("renewal_failed_buyer", MailSentV2, MailFailedV2), ("renewal_skipped_shop", MailSentV2, MailFailedV2),
])
def test_order_mails_are_announced_as_v1_and_renewal_notices_as_v2(kind, sent_type, failed_type):
    mail = new_mail(mail_id="4264f206-499b-57b4-9023-1ea7afee9886", order_id="o-1", shop_id="s-1", kind=kind,
                    message_id="<m@x>", now=datetime(2025, 1, 1, tzinfo=UTC), recipient="taro@example.jp")
    sent = replace(mail, status=MailStatus.SENT, attempts=1, sent_at=mail.created_at)
    assert type(translate.outcome_to_contract(MailDelivered(sent))) is sent_type
    assert type(translate.outcome_to_contract(MailGaveUp(mail, permanent=True))) is failed_type
