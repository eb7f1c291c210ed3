"""The checkout service's composition root: `create_app(settings)` builds everything; nothing connects on import.

The shared lifespan (delivery.http) opens the pool, migrates, starts the producer and the outbox relay; then
`on_started` wires the handlers, opens the LISTEN connection for outcome waits and starts the consumer of
`checkout.requests` and `payments.events`. Our own resources (payment HTTP client, LISTEN connection) are
closed when the app stops, before the shared runtime.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI

from delivery.envelopes import decode_envelope
from delivery.http import service_app
from delivery.sealing import TokenSealer
from delivery.service import ServiceRuntime
from services.checkout.adapters.notification_service import NotificationServiceClient
from services.checkout.adapters.payment_service import PaymentServiceClient
from services.checkout.adapters.postgres.outcomes import PostgresOutcomeSignals
from services.checkout.adapters.postgres.uow import PostgresUnitOfWork
from services.checkout.entrypoints import subscribers
from services.checkout.entrypoints.http import admin, operator, storefront
from services.checkout.entrypoints.http.errors import install_error_handlers
from services.checkout.handlers import Deps
from services.checkout.handlers.deps import CONSUMER
from services.checkout.metrics import watch_orders
from services.checkout.settings import CheckoutSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIds:
    def order_id(self) -> str:
        return f"ord_{uuid.uuid4().hex}"


class _Wiring:
    """Holds what exists only while the app runs; routes read `deps()` at request time."""

    def __init__(self, settings: CheckoutSettings, payment_transport: httpx.AsyncBaseTransport | None):
        self._settings = settings
        self._transport = payment_transport
        self._deps: Deps | None = None
        self._http: httpx.AsyncClient | None = None
        self._notification_http: httpx.AsyncClient | None = None
        self._signals: PostgresOutcomeSignals | None = None

    def deps(self) -> Deps:
        if self._deps is None:
            raise RuntimeError("checkout service not started")
        return self._deps

    async def start(self, runtime: ServiceRuntime) -> None:
        settings = self._settings
        self._http = httpx.AsyncClient(
            base_url=settings.payment_url, timeout=settings.payment_timeout_s, transport=self._transport,
            headers={"X-Internal-Token": settings.payment_internal_token.get_secret_value()},
        )  # fmt: skip
        self._notification_http = httpx.AsyncClient(
            base_url=settings.notification_url, timeout=settings.payment_timeout_s,
            headers={"X-Internal-Token": settings.notification_internal_token.get_secret_value()},
        )  # fmt: skip
        self._signals = PostgresOutcomeSignals(settings.database_url)
        await self._signals.start()
        pool = runtime.pool
        payment = PaymentServiceClient(self._http, member_card_timeout_s=settings.member_card_timeout_s)
        self._deps = Deps(uow=lambda: PostgresUnitOfWork(pool), payment=payment, clock=SystemClock(),
                          ids=RandomIds(), outcomes=self._signals, max_wait_s=settings.max_wait_s,
                          sealer=TokenSealer(settings.token_seal_key.get_secret_value()),
                          key_registries=(NotificationServiceClient(self._notification_http),))
        await runtime.add_consumer(group_id=CONSUMER, topics=subscribers.TOPICS, decode=decode_envelope,
                                   handle=subscribers.dispatch(self._deps), settings=settings.consumer)

    async def stop(self) -> None:
        if self._signals is not None:
            await self._signals.stop()
        for client in (self._http, self._notification_http):
            if client is not None:
                await client.aclose()
        self._deps = None


def create_app(settings: CheckoutSettings | None = None, *,
               payment_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """Build the app; `payment_transport` replaces the HTTP transport to the payment service (tests)."""
    settings = settings or CheckoutSettings()
    wiring = _Wiring(settings, payment_transport)
    routers = [admin.router(wiring.deps, settings.admin_token), operator.router(wiring.deps),
               storefront.router(wiring.deps)]
    app = service_app(name="checkout", settings=settings, migrations=MIGRATIONS, on_started=wiring.start,
                      routers=routers)
    watch_orders(app.state.runtime)
    install_error_handlers(app)
    shared_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with shared_lifespan(app_):
            try:
                yield
            finally:
                await wiring.stop()

    app.router.lifespan_context = lifespan
    return app
