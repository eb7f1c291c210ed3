"""What the operator API asks of the mail log: read it, resend a mail."""

from __future__ import annotations

from delivery.envelopes import Inbound
from delivery.idempotency import IdempotencyKeyReused
from services.notification.domain.compose import check_address, message_id_for, resend_mail_id
from services.notification.domain.errors import ResendConflict
from services.notification.domain.model import Mail, new_mail
from services.notification.handlers.deps import Deps
from services.notification.ports import NotificationUnitOfWork


async def list_mails(deps: Deps, *, shop_id: str, order_id: str | None = None, status: str | None = None,
                     limit: int = 100) -> list[Mail]:
    """The shop's mails (of one order, in one status), newest first."""
    async with deps.uow() as uow:
        return await uow.mail_log.list_mails(shop_id=shop_id, order_id=order_id, status=status, limit=limit)


async def find_mail(deps: Deps, *, shop_id: str, mail_id: str) -> Mail | None:
    """One mail of the shop; None for another shop's mail, as for none at all (I6)."""
    async with deps.uow() as uow:
        mail = await uow.mail_log.get_mail(mail_id)
    return mail if mail is not None and mail.shop_id == shop_id else None


async def resend_mail(deps: Deps, *, shop_id: str, mail_id: str, recipient: str | None = None,
                      idempotency_key: str | None = None, inbound: Inbound | None = None) -> Mail | None:
    """A new, logged mail of the same kind for the same order (None if the shop has no such mail).

    Without `recipient` the current settings decide (buyer's address, shop copy address), so fixing the
    shop's settings and resending is the cure for a mail that failed on a bad address. With an
    `idempotency_key` (scoped to the mail resent), repeating the request with the same body returns the first
    resend instead of sending another; the same key with another body (another or no `recipient`) is a
    `ResendConflict` naming the field. `InvalidAddress` for an impossible recipient.
    An operator's HTTP call has no `inbound`; a redelivered command would apply nothing (None).
    """
    if recipient is not None:
        recipient = check_address(recipient)
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return None
        original = await uow.mail_log.get_mail(mail_id)
        if original is None or original.shop_id != shop_id:
            return None
        if idempotency_key is not None:
            await _claim_key(uow, f"{shop_id}/{original.mail_id}/{idempotency_key}", recipient)
        new_id = resend_mail_id(original.mail_id, idempotency_key)
        mail = new_mail(mail_id=new_id, order_id=original.order_id, shop_id=shop_id, kind=original.kind,
                        message_id=message_id_for(new_id, deps.rules.message_id_domain),
                        now=deps.clock.now(), recipient=recipient, resend_of=original.mail_id)
        created = await uow.mail_log.add_mail(mail)
        earlier = mail if created else await uow.mail_log.get_mail(new_id)
    if created:
        deps.wakeup.wake()
        return mail
    assert earlier is not None  # the insert conflicted on this very id
    if recipient is not None and earlier.recipient != recipient:  # a key claimed before issue 14 (no body kept)
        raise ResendConflict(f"idempotency key already used to resend mail {mail_id} to another recipient",
                             fields=["recipient"])
    return earlier


async def _claim_key(uow: NotificationUnitOfWork, key: str, recipient: str | None) -> None:
    """Issue 14: the key remembers the request's body (`recipient`, absent or given), so a repeat with another
    body is a `ResendConflict` naming it, whichever way round (given then absent included)."""
    try:
        await uow.claim_key("resend", key, {"recipient": recipient})
    except IdempotencyKeyReused as exc:
        raise ResendConflict(f"idempotency key already used to resend this mail with another {', '.join(exc.fields)}",
                             fields=exc.fields) from None
