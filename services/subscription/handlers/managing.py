"""Changes by a shop's operators (operator API) and by the buyer (storefront my-page): pause, resume, skip the
next cycle, change the cycle or the next date, change the lines, cancel. Each change that changes something is
announced with `SubscriptionChanged` (monitoring, mails and payment's card guard read it, R18); a request that
changes nothing (pausing a paused subscription) announces nothing. Refusals are the domain's named errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from delivery.logs import get_logger
from services.subscription import translate
from services.subscription.domain import subscription as rules
from services.subscription.domain.contents import Line
from services.subscription.domain.schedule import Terms, jst_date
from services.subscription.domain.subscription import CancelWhen, Changed, Subscription
from services.subscription.handlers.common import Requester, owned, save, timing_of
from services.subscription.handlers.deps import Deps

log = get_logger(__name__)
Decide = Callable[[Subscription, date], Changed]


async def pause_subscription(deps: Deps, who: Requester, subscription_id: str, *,
                             reason: str | None = None) -> Subscription:
    return await _change(deps, who, subscription_id, decide=lambda sub, _: rules.pause(sub), reason=reason)


async def resume_subscription(deps: Deps, who: Requester, subscription_id: str) -> Subscription:
    return await _change(deps, who, subscription_id, decide=lambda sub, today: rules.resume(sub, today=today))


async def skip_next_cycle(deps: Deps, who: Requester, subscription_id: str, *,
                          reason: str | None = None) -> Subscription:
    return await _change(deps, who, subscription_id, decide=lambda sub, _: rules.skip_next(sub), reason=reason)


async def change_schedule(deps: Deps, who: Requester, subscription_id: str, *, terms: Terms | None = None,
                          next_on: date | None = None) -> Subscription:
    def decide(sub: Subscription, today: date) -> Changed:
        return rules.change_schedule(sub, terms=terms, next_on=next_on, today=today)

    return await _change(deps, who, subscription_id, decide=decide)


async def change_lines(deps: Deps, who: Requester, subscription_id: str, lines: Sequence[Line]) -> Subscription:
    return await _change(deps, who, subscription_id, decide=lambda sub, _: rules.change_lines(sub, lines))


async def cancel_subscription(deps: Deps, who: Requester, subscription_id: str, *, when: CancelWhen,
                              reason: str | None = None) -> Subscription:
    def decide(sub: Subscription, today: date) -> Changed:
        return rules.cancel(sub, when=when, today=today)

    return await _change(deps, who, subscription_id, decide=decide, reason=reason)


async def _change(deps: Deps, who: Requester, subscription_id: str, *, decide: Decide,
                  reason: str | None = None) -> Subscription:
    """Load (locked) -> decide -> save with the new due time + `SubscriptionChanged`, in one unit of work."""
    today = jst_date(deps.clock.now())
    async with deps.uow() as uow:
        sub = await owned(uow, who, subscription_id, for_update=True)
        changed = decide(sub, today)
        if changed.change is not None:
            await save(uow, changed.subscription, await timing_of(uow, sub.shop_id))
            event = translate.subscription_changed(changed.subscription, changed.change, changed_by=who.actor.value,
                                                   reason=reason)
            await uow.emit(event, correlation_id=sub.subscription_id, subject_version=changed.subscription.version)
    if changed.change is not None:
        deps.scheduler.wake()
        log.info("subscription.changed", subscription_id=subscription_id, change=changed.change.value,
                 by=who.actor.value, status=changed.subscription.status.value)
    return changed.subscription
