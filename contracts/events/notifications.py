"""Mail outcomes from the notification service on `notifications.events` (key = order id, R23, I3).

Each completed order gets a `thanks` mail to the buyer and a `shop_copy` (受注通知) to the shop; each mail
ends in `MailSent` or, after its retries, `MailFailed` (an operator may resend, which is a new mail).

The renewal notices (a failed or skipped renewal, R21/R22) are mails of kinds v1 does not know: they are
announced as `mail.sent.v2` / `mail.failed.v2`, the same shape with the wider `kind`, so a consumer written for
v1 never receives a kind it cannot parse. Order mails (`thanks`, `shop_copy`) stay on v1.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from contracts.events.base import Event
from contracts.topics import NOTIFICATIONS_EVENTS
from contracts.types import Identifier, MailKind, NonEmptyStr, OrderMailKind, UtcDatetime


class MailEvent(Event):
    """Fields every mail event has. Not an event type itself."""

    TOPIC: ClassVar[str] = NOTIFICATIONS_EVENTS
    KEY_FIELD: ClassVar[str] = "order_id"

    order_id: Identifier
    shop_id: Identifier
    mail_id: Identifier = Field(description="The mail log row; a resend is a new mail id.")
    kind: OrderMailKind
    recipient: NonEmptyStr
    attempts: int = Field(ge=1)
    resend: bool = False


class MailSent(MailEvent):
    """The SMTP server accepted the mail."""

    TYPE: ClassVar[str] = "mail.sent.v1"

    message_id: NonEmptyStr = Field(description="The deterministic Message-ID header of the mail.")
    sent_at: UtcDatetime
    smtp_response: str | None = None


class MailFailed(MailEvent):
    """The mail could not be delivered after its retries (or was refused permanently)."""

    TYPE: ClassVar[str] = "mail.failed.v1"

    last_error: NonEmptyStr
    permanent: bool = Field(description="True when the server refused permanently (5xx), not a retry limit.")


class MailSentV2(MailSent):
    """`MailSent` for every kind of mail, the renewal notices included."""

    TYPE: ClassVar[str] = "mail.sent.v2"

    kind: MailKind  # type: ignore[assignment]


class MailFailedV2(MailFailed):
    """`MailFailed` for every kind of mail, the renewal notices included."""

    TYPE: ClassVar[str] = "mail.failed.v2"

    kind: MailKind  # type: ignore[assignment]
