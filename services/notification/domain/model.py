"""What the notification service knows: completed orders, shops (a projection) and the mail log.

A `Mail` is one row of the mail log and a small state machine (design I3):

    pending --claim--> sending --accepted--> sent
       ^                  |--temporary failure, attempts left--> pending (next_attempt_at = backoff)
       |                  |--permanent failure / attempts used up--> failed
       |                  |--the shop switched this kind of mail off--> suppressed (no SMTP, no event)
       |                  \\--no address for the buyer of a card notice, waited in vain--> unsendable (same)
       \\-- a `sending` mail whose lease ran out (its worker died) is claimed again

The row of an order's original mail of each kind (`kinds.py`) is the dedupe key: it is written before any SMTP
conversation, so a redelivered event finds it and sends nothing. A resend is a new mail (`resend_of`).
Pure: time and ids are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.notification.domain.errors import InvalidTransition
from services.notification.domain.kinds import FAILED_RENEWAL_KINDS, ORDER_KINDS, SKIPPED_RENEWAL_KINDS
from services.notification.domain.kinds import KINDS as KINDS  # named here too, beside the model that checks it


class MailStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    UNSENDABLE = "unsendable"


@dataclass(frozen=True, kw_only=True)
class ShopProfile:
    """The local projection of one shop's settings: what the mails need (R23)."""

    shop_id: str
    shop_name: str
    sender_address: str
    sender_name: str
    shop_copy_address: str
    payment_method_name: str | None = None
    note_text: str = ""
    note_in_thanks_mail: bool = False
    notify_buyer_on_failure: bool = True
    """`renewal.notify_buyer_on_failure`: the buyer hears of a failed or skipped renewal (default on)."""
    notify_card_changes: bool = True
    """`notify_card_changes`: the buyer hears of a replaced, removed or expiring stored card (default on)."""

    @property
    def thanks_note(self) -> str | None:
        """The card note, only when the shop switched on "include in thanks mail" and wrote one."""
        return self.note_text if self.note_in_thanks_mail and self.note_text.strip() else None


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    sku: str
    name: str
    unit_price: int
    quantity: int

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class ExtraFee:
    name: str
    amount: int


@dataclass(frozen=True, kw_only=True)
class ShippingAddress:
    recipient_name: str
    postal_code: str
    prefecture: str
    city: str
    address_line1: str
    address_line2: str = ""
    phone: str | None = None
    fee: int = 0


@dataclass(frozen=True, kw_only=True)
class CompletedOrder:
    """A completed order as the mails show it (money in integer yen, dates in JST)."""

    order_id: str
    shop_id: str
    payment_number: str
    order_date: date
    buyer_name: str
    buyer_email: str
    shipping: ShippingAddress
    lines: tuple[OrderLine, ...]
    fees: tuple[ExtraFee, ...]
    total: int
    payment_method_name: str
    pay_type: str
    subscription_every: int | None = None
    subscription_unit: str | None = None
    origin: str = "checkout"
    payment_status: str = "authorized"
    payment_skip_reason: str | None = None
    subscription_id: str | None = None
    cycle_no: int | None = None

    @property
    def payment_skipped(self) -> bool:
        """R21: a renewal order completed without authorization (no gateway call, `payment_skip_reason` says why)."""
        return self.payment_status == "skipped"

    @property
    def mail_kinds(self) -> tuple[str, ...]:
        """The thanks mail and the shop copy (R23), plus the skip notices when the payment was skipped (R21)."""
        return (*ORDER_KINDS, *SKIPPED_RENEWAL_KINDS) if self.payment_skipped else ORDER_KINDS

    def makes(self, kind: str) -> bool:
        """Whether a `kind` mail can be composed from this order (a resend too)."""
        return kind in ORDER_KINDS or (kind in SKIPPED_RENEWAL_KINDS and self.payment_skipped)


@dataclass(frozen=True, kw_only=True)
class FailedRenewal:
    """A renewal order whose authorization was declined (R22): the order exists, flagged; it gets no thanks mail,
    but a notice to the shop and (switchable) one to the buyer. Never card data, only the reason and the R16
    message (`buyer_message`) the buyer may read."""

    order_id: str
    shop_id: str
    payment_number: str
    order_date: date
    buyer_name: str
    buyer_email: str
    total: int
    reason_code: str
    reason: str
    buyer_message: str | None = None
    subscription_id: str | None = None
    cycle_no: int | None = None

    @property
    def mail_kinds(self) -> tuple[str, ...]:
        return FAILED_RENEWAL_KINDS

    def makes(self, kind: str) -> bool:
        return kind in FAILED_RENEWAL_KINDS


MailedOrder = CompletedOrder | FailedRenewal
"""What an order's mails are composed from: a completed order, or a renewal whose payment failed."""


@dataclass(frozen=True, kw_only=True)
class MailContent:
    """What is sent: rendered once, before the first attempt, so every retry sends the same bytes."""

    sender_address: str
    sender_name: str
    recipient: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff between attempts; after `max_attempts` tries the mail is `failed`."""

    max_attempts: int = 8
    backoff_initial_s: float = 5.0
    backoff_max_s: float = 600.0

    def delay(self, attempts: int) -> timedelta:
        seconds = min(self.backoff_initial_s * 2 ** max(attempts - 1, 0), self.backoff_max_s)
        return timedelta(seconds=seconds)


@dataclass(frozen=True, kw_only=True)
class Mail:
    """One mail log row (see the module docstring for its states)."""

    mail_id: str
    order_id: str
    shop_id: str
    kind: str
    message_id: str
    created_at: datetime
    status: MailStatus = MailStatus.PENDING
    recipient: str | None = None
    resend_of: str | None = None
    content: MailContent | None = None
    attempts: int = 0
    recoveries: int = 0
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    last_error: str | None = None
    smtp_response: str | None = None
    permanent_failure: bool = False
    sent_at: datetime | None = None
    trace: str | None = None
    """Opaque to the domain: the W3C `traceparent` of the work that recorded the mail, so its SMTP conversation,
    run later by the dispatcher, continues that trace (`delivery.tracing`). None when tracing is off."""

    @property
    def is_resend(self) -> bool:
        return self.resend_of is not None


@dataclass(frozen=True)
class MailDelivered:
    """Domain event: the SMTP server accepted the mail."""

    mail: Mail


@dataclass(frozen=True)
class MailGaveUp:
    """Domain event: the mail ended `failed` (permanently refused, invalid, or out of attempts)."""

    mail: Mail
    permanent: bool


MailOutcome = MailDelivered | MailGaveUp


@dataclass(frozen=True)
class Transition:
    """A mail after a decision, plus the outcome event to publish (None while it is still in flight)."""

    mail: Mail
    outcome: MailOutcome | None = field(default=None)


def new_mail(*, mail_id: str, order_id: str, shop_id: str, kind: str, message_id: str, now: datetime,
             recipient: str | None = None, resend_of: str | None = None) -> Mail:
    """A mail to send as soon as possible; `recipient` is preset for thanks mails and operator resends."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    return Mail(mail_id=mail_id, order_id=order_id, shop_id=shop_id, kind=kind, message_id=message_id,
                created_at=now, recipient=recipient, resend_of=resend_of, next_attempt_at=now)


def claim(mail: Mail, *, now: datetime, lease: timedelta) -> Mail:
    """Take a due mail for one attempt. Reclaiming an expired `sending` lease counts a recovery: the dead
    worker may have been between the server's acceptance and its log commit (the duplicate window)."""
    if mail.status is MailStatus.SENDING:
        if mail.lease_until is not None and mail.lease_until > now:
            raise InvalidTransition(f"mail {mail.mail_id} is being sent (lease until {mail.lease_until})")
        mail = replace(mail, recoveries=mail.recoveries + 1)
    elif mail.status is not MailStatus.PENDING:
        raise InvalidTransition(f"mail {mail.mail_id} is {mail.status.value}, not pending")
    return replace(mail, status=MailStatus.SENDING, attempts=mail.attempts + 1, lease_until=now + lease)


def with_content(mail: Mail, content: MailContent) -> Mail:
    _require(mail, MailStatus.SENDING)
    return replace(mail, content=content, recipient=content.recipient)


def delivered(mail: Mail, *, reply: str, now: datetime) -> Transition:
    _require(mail, MailStatus.SENDING)
    done = replace(mail, status=MailStatus.SENT, sent_at=now, smtp_response=reply, lease_until=None,
                   last_error=None)
    return Transition(done, MailDelivered(done))


def not_delivered(mail: Mail, *, error: str, permanent: bool, now: datetime, policy: RetryPolicy,
                  smtp_response: str | None = None) -> Transition:
    """A failed attempt: retried later while temporary and attempts remain, else `failed` with the reason."""
    _require(mail, MailStatus.SENDING)
    if not permanent and mail.attempts < policy.max_attempts:
        again = replace(mail, status=MailStatus.PENDING, last_error=error, smtp_response=smtp_response,
                        next_attempt_at=now + policy.delay(mail.attempts), lease_until=None)
        return Transition(again)
    reason = error if permanent else f"gave up after {mail.attempts} attempts: {error}"
    failed = replace(mail, status=MailStatus.FAILED, last_error=reason, smtp_response=smtp_response,
                     permanent_failure=permanent, lease_until=None)
    return Transition(failed, MailGaveUp(failed, permanent))


def suppressed(mail: Mail, *, reason: str) -> Transition:
    """A claimed mail the shop does not want sent (its switch is off): final, no SMTP, no outcome event; the row
    stays, so a redelivered event cannot bring the mail back, and the reason is in the log."""
    _require(mail, MailStatus.SENDING)
    return Transition(replace(mail, status=MailStatus.SUPPRESSED, last_error=reason, lease_until=None))


def unsendable(mail: Mail, *, reason: str) -> Transition:
    """A claimed mail with nobody to send it to (no address of the member is known): final, no SMTP, no outcome
    event, the reason in the log; an operator may resend it to an address they give."""
    _require(mail, MailStatus.SENDING)
    return Transition(replace(mail, status=MailStatus.UNSENDABLE, last_error=reason, lease_until=None))


def _require(mail: Mail, status: MailStatus) -> None:
    if mail.status is not status:
        raise InvalidTransition(f"mail {mail.mail_id} is {mail.status.value}, expected {status.value}")
