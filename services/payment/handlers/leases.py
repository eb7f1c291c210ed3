"""The member's card lease (`member_leases`): one piece of card work per shop member at a time (design §6.4, §6.8).

Orders that link, charge or unlink (holder: the order id), renewal retries (`retry:<order id>`) and card changes
on the member's page or by an operator (`card:<change id>`) all take it before they touch the member's stored
card, and renew it with every gateway step, so a crashed holder's lease expires after `member_lease_s` while a
slow but living one keeps it.
"""

from __future__ import annotations

import asyncio

from services.payment.handlers.deps import Deps
from services.payment.ports import UnitOfWork


async def take_member_lease(deps: Deps, shop_id: str, member_id: str, *, holder: str, wait_s: float) -> bool:
    """Take the member's lease for `holder`, waiting up to `wait_s` (polling with a growing pause) for another
    holder to finish; False when it is still held then."""
    loop = asyncio.get_running_loop()
    deadline, pause = loop.time() + wait_s, 0.02
    while True:
        async with deps.uow() as uow:
            if await uow.members.lease(shop_id, member_id, holder=holder, ttl_s=deps.policy.member_lease_s):
                return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)


async def renew_member_lease(deps: Deps, uow: UnitOfWork, *, shop_id: str, member_id: str, holder: str) -> None:
    """Renew the lease in the unit that records a step (so the holder keeps it through a long series of calls)."""
    await uow.members.lease(shop_id, member_id, holder=holder, ttl_s=deps.policy.member_lease_s)


async def release_member_lease(deps: Deps, shop_id: str, member_id: str, *, holder: str) -> None:
    async with deps.uow() as uow:
        await uow.members.release(shop_id, member_id, holder=holder)
