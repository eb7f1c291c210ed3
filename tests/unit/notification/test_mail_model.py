"""The mail state machine (domain, pure): claim, leases and recoveries, delivery, retries and giving up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notification.domain.errors import InvalidTransition
from services.notification.domain.model import (
    MailContent,
    MailDelivered,
    MailGaveUp,
    MailStatus,
    RetryPolicy,
    claim,
    delivered,
    new_mail,
    not_delivered,
    with_content,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)
LEASE = timedelta(seconds=60)
POLICY = RetryPolicy(max_attempts=3, backoff_initial_s=5, backoff_max_s=12)
CONTENT = MailContent(sender_address="shop@example.jp", sender_name="店", recipient="taro@example.jp", subject="件名",
                      text="本文")


def mail(**kwargs):
    return new_mail(mail_id="m-1", order_id="o-1", shop_id="s-1", kind="thanks", message_id="<m-1@x>", now=NOW,
                    **kwargs)


def test_a_new_mail_is_pending_and_due_now():
    m = mail()
    assert (m.status, m.next_attempt_at, m.attempts) == (MailStatus.PENDING, NOW, 0)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        new_mail(mail_id="m", order_id="o", shop_id="s", kind="newsletter", message_id="<m@x>", now=NOW)


def test_claiming_counts_an_attempt_and_takes_a_lease():
    m = claim(mail(), now=NOW, lease=LEASE)
    assert (m.status, m.attempts, m.lease_until, m.recoveries) == (MailStatus.SENDING, 1, NOW + LEASE, 0)


def test_a_mail_being_sent_cannot_be_claimed_before_its_lease_ends():
    m = claim(mail(), now=NOW, lease=LEASE)
    with pytest.raises(InvalidTransition):
        claim(m, now=NOW + LEASE / 2, lease=LEASE)


def test_reclaiming_an_expired_lease_counts_a_recovery_the_possible_duplicate():
    m = claim(claim(mail(), now=NOW, lease=LEASE), now=NOW + LEASE, lease=LEASE)
    assert (m.attempts, m.recoveries) == (2, 1)


def test_accepted_mail_is_sent_with_the_reply_and_an_outcome():
    step = delivered(with_content(claim(mail(), now=NOW, lease=LEASE), CONTENT), reply="250 ok", now=NOW)
    assert step.mail.status is MailStatus.SENT and step.mail.smtp_response == "250 ok"
    assert isinstance(step.outcome, MailDelivered) and step.mail.recipient == "taro@example.jp"


def test_a_temporary_failure_waits_with_exponential_backoff_capped():
    m = claim(mail(), now=NOW, lease=LEASE)
    step = not_delivered(m, error="451", permanent=False, now=NOW, policy=POLICY)
    assert step.outcome is None and step.mail.status is MailStatus.PENDING
    assert step.mail.next_attempt_at == NOW + timedelta(seconds=5) and step.mail.lease_until is None
    assert [POLICY.delay(n).total_seconds() for n in (1, 2, 3)] == [5, 10, 12]


def test_the_last_temporary_failure_gives_up_not_permanently():
    m = mail()
    for _ in range(3):
        m = claim(m, now=NOW, lease=LEASE)
        step = not_delivered(m, error="451 busy", permanent=False, now=NOW, policy=POLICY)
        m = step.mail
    assert m.status is MailStatus.FAILED and m.last_error == "gave up after 3 attempts: 451 busy"
    assert isinstance(step.outcome, MailGaveUp) and not step.outcome.permanent


def test_a_permanent_failure_fails_at_once_with_the_reason():
    step = not_delivered(claim(mail(), now=NOW, lease=LEASE), error="550 no such user", permanent=True, now=NOW,
                         policy=POLICY)
    assert step.mail.status is MailStatus.FAILED and step.mail.last_error == "550 no such user"
    assert isinstance(step.outcome, MailGaveUp) and step.outcome.permanent and step.mail.permanent_failure


def test_a_sent_mail_cannot_be_claimed_or_failed_again():
    sent = delivered(claim(mail(), now=NOW, lease=LEASE), reply="250", now=NOW).mail
    with pytest.raises(InvalidTransition):
        claim(sent, now=NOW, lease=LEASE)
    with pytest.raises(InvalidTransition):
        not_delivered(sent, error="x", permanent=True, now=NOW, policy=POLICY)
