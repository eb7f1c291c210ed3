"""The roles the checkout handlers depend on (style rule 5): small Protocols, named for what they do.

Adapters implement them with PostgreSQL (`adapters/postgres/`) and HTTP (`adapters/payment_service.py`,
`adapters/notification_service.py`); `tests/fakes/checkout.py` implements each in memory, and
`tests/contract/checkout/` holds both to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from delivery.clock import Clock as Clock  # the one clock port, named here beside the others
from delivery.units import InboxOutbox
from services.checkout.domain.order import Order, OrderStatus
from services.checkout.domain.shop import Shop


class IdSource(Protocol):
    def order_id(self) -> str: ...


@dataclass(frozen=True)
class ShopKeys:
    """SHA-256 hex digests of a shop's two API keys (the keys themselves are never stored)."""

    storefront_sha256: str
    operator_sha256: str


@dataclass(frozen=True, kw_only=True)
class OrderQuery:
    """Operator search criteria; every given one must match (buyer: part of the name, kana or e-mail)."""

    payment_number: str | None = None
    status: OrderStatus | None = None
    date_from: date | None = None
    date_to: date | None = None
    buyer: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, kw_only=True)
class DayCounts:
    """One shop's orders of one order date (JST): how many per status, and the raw decline codes of its
    rejected and failed orders counted per buyer message (R16's kind), most frequent first."""

    by_status: dict[str, int]
    declines: list[tuple[str | None, str, int]]  # (buyer message, code, orders)


class ShopRepository(Protocol):
    async def get(self, shop_id: str, *, for_update: bool = False) -> Shop | None: ...

    async def by_storefront_key(self, key_sha256: str) -> Shop | None: ...

    async def keys(self, shop_id: str) -> ShopKeys | None: ...

    async def add(self, shop: Shop, keys: ShopKeys) -> bool: ...

    async def save(self, shop: Shop) -> None: ...

    async def set_operator_key_synced(self, shop_id: str, synced: bool) -> None: ...


class OrderRepository(Protocol):
    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None: ...

    async def by_checkout(self, shop_id: str, checkout_id: str) -> Order | None: ...

    async def by_cycle(self, subscription_id: str, cycle_no: int) -> Order | None:
        """The renewal order of that subscription cycle, if generated (one per cycle, I4)."""

    async def add(self, order: Order) -> bool:
        """False if the order id, its (shop, checkout id) or its renewal's (subscription id, cycle no) exists."""

    async def save(self, order: Order) -> None: ...

    async def next_payment_sequence(self) -> int: ...

    async def search(self, shop_id: str, query: OrderQuery) -> list[Order]: ...

    async def day_counts(self, shop_id: str, day: date) -> DayCounts:
        """The console's dashboard: counts over the shop's orders dated `day` (JST)."""


class SubmissionLog(Protocol):
    """Every checkout's first body: accepted over HTTP and published (before the consumer turns it into an order),
    or placed from Kafka; its fingerprint tells a repeat from a different body under the same id (issue 14)."""

    async def record(self, shop_id: str, checkout_id: str, fingerprint: Mapping[str, str] | None = None) -> bool:
        """False if this checkout was recorded before (its first record stands)."""

    async def exists(self, shop_id: str, checkout_id: str) -> bool: ...

    async def fingerprint(self, shop_id: str, checkout_id: str) -> dict[str, str] | None:
        """The first body's fingerprint; None when unknown (recorded before issue 14, or never recorded)."""


class UnitOfWork(InboxOutbox, Protocol):
    """One database transaction (delivery's inbox claim and outbox, `delivery.units`) with this service's
    repositories on it; the outcome announcement is delivered at commit, with everything else."""

    @property
    def shops(self) -> ShopRepository: ...

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def submissions(self) -> SubmissionLog: ...

    async def announce_outcome(self, shop_id: str, checkout_id: str) -> None:
        """Wake the waits on this checkout's outcome (`OutcomeSignals`), once the transaction commits."""


class UnitOfWorkFactory(Protocol):
    """`async with deps.uow() as uow:` one transaction; commit on a normal exit, roll back on an exception."""

    def __call__(self) -> AbstractAsyncContextManager[UnitOfWork]: ...

    def reading(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Reads without a transaction (each statement sees what was committed when it ran); never for writes."""


@dataclass(frozen=True, kw_only=True)
class GatewayCredentials:
    """A shop's e-SCOTT credentials, passed through to the payment service; secrets are hidden from repr."""

    merchant_id: str
    merchant_pass: str = field(repr=False)
    token_auth_code: str = field(repr=False)
    tenant_id: str = "0001"
    three_d_secure_key: str | None = field(repr=False, default=None)  # EMV 3-D Secure AES key and IV (design §6.7)
    three_d_secure_iv: str | None = field(repr=False, default=None)


@dataclass(frozen=True)
class MemberCard:
    linked: bool
    masked_card_no: str | None


class InternalServiceError(Exception):
    """Another service's internal API could not do what was asked: `refused` (it judged the request invalid,
    a 4xx) or unavailable (unreachable, timed out, 5xx)."""

    def __init__(self, message: str, *, refused: bool = False):
        super().__init__(message)
        self.refused = refused


class PaymentServiceError(InternalServiceError):
    """The payment service's internal API failed (see `InternalServiceError`)."""


class OperatorKeyRegistry(Protocol):
    """A service whose operator API opens with the shop's operator key: it keeps the key's SHA-256 (I6)."""

    service: str

    async def put_operator_key(self, shop_id: str, key_sha256: str) -> None: ...


class StorefrontKeyRegistry(Protocol):
    """A service whose storefront API (a shop's my-page) opens with the shop's storefront key: it keeps the key's
    SHA-256 (I6), as `OperatorKeyRegistry` does for the operator key."""

    service: str

    async def put_storefront_key(self, shop_id: str, key_sha256: str) -> None: ...


class PaymentDirectory(Protocol):
    """The payment service's internal endpoints that checkout calls (docs/services.md)."""

    service: str

    async def put_gateway_credentials(self, shop_id: str, credentials: GatewayCredentials) -> None: ...

    async def put_operator_key(self, shop_id: str, key_sha256: str) -> None: ...

    async def put_storefront_key(self, shop_id: str, key_sha256: str) -> None:
        """Payment's card page API (the member's my-page, R18) opens with the storefront key (I6)."""

    async def member_card(self, shop_id: str, member_id: str) -> MemberCard | None: ...


class OutcomeWatch(Protocol):
    def clear(self) -> None: ...

    async def wait(self, timeout: float) -> bool: ...


class OutcomeSignals(Protocol):
    """Wakes a waiting `GET /v1/checkouts/{id}?wait=N` when that checkout's order changes (any replica)."""

    def watch(self, shop_id: str, checkout_id: str) -> AbstractAsyncContextManager[OutcomeWatch]: ...
