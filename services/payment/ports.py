"""The payment service's ports: what handlers need from storage, the gateway, the clock and id sources.

Secrets cross these ports only as `SecretStr` (masked in every repr and log); adapters encrypt them at rest.
The unit of work is delivery's inbox/outbox (`claim`, `emit`) plus this service's repositories on the same
transaction (docs/services.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from pydantic import SecretStr

from delivery.clock import Clock as Clock  # the one clock port (delivery.clock)
from delivery.units import InboxOutbox
from services.payment.domain.attempts import Attempt
from services.payment.domain.card_changes import CardChange
from services.payment.domain.card_face import CardFace
from services.payment.domain.cards import LinkStatus
from services.payment.domain.gateway import GatewayOperation, Reply
from services.payment.domain.model import Payment
from services.payment.domain.retries import RetryPolicy, ScheduledRetry


@dataclass(frozen=True, kw_only=True)
class Credentials:
    """One shop's e-SCOTT credentials (write-only through the API)."""

    merchant_id: str
    merchant_pass: SecretStr
    token_auth_code: SecretStr
    tenant_id: str = "0001"
    tds_key: SecretStr | None = None  # 3-D Secure EncryptValue: AES-128 key and IV issued by SPS (16 characters)
    tds_iv: SecretStr | None = None


@dataclass(frozen=True)
class MemberKey:
    kaiin_id: str
    kaiin_pass: SecretStr


@dataclass(frozen=True)
class ProcessKey:
    process_id: str
    process_pass: SecretStr


@dataclass(frozen=True, kw_only=True)
class MemberCard:
    """A gateway member record of a shop member: never the card itself, at most how 4MemRefM showed it (masked
    number, expiry month, brand), remembered for `card_version` (the stored card's number of replacements, so a
    read that raced a replacement is not remembered); `linked_at`: when the card now stored was stored."""

    kaiin_id: str
    shop_id: str
    member_id: str
    status: LinkStatus
    masked_card: str | None = None
    card_expiry: str | None = None
    card_brand: str | None = None
    card_version: int = 0
    linked_at: datetime | None = None

    @property
    def face(self) -> CardFace | None:
        """The card as last shown (None: not read since it was stored)."""
        if self.masked_card is None:
            return None
        return CardFace(masked=self.masked_card, expiry=self.card_expiry, brand=self.card_brand)


@dataclass(frozen=True, kw_only=True)
class ShopSettings:
    """The part of `shops.settings` payment keeps locally."""

    shop_id: str
    configured: bool
    sales_mode: str | None = None
    card_link_mode: str | None = None
    subscriptions_enabled: bool = False
    renewal_sales_mode: str | None = None
    authorize_at_renewal: bool = False
    renewal_retry: RetryPolicy | None = None
    """The shop's opt-in to retry soft-declined renewals (`renewal.retry`); None: never (R22's default)."""
    card_authentication: tuple[str, ...] | None = None
    """EMV 3-D Secure on the card method: the SecureResultCodes it accepts; None: off (the member's card page then
    registers and replaces cards directly)."""


@dataclass(frozen=True, kw_only=True)
class GatewayCall:
    """Everything one gateway call needs; MerchantFree1/2 carry the payment number and buyer name (R14)."""

    operation: GatewayOperation
    credentials: Credentials
    amount: int = 0
    pay_type: str = "01"
    token: SecretStr | None = None
    member: MemberKey | None = None
    process: ProcessKey | None = None
    free1: str = ""
    free2: str = ""
    sales_date: date | None = None
    three_d_secure: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class GatewayAnswer:
    """The domain's `Reply` plus what it must not see (a new ProcessPass, a masked card number) and what only
    a 1Search returns (the transaction's current Amount and SalesDate)."""

    reply: Reply
    process_pass: SecretStr | None = None
    masked_card: str | None = None
    amount: int | None = None
    sales_date: str | None = None
    card_expiry: str | None = None
    """A member read's (4MemRefM) card expiry month, YYYY-MM (the card events' form; never the full date)."""
    company_code: str | None = None
    kaiin_status: int | None = None


class CardGateway(Protocol):
    async def send(self, call: GatewayCall) -> GatewayAnswer:
        """Send one call; never raises for transport failures (they are `not_sent` or `unknown` replies)."""


class ThreeDSecureForms(Protocol):
    """EMV 3-D Secure's browser messages (design §6.7): the OTDS010 form's EncryptValue, and the return's."""

    action_url: str
    """The gateway's OTDS010, where the buyer's browser posts the form."""

    def redirect_url(self, order_id: str) -> str:
        """Payment's public return endpoint for the order (the gateway sends the browser there)."""

    def card_redirect_url(self, change_id: str) -> str:
        """Payment's public return endpoint for a card change on the member's card page."""

    def encrypt(self, fields: Mapping[str, str], credentials: Credentials) -> str:
        """EncryptValue of `fields` with the shop's 3-D Secure key and IV."""

    def decrypt(self, value: str, credentials: Credentials) -> dict[str, str] | None:
        """The fields of a returned EncryptValue; None when the shop's key does not open it (forged)."""


class IdSource(Protocol):
    """Ids and generated secrets payment mints (random in production; tests may pass predictable ones)."""

    def attempt_id(self) -> str: ...
    def change_id(self) -> str:
        """A card change's id (design §6.8)."""

    def kaiin_id(self) -> str: ...
    def kaiin_pass(self) -> SecretStr: ...
    def proc_no(self) -> str:
        """A 3-D Secure ProcNo (7 digits)."""


class PaymentRepository(Protocol):
    async def get(self, order_id: str, *, lock: bool = False) -> Payment | None: ...
    async def add(self, payment: Payment, *, correlation_id: str) -> Payment:
        """Insert as version 1; a second payment for the same order fails."""

    async def save(self, payment: Payment, *, process_pass: SecretStr | None = None,
                   retire_pass: bool = False) -> Payment:
        """Write with version + 1. `process_pass`: the current hold's new ProcessPass; `retire_pass`: the
        stored one now belongs to the previous hold (kept until that hold is gone, then dropped with it)."""

    async def process_key(self, order_id: str, *, previous: bool = False) -> ProcessKey | None: ...
    async def correlation_id(self, order_id: str) -> str | None: ...
    async def needing_operator(self, shop_id: str, *, limit: int) -> list[Payment]:
        """The shop's payments an operator must act on (unknown outcome, unknown operation, two live holds),
        least recently changed first."""
    async def keep_token(self, order_id: str, sealed: str | None) -> None: ...
    async def kept_token(self, order_id: str) -> str | None: ...
    async def authentication_overdue(self, now: datetime, *, limit: int = 100) -> list[str]: ...

    async def stuck(self, *, sending_before: datetime, limit: int) -> list[Payment]:
        """Pending payments with an order-flow attempt `sending` since before `sending_before`, row-locked for
        this unit and skipping rows another unit holds (any number of janitors at once)."""

    async def note_janitor_finding(self, order_id: str, *, state: str) -> None:
        """Record that the janitor settled this payment (to `state`), in this unit: its findings are counted from
        these records."""


class AttemptRepository(Protocol):
    async def add(self, attempt: Attempt) -> None: ...
    async def save(self, attempt: Attempt) -> None: ...
    async def get(self, attempt_id: str) -> Attempt | None: ...
    async def sending(self, order_id: str) -> list[Attempt]:
        """The order flow's attempts still `sending` (operator actions settle theirs by their own lease)."""

    async def history(self, order_id: str) -> list[Attempt]: ...
    async def mark_resolved(self, order_id: str, resolution: str) -> None:
        """Note an operator's finding on the order flow's unknown attempt(s) (status stays `unknown`)."""

    async def resolve_one(self, attempt_id: str, resolution: str) -> None: ...


class MemberCardRepository(Protocol):
    async def lease(self, shop_id: str, member_id: str, *, holder: str, ttl_s: float) -> bool:
        """Take or renew the member's lease unless another holder's is younger than `ttl_s`."""

    async def release(self, shop_id: str, member_id: str, *, holder: str) -> None: ...
    async def next_version(self, shop_id: str, member_id: str) -> int: ...
    async def current(self, shop_id: str, member_id: str) -> MemberCard | None: ...
    async def get(self, kaiin_id: str) -> MemberCard | None: ...
    async def key(self, kaiin_id: str) -> MemberKey | None: ...
    async def latest(self, shop_id: str, member_id: str) -> MemberCard | None:
        """The member's most recent record in any status (e.g. one left invalidated by a removal half done)."""

    async def register(self, card: MemberCard, key: MemberKey) -> None: ...
    async def set_status(self, kaiin_id: str, status: LinkStatus, *, at: datetime | None = None) -> None:
        """`at`: when a record becoming `active` stored its card (`linked_at`, kept if already set)."""

    async def remember_face(self, kaiin_id: str, face: CardFace, *, card_version: int) -> bool:
        """Keep how a read showed the card, unless the card was replaced since (`card_version` moved on)."""

    async def card_replaced(self, kaiin_id: str, *, at: datetime) -> None:
        """Another card is stored under the member: the shown card is forgotten, `card_version` + 1."""


class CardChangeRepository(Protocol):
    """`card_changes`: register/replace/delete of a member's card without an order; one open per member."""

    async def add(self, change: CardChange) -> CardChange:
        """Insert as version 1; a second open change of the same member fails (unique)."""

    async def save(self, change: CardChange) -> CardChange: ...
    async def get(self, change_id: str, *, lock: bool = False) -> CardChange | None: ...
    async def open_for(self, shop_id: str, member_id: str) -> CardChange | None: ...


@dataclass(frozen=True, kw_only=True)
class SubscriptionStatus:
    """One subscription's latest status as `subscriptions.events` said it (`version`: its subject_version)."""

    subscription_id: str
    shop_id: str
    member_id: str
    status: str
    version: int


class MemberSubscriptionRepository(Protocol):
    """The projection of `subscriptions.events` the delete guard reads (R18), never the subscription service."""

    async def record(self, status: SubscriptionStatus) -> bool:
        """Keep the newest status of the subscription (a lower version than the kept one changes nothing)."""

    async def keeping_card(self, shop_id: str, member_id: str) -> list[str]:
        """Ids of the member's subscriptions that need the stored card (active or paused)."""


class ShopRepository(Protocol):
    async def credentials(self, shop_id: str) -> Credentials | None:
        """None when missing; raises `CredentialsUnreadable` when stored under another encryption key."""

    async def put_credentials(self, shop_id: str, credentials: Credentials) -> None: ...
    async def put_settings(self, settings: ShopSettings) -> None: ...
    async def settings(self, shop_id: str) -> ShopSettings | None: ...


class RetryRepository(Protocol):
    """`payment_retries`: the next retry of each renewal order waiting for one (R22 opt-in)."""

    async def put(self, retry: ScheduledRetry) -> None:
        """Insert or replace the order's schedule."""

    async def get(self, order_id: str) -> ScheduledRetry | None: ...
    async def delete(self, order_id: str) -> None: ...
    async def claim_due(self, now: datetime, *, until: datetime, limit: int) -> list[ScheduledRetry]:
        """Up to `limit` retries due at `now`, oldest first, skipping rows another unit holds (`FOR UPDATE SKIP
        LOCKED`); each comes due again only at `until` (the claim), so no other worker takes it meanwhile."""

    async def next_due(self) -> datetime | None:
        """The earliest due time of any scheduled retry."""


class CredentialsUnreadable(Exception):
    """Stored credentials cannot be decrypted with the configured key(s) (the key changed without rotation)."""


class UnitOfWork(InboxOutbox, Protocol):
    """One database transaction: the inbox claim, this service's repositories, and the outbox (events staged
    through `emit` are published only if the unit commits)."""

    @property
    def payments(self) -> PaymentRepository: ...
    @property
    def attempts(self) -> AttemptRepository: ...
    @property
    def members(self) -> MemberCardRepository: ...
    @property
    def shops(self) -> ShopRepository: ...
    @property
    def retries(self) -> RetryRepository: ...
    @property
    def card_changes(self) -> CardChangeRepository: ...
    @property
    def subscriptions(self) -> MemberSubscriptionRepository: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[UnitOfWork]: ...
