"""The janitor (design §6.9): a periodic, replica-safe sweep that moves payments stuck past a deadline to the
state §6.2 gives them, so nothing waits forever without an operator knowing.

Today's one stuck state: a pending payment whose order-flow call is still `sending` long after any live worker
would have had its answer (the worker died and the order did not come back: e.g. its event was dead-lettered).
The call may have left, so it is settled as interrupted, its outcome unknown (never sent again): the order goes to
review and `payment.needs_attention` is logged. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so any number of
workers sweep at once; the deadline must exceed the gateway's read timeout, or a slow live call would be settled
under its sender. (An operation still marked running past its lease is settled by the next request for it.)
"""

from __future__ import annotations

from datetime import timedelta

from delivery.logs import get_logger
from services.payment.domain.model import PaymentState
from services.payment.handlers.deps import Deps
from services.payment.handlers.orders import release_member, settle_interrupted

log = get_logger(__name__)


async def sweep_stuck(deps: Deps, *, stuck_after: timedelta, limit: int) -> int:
    """One pass over at most `limit` stuck payments; how many it settled."""
    settled = 0
    async with deps.uow() as uow:
        for payment in await uow.payments.stuck(sending_before=deps.clock.now() - stuck_after, limit=limit):
            after = await settle_interrupted(deps, uow, payment, inbound=None)
            if after.state is not PaymentState.PENDING:
                await release_member(uow, after)
            await uow.payments.note_janitor_finding(payment.order_id, state=after.state.value)
            settled += 1
            log.error("payment.janitor_settled", order_id=payment.order_id, shop_id=payment.shop_id,
                      payment_number=payment.payment_number, state=after.state.value,
                      stuck_after_s=stuck_after.total_seconds())
    return settled
