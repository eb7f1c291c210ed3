"""Which SMTP failures are retried (4xx, connection trouble, timeouts) and which fail the mail (5xx)."""

from __future__ import annotations

import aiosmtplib
import pytest

from services.notification.adapters.smtp import classify


@pytest.mark.parametrize(("error", "status"), [
    (aiosmtplib.SMTPSenderRefused(451, "try later", "a@b.jp"), "temporary"),
    (aiosmtplib.SMTPSenderRefused(554, "no", "a@b.jp"), "permanent"),
    (aiosmtplib.SMTPDataError(452, "full"), "temporary"),
    (aiosmtplib.SMTPDataError(552, "too big"), "permanent"),
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no user", "x@y.jp")]), "permanent"),
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(450, "greylisted", "x@y.jp")]),
     "temporary"),
    (aiosmtplib.SMTPConnectError("refused"), "temporary"),
    (aiosmtplib.SMTPServerDisconnected("gone"), "temporary"),
    (aiosmtplib.SMTPReadTimeoutError("slow"), "temporary"),
    (TimeoutError(), "temporary"),
    (ConnectionRefusedError(111, "refused"), "temporary"),
    (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), "temporary"),
])
def test_failures_are_classified_by_the_servers_reply(error, status):
    assert classify(error).status == status


def test_the_reason_carries_the_servers_code_and_text():
    result = classify(aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "5.1.1 no user", "x")]))
    assert result.detail == "recipient refused: 550 5.1.1 no user"
