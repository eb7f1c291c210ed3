"""The payment service's ports: what handlers need from storage, the gateway and the clock (style rule 5).

Secrets cross these ports only as `SecretStr` (masked in every repr and log); adapters encrypt them at rest.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from pydantic import SecretStr

from delivery.envelopes import Inbound
from services.payment.domain.attempts import Attempt
from services.payment.domain.cards import LinkStatus
from services.payment.domain.events import DomainEvent
from services.payment.domain.model import Payment
from services.payment.domain.operations import Operation, Reply


@dataclass(frozen=True)
class Credentials:
    """One shop's e-SCOTT credentials (write-only through the API)."""

    merchant_id: str
    merchant_pass: SecretStr
    token_auth_code: SecretStr
    tenant_id: str = "0001"


@dataclass(frozen=True)
class MemberKey:
    kaiin_id: str
    kaiin_pass: SecretStr


@dataclass(frozen=True)
class ProcessKey:
    process_id: str
    process_pass: SecretStr


@dataclass(frozen=True)
class MemberCard:
    """A gateway member record of a shop member (never the card itself; at most its masked number)."""

    kaiin_id: str
    shop_id: str
    member_id: str
    status: LinkStatus
    masked_card: str | None = None


@dataclass(frozen=True)
class ShopSettings:
    """The part of `shops.settings` payment keeps locally."""

    shop_id: str
    configured: bool
    sales_mode: str | None
    card_link_mode: str | None
    subscriptions_enabled: bool
    renewal_sales_mode: str | None
    authorize_at_renewal: bool


@dataclass(frozen=True)
class GatewayCall:
    """Everything one gateway call needs; MerchantFree1/2 carry the payment number and buyer name (R14)."""

    operation: Operation
    credentials: Credentials
    amount: int = 0
    pay_type: str = "01"
    token: SecretStr | None = None
    member: MemberKey | None = None
    process: ProcessKey | None = None
    free1: str = ""
    free2: str = ""
    sales_date: date | None = None


@dataclass(frozen=True)
class GatewayAnswer:
    """The domain's `Reply` plus what it must not see (a new ProcessPass, a masked card number) and what only
    a 1Search returns (the transaction's current Amount and SalesDate)."""

    reply: Reply
    process_pass: SecretStr | None = None
    masked_card: str | None = None
    amount: int | None = None
    sales_date: str | None = None


class CardGateway(Protocol):
    async def send(self, call: GatewayCall) -> GatewayAnswer:
        """Send one call; never raises for transport failures (they are `not_sent` or `unknown` replies)."""


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class Trace:
    """Why events are emitted: the checkout (correlation) and the inbound event (causation), if any."""

    correlation_id: str
    causation: Inbound | None = None


class PaymentRepository(Protocol):
    async def get(self, order_id: str, *, lock: bool = False) -> Payment | None: ...
    async def add(self, payment: Payment, *, correlation_id: str) -> Payment: ...
    async def save(self, payment: Payment, *, process_pass: SecretStr | None = None,
                   retire_pass: bool = False) -> Payment: ...
    async def process_key(self, order_id: str, *, previous: bool = False) -> ProcessKey | None: ...
    async def correlation_id(self, order_id: str) -> str | None: ...


class AttemptRepository(Protocol):
    async def add(self, attempt: Attempt) -> None: ...
    async def save(self, attempt: Attempt) -> None: ...
    async def sending(self, order_id: str) -> list[Attempt]: ...
    async def history(self, order_id: str) -> list[Attempt]: ...
    async def mark_resolved(self, order_id: str, resolution: str) -> None: ...
    async def get(self, attempt_id: str) -> Attempt | None: ...
    async def resolve_one(self, attempt_id: str, resolution: str) -> None: ...


class MemberCardRepository(Protocol):
    async def lease(self, shop_id: str, member_id: str, *, holder: str, ttl_s: float) -> bool: ...
    async def release(self, shop_id: str, member_id: str, *, holder: str) -> None: ...
    async def next_version(self, shop_id: str, member_id: str) -> int: ...
    async def current(self, shop_id: str, member_id: str) -> MemberCard | None: ...
    async def get(self, kaiin_id: str) -> MemberCard | None: ...
    async def key(self, kaiin_id: str) -> MemberKey | None: ...
    async def register(self, card: MemberCard, key: MemberKey) -> None: ...
    async def set_status(self, kaiin_id: str, status: LinkStatus) -> None: ...
    async def set_masked(self, kaiin_id: str, masked_card: str | None) -> None: ...


class ShopRepository(Protocol):
    async def credentials(self, shop_id: str) -> Credentials | None:
        """None when missing; raises `CredentialsUnreadable` when stored under another encryption key."""

    async def put_credentials(self, shop_id: str, credentials: Credentials) -> None: ...
    async def put_settings(self, settings: ShopSettings) -> None: ...


class CredentialsUnreadable(Exception):
    """Stored credentials cannot be decrypted with the configured key(s) (the key changed without rotation)."""


class UnitOfWork(Protocol):
    """One database transaction; events emitted through it are published only if it commits (outbox)."""

    @property
    def payments(self) -> PaymentRepository: ...
    @property
    def attempts(self) -> AttemptRepository: ...
    @property
    def members(self) -> MemberCardRepository: ...
    @property
    def shops(self) -> ShopRepository: ...

    async def emit(self, event: DomainEvent, *, version: int) -> None: ...

    async def claim_inbound(self) -> bool:
        """Record the inbound event in the inbox; False if it was already applied."""


class UnitOfWorkFactory(Protocol):
    def __call__(self, trace: Trace | None = None) -> AbstractAsyncContextManager[UnitOfWork]: ...
