"""Members' stored cards (R18) and the warning before a renewal would charge an expired one (R22).

Payment's card events keep a projection of each member's card expiry (newest event wins). A subscription's next
renewal that would charge a card expired by then is announced once with `RenewalCardExpiring` (the notification
service mails the buyer): `stage_warnings` records the warning under its unique (subscription, cycle) and stages
the event in the same transaction, whoever finds it: a card event (here), the scheduler generating the cycle
before (`renewals`), or a subscription starting (`starting`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.subscription import translate
from services.subscription.domain.cards import CardWarning, MemberCard, warning_for_next
from services.subscription.handlers.common import cycle_correlation
from services.subscription.handlers.deps import Deps
from services.subscription.ports import UnitOfWork

log = get_logger(__name__)


async def record_card_change(deps: Deps, card: MemberCard, *, as_of: datetime,
                             inbound: Inbound | None = None) -> list[CardWarning]:
    """Keep the member's card unless a later event's card is kept already, then warn once for each of the member's
    active subscriptions whose next renewal would charge it after its expiry. Returns the warnings given now (none
    for a redelivered or an older event, an unlink, or a card valid through the next renewals)."""
    async with deps.uow() as uow:
        if not await uow.claim(inbound) or not await uow.member_cards.put(card, as_of=as_of):
            return []
        subs = await uow.subscriptions.active_of_member(card.shop_id, card.member_id)
        now = deps.clock.now()
        warnings = [w for sub in subs if (w := warning_for_next(sub, card, at=now)) is not None]
        given = await stage_warnings(uow, warnings, versions={s.subscription_id: s.version for s in subs},
                                     causation=inbound)
    log.info("member.card_recorded", shop_id=card.shop_id, member_id=card.member_id, linked=card.linked,
             warned=len(given))
    return given


async def stage_warnings(uow: UnitOfWork, warnings: Sequence[CardWarning], *, versions: Mapping[str, int],
                         causation: Inbound | None = None) -> list[CardWarning]:
    """Record the warnings (a cycle warned about already is skipped: "once per cycle") and stage a
    `RenewalCardExpiring` for each new one, correlated with its cycle; returns the new ones."""
    if not warnings:
        return []
    recorded = await uow.card_warnings.add(warnings)
    given = [w for w in warnings if (w.subscription_id, w.cycle_no) in recorded]
    for warning in given:
        await uow.emit(translate.renewal_card_expiring(warning), causation=causation,
                       correlation_id=cycle_correlation(warning.subscription_id, warning.cycle_no),
                       subject_version=versions[warning.subscription_id])
        log.info("renewal.card_expiring", subscription_id=warning.subscription_id, cycle_no=warning.cycle_no,
                 card_expiry=str(warning.card_expiry))
    return given
