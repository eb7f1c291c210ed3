"""The checkout ports, fake and real, behind one interface per suite: every contract test runs against both.

"fake" is `tests/fakes/checkout.py`; "real" is the PostgreSQL adapters on a new, migrated database of this test
(marked `postgres`), or the HTTP clients against a real socket (the internal-API stub), or, for the subscription
service's key registration, against the very endpoints it mounts (`delivery.shop_keys`, on its own database).
The fake runs need no server at all: the database is only made for the real runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from contracts.envelope import Envelope
from delivery.db import create_pool, migrate
from delivery.shop_keys import PostgresOperatorKeys, PostgresStorefrontKeys, operator_key_router, storefront_key_router
from delivery.units import UnitOfWorkFactory as PostgresUnitOfWorkFactory
from services.checkout.adapters.notification_service import NotificationServiceClient
from services.checkout.adapters.payment_service import PaymentServiceClient
from services.checkout.adapters.postgres.outcomes import PostgresOutcomeSignals
from services.checkout.adapters.postgres.uow import CheckoutUnitOfWork
from services.checkout.adapters.subscription_service import SubscriptionServiceClient
from services.checkout.app import MIGRATIONS
from services.checkout.ports import OutcomeSignals, UnitOfWorkFactory
from tests.contract.conftest import FAKE_OR_REAL, PoolRuntime, staged_envelopes
from tests.fakes.checkout import CheckoutFakes, FakeOperatorKeyRegistry, FakePaymentDirectory
from tests.integration.checkout.payment_stub import INTERNAL_TOKEN, PaymentStub, serve_payment_stub


@dataclass(frozen=True, kw_only=True)
class Store:
    """A unit of work factory, what its committed units emitted, and the outcome signals its commits wake."""

    uow: UnitOfWorkFactory
    emitted: Callable[[], Awaitable[list[Envelope]]]
    signals: OutcomeSignals


@pytest.fixture
async def store(kind: str, make_database: Any) -> AsyncIterator[Store]:
    if make_database is None:
        fakes = CheckoutFakes()

        async def staged() -> list[Envelope]:
            return list(fakes.state.outbox)

        yield Store(uow=fakes.uow, emitted=staged, signals=fakes.signals)
        return
    url = await make_database()
    pool = await create_pool(url, min_size=1, max_size=4)
    signals = PostgresOutcomeSignals(url)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, MIGRATIONS)
        await signals.start()

        async def outbox() -> list[Envelope]:
            return await staged_envelopes(pool)

        factory = PostgresUnitOfWorkFactory(PoolRuntime(pool), CheckoutUnitOfWork)
        yield Store(uow=factory, emitted=outbox, signals=signals)
    finally:
        await signals.stop()
        await pool.close()


@dataclass(frozen=True, kw_only=True)
class Remote:
    """An internal-API port of another service (payment, notification) and that service's side of it: what it
    received, the cards it knows, and switches that make it unreachable or refusing."""

    port: Any
    credentials: Callable[[], dict[str, dict[str, str]]]
    operator_keys: Callable[[], dict[str, str]]
    storefront_keys: Callable[[], dict[str, str]]
    link_card: Callable[[str, str, str], None]
    set_down: Callable[[bool], None]
    set_refusing: Callable[[bool], None]


@pytest.fixture(params=["fake", "real"])
async def payment(request: pytest.FixtureRequest) -> AsyncIterator[Remote]:
    """`PaymentDirectory`: the fake, or `PaymentServiceClient` over a real socket to the internal-API stub."""
    if request.param == "fake":
        fake = FakePaymentDirectory()
        yield _fake_remote(fake, fake)
        return
    async with serve_payment_stub() as stub, _internal_client(stub.url) as http:
        yield _stub_remote(PaymentServiceClient(http, member_card_timeout_s=2.0), stub)


@pytest.fixture(params=["fake", "real"])
async def notification(request: pytest.FixtureRequest) -> AsyncIterator[Remote]:
    """`OperatorKeyRegistry` of notification: the fake, or `NotificationServiceClient` against the same stub."""
    if request.param == "fake":
        fake = FakeOperatorKeyRegistry()
        yield _fake_remote(fake, FakePaymentDirectory())
        return
    async with serve_payment_stub() as stub, _internal_client(stub.url) as http:
        yield _stub_remote(NotificationServiceClient(http), stub)


def _internal_client(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, timeout=5.0, headers={"X-Internal-Token": INTERNAL_TOKEN})


def _fake_remote(port: FakePaymentDirectory | FakeOperatorKeyRegistry, payment: FakePaymentDirectory) -> Remote:
    def set_down(down: bool) -> None:
        port.down = down

    def set_refusing(refusing: bool) -> None:
        port.refusing = refusing

    def link_card(shop_id: str, member_id: str, masked: str) -> None:
        payment.cards[(shop_id, member_id)] = masked

    def credentials() -> dict[str, dict[str, str]]:  # as payment receives them: the 3-D Secure pair only when set
        return {shop: {name: value for name, value in asdict(sent).items() if value is not None}
                for shop, sent in payment.credentials.items()}

    return Remote(port=port, credentials=credentials,
                  operator_keys=lambda: dict(port.operator_keys), storefront_keys=lambda: dict(port.storefront_keys),
                  link_card=link_card, set_down=set_down, set_refusing=set_refusing)


def _stub_remote(port: Any, stub: PaymentStub) -> Remote:
    def set_down(down: bool) -> None:
        stub.down = down

    def set_refusing(refusing: bool) -> None:
        stub.refusing = refusing

    def link_card(shop_id: str, member_id: str, masked: str) -> None:
        stub.cards[(shop_id, member_id)] = masked

    return Remote(port=port, credentials=lambda: dict(stub.credentials), operator_keys=lambda: dict(stub.operator_keys),
                  storefront_keys=lambda: dict(stub.storefront_keys), link_card=link_card, set_down=set_down,
                  set_refusing=set_refusing)


@dataclass(frozen=True, kw_only=True)
class KeyService:
    """A service that takes both key digests (subscription): the port, what it holds, and failure switches."""

    port: Any
    operator_keys: Callable[[], Awaitable[dict[str, str]]]
    storefront_keys: Callable[[], Awaitable[dict[str, str]]]
    set_down: Callable[[bool], None]
    set_refusing: Callable[[bool], None]


@pytest.fixture(params=FAKE_OR_REAL)
def key_database(request: pytest.FixtureRequest) -> Callable[[], Awaitable[str]] | None:
    """The session's reused key-registry database for the real runs of the subscription key registries only."""
    if request.param != "real":
        return None
    reused = request.getfixturevalue("reused_database")
    return lambda: reused("key_registries")


@pytest.fixture
async def subscription(key_database: Any) -> AsyncIterator[KeyService]:
    """The subscription service's key registries: the fake, or `SubscriptionServiceClient` against the routers the
    subscription service mounts (`delivery.shop_keys`) on a migrated database; `down` fails at the transport,
    `refusing` sends a wrong internal token (the real guard answers 401)."""
    if key_database is None:
        fake = FakeOperatorKeyRegistry(service="subscription")

        async def fake_operator() -> dict[str, str]:
            return dict(fake.operator_keys)

        async def fake_storefront() -> dict[str, str]:
            return dict(fake.storefront_keys)

        yield KeyService(port=fake, operator_keys=fake_operator, storefront_keys=fake_storefront,
                         set_down=lambda down: setattr(fake, "down", down),
                         set_refusing=lambda refusing: setattr(fake, "refusing", refusing))
        return
    pool = await create_pool(await key_database(), min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)  # delivery's migrations: shop_operator_keys, shop_storefront_keys
        transport = _SwitchableTransport(_key_service_app(pool))
        async with httpx.AsyncClient(transport=transport, base_url="http://subscription", timeout=5.0,
                                     headers={"X-Internal-Token": INTERNAL_TOKEN}) as http:
            def set_refusing(refusing: bool) -> None:
                http.headers["X-Internal-Token"] = "wrong-token" if refusing else INTERNAL_TOKEN

            yield KeyService(port=SubscriptionServiceClient(http), operator_keys=lambda: _keys(pool, "operator"),
                             storefront_keys=lambda: _keys(pool, "storefront"),
                             set_down=lambda down: setattr(transport, "down", down), set_refusing=set_refusing)
    finally:
        await pool.close()


def _key_service_app(pool: asyncpg.Pool) -> FastAPI:
    app = FastAPI()
    token = SecretStr(INTERNAL_TOKEN)
    app.include_router(operator_key_router(PostgresOperatorKeys(PoolRuntime(pool)), token))
    app.include_router(storefront_key_router(PostgresStorefrontKeys(PoolRuntime(pool)), token))
    return app


async def _keys(pool: asyncpg.Pool, role: str) -> dict[str, str]:
    table = {"operator": PostgresOperatorKeys.TABLE, "storefront": PostgresStorefrontKeys.TABLE}[role]
    rows = await pool.fetch(f"SELECT shop_id, key_sha256 FROM {table}")  # noqa: S608 - a class constant
    return {row["shop_id"]: row["key_sha256"] for row in rows}


class _SwitchableTransport(httpx.AsyncBaseTransport):
    """The app's ASGI transport; `down` makes every request fail to connect, as an unreachable service does."""

    def __init__(self, app: FastAPI) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self._asgi.handle_async_request(request)
