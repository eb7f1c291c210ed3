"""Shop-level handlers: gateway credentials (write-only), the `shops.settings` projection, and a member's stored
card for checkout's payment page (the operator's view of a payment is in `handlers/status.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.payment.domain.attempts import Attempt
from services.payment.domain.calls import member_lookup
from services.payment.domain.cards import LinkStatus
from services.payment.domain.gateway import CallImpossible, Outcome
from services.payment.handlers.deps import Deps
from services.payment.handlers.steps import complete_attempt, take_step
from services.payment.ports import Credentials, GatewayAnswer, MemberCard, ShopSettings, UnitOfWork

log = get_logger(__name__)


@dataclass(frozen=True)
class StoredCard:
    linked: bool
    masked_card_no: str | None = None


async def store_credentials(deps: Deps, credentials: Credentials, *, shop_id: str) -> None:
    async with deps.uow() as uow:
        await uow.shops.put_credentials(shop_id, credentials)
    log.info("shop.credentials_stored", shop_id=shop_id, merchant_id=credentials.merchant_id)


async def record_shop_settings(deps: Deps, settings: ShopSettings, *, inbound: Inbound | None = None) -> None:
    """`shops.settings` snapshot, applied once per event (inbox)."""
    async with deps.uow() as uow:
        if await uow.claim(inbound):
            await uow.shops.put_settings(settings)


async def find_stored_card(deps: Deps, *, shop_id: str, member_id: str) -> StoredCard:
    """Whether the member has a card on file, and its masked number (looked up once with 4MemRefM)."""
    async with deps.uow() as uow:
        card = await uow.members.current(shop_id, member_id)
    if card is None or card.status is not LinkStatus.ACTIVE:
        return StoredCard(linked=False)
    return StoredCard(linked=True, masked_card_no=card.masked_card or await _look_up_masked(deps, card))


async def _look_up_masked(deps: Deps, card: MemberCard) -> str | None:
    """4MemRefM as a recorded step (an attempt without order); the number is remembered for next time."""
    try:
        return await take_step(deps, member_lookup(card.shop_id, card.kaiin_id), partial(_remember, deps=deps))
    except CallImpossible:
        return None


async def _remember(uow: UnitOfWork, attempt: Attempt, answer: GatewayAnswer, *, deps: Deps) -> str | None:
    await complete_attempt(deps, uow, attempt, answer=answer)
    if answer.reply.outcome is not Outcome.OK:
        return None
    if answer.masked_card and attempt.kaiin_id is not None:
        await uow.members.set_masked(attempt.kaiin_id, answer.masked_card)
    return answer.masked_card
