"""Notification's own metrics (beside `delivery.metrics`), read from the mail log at each scrape: mails not yet
sent (`pending`: waiting or backing off, `sending`: in an SMTP conversation or leased by a crashed one) and
mails that gave up and were not resent (`failed`: resend through the operator API), and how long the oldest
unsent mail has waited. `unsendable` card notices (no address of the member known; resend to a given address) are
counted like `failed`. `suppressed` mails (a buyer's notice the shop switched off) are final and not counted."""

from __future__ import annotations

from delivery.metrics import watch_counts, watch_value
from delivery.service import ServiceRuntime

# A failed mail an operator has resent is carried on by its resend row (counted by that row's own status).
_BY_STATUS = """
SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'sending') AS sending,
       count(*) FILTER (WHERE status = 'failed'
                        AND NOT EXISTS (SELECT 1 FROM mails r WHERE r.resend_of = m.mail_id)) AS failed,
       count(*) FILTER (WHERE status = 'unsendable'
                        AND NOT EXISTS (SELECT 1 FROM mails r WHERE r.resend_of = m.mail_id)) AS unsendable
FROM mails m WHERE status <> 'sent'
"""
_OLDEST_UNSENT = "SELECT extract(epoch FROM now() - min(created_at)) FROM mails WHERE status IN ('pending', 'sending')"


def watch_mails(runtime: ServiceRuntime) -> None:
    watch_counts(runtime.metrics, runtime, name="notification_mails", label="status",
                 query=_BY_STATUS, documentation="Mails in the log that are not sent, by status.")
    watch_value(runtime.metrics, runtime, name="notification_oldest_unsent_mail_seconds",
                query=_OLDEST_UNSENT, documentation="Age of the oldest pending or sending mail (0: none).")
