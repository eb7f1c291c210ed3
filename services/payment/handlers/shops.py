"""Shop-level handlers: gateway credentials (write-only), the `shops.settings` projection, and a member's stored
card for checkout's payment page (the operator's view of a payment is in `handlers/status.py`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.payment.domain.attempts import Attempt
from services.payment.domain.calls import member_lookup
from services.payment.domain.card_face import CardFace, brand_name
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
    face = card.face or await read_card(deps, card)
    return StoredCard(linked=True, masked_card_no=face.masked if face else None)


async def read_card(deps: Deps, card: MemberCard, *, action: str | None = None) -> CardFace | None:
    """4MemRefM as a recorded step (an attempt without order): how the member's card looks now, remembered for
    next time unless the card was replaced while the read was on the wire. None when it cannot be read."""
    planned = replace(member_lookup(card.shop_id, card.kaiin_id), action=action)
    try:
        return await take_step(deps, planned, partial(_remember, deps=deps, card_version=card.card_version))
    except CallImpossible:
        return None


async def _remember(uow: UnitOfWork, attempt: Attempt, answer: GatewayAnswer, *, deps: Deps,
                    card_version: int) -> CardFace | None:
    await complete_attempt(deps, uow, attempt, answer=answer)
    face = card_face(answer)
    if face is not None and attempt.kaiin_id is not None:
        await uow.members.remember_face(attempt.kaiin_id, face, card_version=card_version)
    return face


def card_face(answer: GatewayAnswer) -> CardFace | None:
    """The card a member read (4MemRefM) showed, or None when it did not answer OK with a masked number."""
    if answer.reply.outcome is not Outcome.OK or not answer.masked_card:
        return None
    return CardFace(masked=answer.masked_card, expiry=answer.card_expiry,
                    brand=brand_name(answer.company_code, answer.masked_card))
