"""Composing a claimed mail the first time it is tried: recipient, sender, rendered templates. The content is
stored with the mail, so every retry sends the same bytes (and a resend composes with the current settings).
A buyer's renewal or card notice the shop switched off is `suppressed` here, with the shop's settings at hand; a
card notice is addressed here from the member's latest known address (it waits for one, then is `unsendable`)."""

from __future__ import annotations

from datetime import datetime

from delivery.logs import get_logger
from services.notification import translate
from services.notification.domain.compose import (
    check_address,
    context_for,
    recipient_for,
    sender_name,
    suppression,
)
from services.notification.domain.errors import InvalidAddress
from services.notification.domain.kinds import to_buyer
from services.notification.domain.model import (
    Mail,
    MailContent,
    ShopProfile,
    Transition,
    not_delivered,
    suppressed,
    with_content,
)
from services.notification.domain.notices import CardNotice, MailSubject, without_address
from services.notification.handlers.deps import Deps
from services.notification.ports import MailLog, OutgoingMail, RenderError

log = get_logger(__name__)


async def prepare_mail(deps: Deps, mail_log: MailLog, mail: Mail, *, now: datetime) -> Transition:
    """A claimed mail ready to send, waiting for what it lacks, or failed with the reason. One poisoned row (say,
    a snapshot no longer readable) fails alone: it must not roll back and block every other mail."""
    try:
        return await _prepare(deps, mail_log, mail, now=now)
    except Exception as exc:
        log.exception("mail.prepare_failed", mail_id=mail.mail_id)
        return not_delivered(mail, error=f"cannot prepare the mail: {type(exc).__name__}: {exc}", permanent=True,
                             now=now, policy=deps.rules.retry)


async def _prepare(deps: Deps, mail_log: MailLog, mail: Mail, *, now: datetime) -> Transition:
    if mail.content is not None:
        return Transition(mail)
    snapshot = await mail_log.order_snapshot(mail.order_id)
    order = translate.order_from_snapshot(snapshot) if snapshot is not None else None
    shop = await mail_log.shop(mail.shop_id)
    if order is None or shop is None:
        missing = "order" if order is None else f"settings of shop {mail.shop_id!r}"
        return not_delivered(mail, error=f"no {missing} received yet", permanent=False, now=now,
                             policy=deps.rules.retry)
    refused = _not_to_send(deps, mail, order=order, shop=shop, now=now)
    if refused is not None:
        return refused
    if isinstance(order, CardNotice):
        contact = await mail_log.member_contact(order.shop_id, order.member_id)
        if contact is None and not mail.recipient:
            return without_address(mail, notice=order, now=now, policy=deps.rules.retry)
        order = order.addressed(contact)
    try:
        content = _compose(deps, mail, order=order, shop=shop)
    except (InvalidAddress, RenderError) as exc:
        return not_delivered(mail, error=str(exc), permanent=True, now=now, policy=deps.rules.retry)
    return Transition(with_content(mail, content))


def _not_to_send(deps: Deps, mail: Mail, *, order: MailSubject, shop: ShopProfile,
                 now: datetime) -> Transition | None:
    """A mail the order cannot make (a thanks mail of a failed renewal: the order's kept event is another one)
    fails with the reason; a buyer's notice the shop switched off is suppressed; None for a mail to compose."""
    if not order.makes(mail.kind):
        error = f"a {mail.kind} mail cannot be made from order {mail.order_id!r}: it is a {type(order).__name__}"
        return not_delivered(mail, error=error, permanent=True, now=now, policy=deps.rules.retry)
    reason = suppression(mail, shop)
    if reason is not None:
        log.info("mail.suppressed", mail_id=mail.mail_id, order_id=mail.order_id, kind=mail.kind)
        return suppressed(mail, reason=reason)
    return None


def _compose(deps: Deps, mail: Mail, *, order: MailSubject, shop: ShopProfile) -> MailContent:
    recipient = check_address(recipient_for(mail, order, shop))
    sender = check_address(shop.sender_address)
    rendered = deps.renderer.render(mail.kind, shop_id=shop.shop_id, context=context_for(order, shop))
    reply_to = None if to_buyer(mail.kind) else _valid_or_none(order.buyer_email)
    return MailContent(sender_address=sender, sender_name=sender_name(shop), recipient=recipient,
                       subject=rendered.subject, text=rendered.text, html=rendered.html, reply_to=reply_to)


def _valid_or_none(address: str) -> str | None:
    """The Reply-To of the shop's mails (the buyer) is a convenience: a bad buyer address must not stop them."""
    try:
        return check_address(address)
    except InvalidAddress:
        return None


def outgoing(mail: Mail) -> OutgoingMail:
    """A composed mail as SMTP sends it: `Date` is its creation, so a retry sends the same bytes."""
    assert mail.content is not None
    headers = {"X-Order-Id": mail.order_id, "X-Mail-Kind": mail.kind}
    return OutgoingMail(content=mail.content, message_id=mail.message_id, date=mail.created_at, headers=headers)
