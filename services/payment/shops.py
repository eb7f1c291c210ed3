"""Shop-level use cases: credentials and operator key (write-only), the settings projection, a member's stored
card for checkout's payment page (the operator's view of a payment is in `status.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from delivery.logs import get_logger
from services.payment import ids
from services.payment.domain.attempts import Attempt, finish_attempt
from services.payment.domain.cards import LinkStatus
from services.payment.domain.operations import Operation, Outcome
from services.payment.ports import (
    CardGateway,
    Clock,
    Credentials,
    CredentialsUnreadable,
    GatewayCall,
    MemberCard,
    ShopSettings,
    Trace,
    UnitOfWorkFactory,
)

log = get_logger("payment.shops")


@dataclass(frozen=True)
class StoredCard:
    linked: bool
    masked_card_no: str | None = None


class ShopHandlers:
    def __init__(self, *, uow: UnitOfWorkFactory, gateway: CardGateway, clock: Clock) -> None:
        self._uow = uow
        self._gateway = gateway
        self._clock = clock

    async def put_credentials(self, shop_id: str, credentials: Credentials) -> None:
        async with self._uow() as tx:
            await tx.shops.put_credentials(shop_id, credentials)
        log.info("shop.credentials_stored", shop_id=shop_id, merchant_id=credentials.merchant_id)

    async def record_settings(self, settings: ShopSettings, trace: Trace) -> None:
        """`shops.settings` snapshot, applied once per event (inbox)."""
        async with self._uow(trace) as tx:
            if await tx.claim_inbound():
                await tx.shops.put_settings(settings)

    async def stored_card(self, shop_id: str, member_id: str) -> StoredCard:
        """Whether the member has a card on file, and its masked number (looked up once with 4MemRefM)."""
        async with self._uow() as tx:
            card = await tx.members.current(shop_id, member_id)
        if card is None or card.status is not LinkStatus.ACTIVE:
            return StoredCard(False)
        return StoredCard(True, card.masked_card or await self._look_up_masked(card))

    async def _look_up_masked(self, card: MemberCard) -> str | None:
        attempt = Attempt(ids.attempt_id(), card.shop_id, None, Operation.MEM_REF, card.kaiin_id, self._clock.now())
        async with self._uow() as tx:
            try:
                credentials = await tx.shops.credentials(card.shop_id)
            except CredentialsUnreadable:
                credentials = None
            key = await tx.members.key(card.kaiin_id)
            if credentials is None or key is None:
                return None
            await tx.attempts.add(attempt)
        answer = await self._gateway.send(GatewayCall(Operation.MEM_REF, credentials, member=key))
        async with self._uow() as tx:
            await tx.attempts.save(finish_attempt(attempt, answer.reply, self._clock.now()))
            if answer.reply.outcome is Outcome.OK and answer.masked_card:
                await tx.members.set_masked(card.kaiin_id, answer.masked_card)
        return answer.masked_card if answer.reply.outcome is Outcome.OK else None
