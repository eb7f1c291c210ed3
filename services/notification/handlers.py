"""The notification use cases. Each is a short unit of work; the SMTP conversation happens between two units,
never inside one (design §6.3):

1. `record_completed_order` (inside the consumer's inbox transaction): the order snapshot and its two mail
   rows, `pending`. A redelivered event finds the rows (unique per order and kind) and adds nothing.
2. `claim_due_mails` (unit 1 of a send): due mails become `sending` with a lease; the first time, their
   content is rendered and stored, or they wait for the shop's settings, or fail with a reason.
3. `deliver` (SMTP, then unit 2): `sent` + `MailSent`, or back to `pending` with backoff, or `failed` +
   `MailFailed`. A crash between the server's acceptance and unit 2 leaves the row `sending`; after its
   lease it is sent again with the same Message-ID: that is the only duplicate window.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.notification.domain.compose import (
    check_address,
    message_id_for,
    original_mail_id,
    recipient_for,
    resend_mail_id,
    sender_name,
    template_context,
)
from services.notification.domain.errors import InvalidAddress, ResendConflict
from services.notification.domain.model import (
    KINDS,
    CompletedOrder,
    Mail,
    MailContent,
    MailStatus,
    RetryPolicy,
    ShopProfile,
    Transition,
    claim,
    delivered,
    new_mail,
    not_delivered,
    with_content,
)
from services.notification.ports import (
    Clock,
    MailLog,
    MailTransport,
    OrderSource,
    OutgoingMail,
    Renderer,
    RenderError,
    SendResult,
    UnitOfWork,
)

log = logging.getLogger(__name__)
RECORD_TRIES = 6


@dataclass(frozen=True)
class DispatchRules:
    retry: RetryPolicy
    lease: timedelta
    message_id_domain: str


class NotificationHandlers:
    def __init__(self, *, uow: UnitOfWork, renderer: Renderer, transport: MailTransport, clock: Clock,
                 rules: DispatchRules):
        self.uow = uow
        self._renderer = renderer
        self._transport = transport
        self._clock = clock
        self._rules = rules

    # -- inbound events ------------------------------------------------------------------------------
    async def record_completed_order(self, log_: MailLog, order: CompletedOrder, *, source: OrderSource,
                                     snapshot: dict[str, Any]) -> int:
        """Both mails of a completed order, written once; returns how many rows are new (0 on a repeat)."""
        now = self._clock.now()
        await log_.add_order(order_id=order.order_id, shop_id=order.shop_id, source=source, snapshot=snapshot)
        created = 0
        for kind in KINDS:
            mail_id = original_mail_id(order.order_id, kind)
            mail = new_mail(mail_id=mail_id, order_id=order.order_id, shop_id=order.shop_id, kind=kind,
                            message_id=message_id_for(mail_id, self._rules.message_id_domain), now=now,
                            recipient=order.buyer_email if kind == "thanks" else None)
            created += await log_.add_mail(mail)
        return created

    async def update_shop(self, log_: MailLog, shop: ShopProfile, *, as_of: datetime) -> None:
        """Keep the newest snapshot; mails that waited for this shop are tried again at once."""
        if await log_.save_shop(shop, as_of=as_of):
            await log_.retry_waiting_for_shop(shop.shop_id, now=self._clock.now())

    # -- sending ---------------------------------------------------------------------------------------
    async def claim_due_mails(self, *, limit: int) -> list[Mail]:
        """Unit 1: claim due mails and prepare them; returns those ready for an SMTP conversation."""
        ready: list[Mail] = []
        async with self.uow() as log_:
            now = self._clock.now()
            for row in await log_.claim_due(now=now, limit=limit):
                step = await self._prepare_or_fail(log_, claim(row, now=now, lease=self._rules.lease), now)
                await log_.save_mail(step.mail)
                if step.outcome is not None:
                    await log_.publish(step.outcome)
                if step.mail.status is MailStatus.SENDING:
                    ready.append(step.mail)
        return ready

    async def _prepare_or_fail(self, log_: MailLog, mail: Mail, now: datetime) -> Transition:
        """One poisoned row (say, a snapshot no longer readable) must not roll back and block every other mail."""
        try:
            return await self._prepare(log_, mail, now)
        except Exception as exc:
            log.exception("mail %s: preparing it failed", mail.mail_id)
            return not_delivered(mail, error=f"cannot prepare the mail: {type(exc).__name__}: {exc}",
                                 permanent=True, now=now, policy=self._rules.retry)

    async def _prepare(self, log_: MailLog, mail: Mail, now: datetime) -> Transition:
        if mail.content is not None:
            return Transition(mail)
        order = await log_.order(mail.order_id)
        shop = await log_.shop(mail.shop_id)
        if order is None or shop is None:
            missing = "order" if order is None else f"settings of shop {mail.shop_id!r}"
            return not_delivered(mail, error=f"no {missing} received yet", permanent=False, now=now,
                                 policy=self._rules.retry)
        try:
            content = self._compose(mail, order, shop)
        except (InvalidAddress, RenderError) as exc:
            return not_delivered(mail, error=str(exc), permanent=True, now=now, policy=self._rules.retry)
        return Transition(with_content(mail, content))

    def _compose(self, mail: Mail, order: CompletedOrder, shop: ShopProfile) -> MailContent:
        recipient = check_address(recipient_for(mail, order, shop))
        sender = check_address(shop.sender_address)
        rendered = self._renderer.render(mail.kind, shop_id=shop.shop_id, context=template_context(order, shop))
        reply_to = _valid_or_none(order.buyer_email) if mail.kind == "shop_copy" else None
        return MailContent(sender_address=sender, sender_name=sender_name(shop), recipient=recipient,
                           subject=rendered.subject, text=rendered.text, html=rendered.html, reply_to=reply_to)

    async def deliver(self, mail: Mail) -> Transition:
        """The SMTP conversation of one claimed mail, then unit 2 (retried: a lost mark is a duplicate)."""
        assert mail.content is not None
        result = await self._transport.send(_outgoing(mail))
        step = self._after_send(mail, result)
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                await self._record(step, expected_attempts=mail.attempts)
                return step
            except Exception:
                if attempt == RECORD_TRIES:
                    raise
                log.warning("mail %s: recording the SMTP result failed (try %d); retrying", mail.mail_id, attempt,
                            exc_info=True)
                await asyncio.sleep(0.2 * 2**attempt)
        return step

    def _after_send(self, mail: Mail, result: SendResult) -> Transition:
        now = self._clock.now()
        if result.status == "accepted":
            return delivered(mail, reply=result.detail, now=now)
        return not_delivered(mail, error=result.detail, permanent=result.status == "permanent", now=now,
                             policy=self._rules.retry, smtp_response=result.detail)

    async def _record(self, step: Transition, *, expected_attempts: int) -> None:
        async with self.uow() as log_:
            if not await log_.save_mail(step.mail, expected_attempts=expected_attempts):
                log.warning("mail %s: taken over by another worker while sending (lease expired)",
                            step.mail.mail_id)
                return
            if step.outcome is not None:
                await log_.publish(step.outcome)

    # -- operator --------------------------------------------------------------------------------------
    async def resend(self, *, shop_id: str, mail_id: str, recipient: str | None = None,
                     idempotency_key: str | None = None) -> Mail | None:
        """A new, logged mail of the same kind for the same order (None if the shop has no such mail).

        Without `recipient` the current settings decide (buyer's address, shop copy address), so fixing the
        shop's settings and resending is the cure for a mail that failed on a bad address. With an
        `idempotency_key`, repeating the request returns the first resend instead of sending another
        (`ResendConflict` if that one went to another recipient).
        """
        if recipient is not None:
            recipient = check_address(recipient)
        async with self.uow() as log_:
            original = await log_.get_mail(mail_id)
            if original is None or original.shop_id != shop_id:
                return None
            new_id = resend_mail_id(original.mail_id, idempotency_key)
            mail = new_mail(mail_id=new_id, order_id=original.order_id, shop_id=shop_id, kind=original.kind,
                            message_id=message_id_for(new_id, self._rules.message_id_domain),
                            now=self._clock.now(), recipient=recipient, resend_of=original.mail_id)
            if await log_.add_mail(mail):
                return mail
            earlier = await log_.get_mail(new_id)
        assert earlier is not None  # the insert conflicted on this very id
        if recipient is not None and earlier.recipient != recipient:
            raise ResendConflict(f"idempotency key already used to resend mail {mail_id} to another recipient")
        return earlier


def _valid_or_none(address: str) -> str | None:
    """The shop copy's Reply-To (the buyer) is a convenience: a bad buyer address must not stop the copy."""
    try:
        return check_address(address)
    except InvalidAddress:
        return None


def _outgoing(mail: Mail) -> OutgoingMail:
    assert mail.content is not None
    headers = {"X-Order-Id": mail.order_id, "X-Mail-Kind": mail.kind}
    return OutgoingMail(content=mail.content, message_id=mail.message_id, date=mail.created_at, headers=headers)
