"""An order's mails (R23, R21, R22, I3): recorded once, before any SMTP conversation.

A completed order (a renewal too) gets the thanks mail and the shop copy, and when its payment was skipped (R21)
the two skip notices; a renewal whose payment failed (R22) gets the two failure notices and no thanks mail
(`domain/kinds.py`). Whether the buyer's notices go out is decided when they are composed (the shop's switch, as
its settings then stand), so the rows are always recorded and a redelivery finds them.

A member buyer's name and address are kept too (newest order event wins): the card notices (`cards.py`, recorded
by `record_mails` like an order's mails) are sent to them.
"""

from __future__ import annotations

from datetime import datetime

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from delivery.units import after_commit
from services.notification.domain.compose import message_id_for, original_mail_id
from services.notification.domain.kinds import to_buyer
from services.notification.domain.model import CompletedOrder, FailedRenewal, Mail, new_mail
from services.notification.domain.notices import MailSubject, MemberContact
from services.notification.handlers.deps import Deps
from services.notification.ports import MailLog, OrderSnapshot, OrderSource

log = get_logger(__name__)


async def record_completed_order(deps: Deps, order: CompletedOrder, *, source: OrderSource, snapshot: OrderSnapshot,
                                 buyer: MemberContact | None = None, inbound: Inbound | None = None) -> int:
    """The order's snapshot and its `thanks` and `shop_copy` mails (+ the skip notices of a renewal completed
    without payment), `pending`, and the member `buyer`'s contact; how many mails are new.

    0 on a repeat: a redelivered event is caught by the inbox, a re-emitted one (a new event id) by the log's
    one original mail per order and kind. The dispatcher is woken only for new mails.
    """
    return await record_mails(deps, order, source=source, snapshot=snapshot, buyer=buyer, inbound=inbound)


async def record_failed_renewal(deps: Deps, failure: FailedRenewal, *, source: OrderSource,
                                snapshot: OrderSnapshot, buyer: MemberContact | None = None,
                                inbound: Inbound | None = None) -> int:
    """A declined renewal's snapshot and its `renewal_failed_shop` and `renewal_failed_buyer` notices, `pending`,
    and the buyer's contact; how many are new (0 on a repeat, as for a completed order)."""
    return await record_mails(deps, failure, source=source, snapshot=snapshot, buyer=buyer, inbound=inbound)


async def record_mails(deps: Deps, subject: MailSubject, *, source: OrderSource, snapshot: OrderSnapshot,
                       buyer: MemberContact | None = None, inbound: Inbound | None = None) -> int:
    """The snapshot of an order (or card notice) and one original mail per kind it makes, with the inbox claim;
    a member buyer's newer contact frees the card notices waiting for it. How many mails are new."""
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return 0
        now = deps.clock.now()
        await uow.mail_log.add_order(order_id=subject.order_id, shop_id=subject.shop_id, source=source,
                                     snapshot=snapshot)
        created = await uow.mail_log.add_mails([_original(deps, subject, kind=kind, now=now)
                                                for kind in subject.mail_kinds])
        freed = await _keep_contact(uow.mail_log, buyer, now=now)
    if created or freed:
        after_commit(deps.wakeup.wake)  # in a batch: once the batch committed
    if not created:
        log.info("order.mails_already_recorded", order_id=subject.order_id)
    return created


async def _keep_contact(mail_log: MailLog, buyer: MemberContact | None, *, now: datetime) -> int:
    """Keep the member's newest contact; the card notices waiting for an address of theirs are due now."""
    if buyer is None or not await mail_log.save_member_contact(buyer):
        return 0
    return await mail_log.retry_waiting_for_member(buyer.shop_id, buyer.member_id, now=now)


def _original(deps: Deps, subject: MailSubject, *, kind: str, now: datetime) -> Mail:
    """The first `kind` mail of an order (or notice): its id derives from the order and kind, so every copy of the
    event names the same row; the buyer's mails go to the order's buyer (a card notice's is addressed when it is
    composed), the shop's to the address the shop's settings name."""
    mail_id = original_mail_id(subject.order_id, kind)
    return new_mail(mail_id=mail_id, order_id=subject.order_id, shop_id=subject.shop_id, kind=kind,
                    message_id=message_id_for(mail_id, deps.rules.message_id_domain), now=now,
                    recipient=(subject.buyer_email or None) if to_buyer(kind) else None)
