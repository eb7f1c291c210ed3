"""An order's mails (R23, R21, R22, I3): recorded once, before any SMTP conversation.

A completed order (a renewal too) gets the thanks mail and the shop copy, and when its payment was skipped (R21)
the two skip notices; a renewal whose payment failed (R22) gets the two failure notices and no thanks mail
(`domain/kinds.py`). Whether the buyer's notices go out is decided when they are composed (the shop's switch, as
its settings then stand), so the rows are always recorded and a redelivery finds them.
"""

from __future__ import annotations

from datetime import datetime

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.notification.domain.compose import message_id_for, original_mail_id
from services.notification.domain.kinds import to_buyer
from services.notification.domain.model import CompletedOrder, FailedRenewal, Mail, MailedOrder, new_mail
from services.notification.handlers.deps import Deps
from services.notification.ports import OrderSnapshot, OrderSource

log = get_logger(__name__)


async def record_completed_order(deps: Deps, order: CompletedOrder, *, source: OrderSource, snapshot: OrderSnapshot,
                                 inbound: Inbound | None = None) -> int:
    """The order's snapshot and its `thanks` and `shop_copy` mails (+ the skip notices of a renewal completed
    without payment), `pending`; how many mails are new.

    0 on a repeat: a redelivered event is caught by the inbox, a re-emitted one (a new event id) by the log's
    one original mail per order and kind. The dispatcher is woken only for new mails.
    """
    return await _record(deps, order, source=source, snapshot=snapshot, inbound=inbound)


async def record_failed_renewal(deps: Deps, failure: FailedRenewal, *, source: OrderSource,
                                snapshot: OrderSnapshot, inbound: Inbound | None = None) -> int:
    """A declined renewal's snapshot and its `renewal_failed_shop` and `renewal_failed_buyer` notices, `pending`;
    how many are new (0 on a repeat, as for a completed order)."""
    return await _record(deps, failure, source=source, snapshot=snapshot, inbound=inbound)


async def _record(deps: Deps, order: MailedOrder, *, source: OrderSource, snapshot: OrderSnapshot,
                  inbound: Inbound | None) -> int:
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return 0
        now = deps.clock.now()
        await uow.mail_log.add_order(order_id=order.order_id, shop_id=order.shop_id, source=source,
                                     snapshot=snapshot)
        created = 0
        for kind in order.mail_kinds:
            created += await uow.mail_log.add_mail(_original(deps, order, kind=kind, now=now))
    if created:
        deps.wakeup.wake()
    else:
        log.info("order.mails_already_recorded", order_id=order.order_id)
    return created


def _original(deps: Deps, order: MailedOrder, *, kind: str, now: datetime) -> Mail:
    """The order's first `kind` mail: its id derives from the order and kind, so every copy of the event names
    the same row; the buyer's mails go to the order's buyer, the shop's to the address the shop's settings name."""
    mail_id = original_mail_id(order.order_id, kind)
    return new_mail(mail_id=mail_id, order_id=order.order_id, shop_id=order.shop_id, kind=kind,
                    message_id=message_id_for(mail_id, deps.rules.message_id_domain), now=now,
                    recipient=order.buyer_email if to_buyer(kind) else None)
