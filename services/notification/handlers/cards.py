"""Card notices (R18): the buyer hears, once per change, that their stored card was replaced or removed on their
card page or by an operator, and, once per renewal cycle, that the next renewal would charge a card expired by
then. Recorded like an order's mails (`orders.record_mails`: inbox claim, kept event, one original per kind), so
a redelivered or re-emitted event adds nothing; addressed and switched (`notify_card_changes`) when composed."""

from __future__ import annotations

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.notification.domain.notices import CardNotice
from services.notification.handlers.deps import Deps
from services.notification.handlers.orders import record_mails
from services.notification.ports import OrderSnapshot, OrderSource

log = get_logger(__name__)


async def record_card_notice(deps: Deps, notice: CardNotice, *, source: OrderSource, snapshot: OrderSnapshot,
                             inbound: Inbound | None = None) -> int:
    """The notice's kept event and its one mail, `pending`; 1 if the mail is new, 0 on a repeat."""
    created = await record_mails(deps, notice, source=source, snapshot=snapshot, inbound=inbound)
    if created:
        log.info("card_notice.recorded", notice_id=notice.notice_id, kind=notice.kind, shop_id=notice.shop_id,
                 member_id=notice.member_id)
    return created
