"""The checkout service's composition root (docs/services.md): `create_app(settings)` builds the runtime, the
adapters and the handlers' `Deps` once; nothing connects on import or at build time.

The shared lifespan (`delivery.http.service_app`) opens the pool, migrates, starts the producer and the outbox
relay, then starts `CheckoutResources`: the LISTEN connection for outcome waits and the consumer of
`checkout.requests`, `payments.events` and `subscriptions.commands`. They stop after the consumers and before
the pool closes.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from delivery.clock import SystemClock
from delivery.envelopes import decode_envelope
from delivery.http import service_app, service_runtime
from delivery.roles import Role
from delivery.sealing import TokenSealer
from delivery.service import ServiceRuntime
from delivery.units import UnitOfWorkFactory
from services.checkout.adapters.ids import RandomIds
from services.checkout.adapters.metrics import watch_orders
from services.checkout.adapters.notification_service import NotificationServiceClient
from services.checkout.adapters.payment_service import PaymentServiceClient
from services.checkout.adapters.postgres.outcomes import PostgresOutcomeSignals
from services.checkout.adapters.postgres.uow import CheckoutUnitOfWork
from services.checkout.adapters.subscription_service import SubscriptionServiceClient
from services.checkout.entrypoints import subscribers
from services.checkout.entrypoints.http import admin, operator, storefront
from services.checkout.handlers import Deps
from services.checkout.settings import CheckoutSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class CheckoutResources:
    """What exists only while checkout runs: the outcome LISTEN connection (API role: a waiting checkout wakes
    on it), the consumer (worker role), the HTTP clients."""

    def __init__(self, settings: CheckoutSettings, deps: Deps, *, signals: PostgresOutcomeSignals,
                 clients: tuple[httpx.AsyncClient, ...], role: Role) -> None:
        self._settings = settings
        self._role = role
        self._deps = deps
        self._signals = signals
        self._clients = clients

    async def start(self, runtime: ServiceRuntime) -> None:
        if self._role.serves_api:
            await self._signals.start()
        if self._role.runs_workers:
            await runtime.add_consumer(group_id=subscribers.GROUP_ID, topics=subscribers.TOPICS,
                                       decode=decode_envelope, handle=subscribers.dispatch(self._deps),
                                       settings=self._settings.consumer, batching=subscribers.BATCHING)

    async def stop(self) -> None:
        await self._signals.stop()
        for client in self._clients:
            await client.aclose()


def create_app(settings: CheckoutSettings | None = None, *,
               payment_transport: httpx.AsyncBaseTransport | None = None, role: Role = Role.ALL) -> FastAPI:
    """Build the app for `role` (`delivery.roles`); `payment_transport` replaces the HTTP transport to the
    payment service (tests)."""
    settings = settings or CheckoutSettings()
    runtime = service_runtime(name="checkout", settings=settings, migrations=MIGRATIONS)
    payment_http = _internal_client(settings.payment_url, settings.payment_internal_token.get_secret_value(),
                                    timeout_s=settings.payment_timeout_s, transport=payment_transport)
    notification_http = _internal_client(settings.notification_url,
                                         settings.notification_internal_token.get_secret_value(),
                                         timeout_s=settings.payment_timeout_s)
    subscription_http = _internal_client(settings.subscription_url,
                                         settings.subscription_internal_token.get_secret_value(),
                                         timeout_s=settings.payment_timeout_s)
    subscription = SubscriptionServiceClient(subscription_http)
    payment = PaymentServiceClient(payment_http, member_card_timeout_s=settings.member_card_timeout_s)
    signals = PostgresOutcomeSignals(settings.database_url)
    deps = Deps(
        uow=UnitOfWorkFactory(runtime, CheckoutUnitOfWork), clock=SystemClock(), ids=RandomIds(), outcomes=signals,
        payment=payment, key_registries=(NotificationServiceClient(notification_http), subscription),
        storefront_key_registries=(subscription, payment), max_wait_s=settings.max_wait_s,
        authentication_window_s=settings.authentication_window_s,
        sealer=TokenSealer(settings.token_seal_key.get_secret_value()),
    )  # fmt: skip
    clients = (payment_http, notification_http, subscription_http)
    resources = CheckoutResources(settings, deps, signals=signals, clients=clients, role=role)
    routers = [admin.router(deps, settings.admin_token), operator.router(deps), storefront.router(deps)]
    app = service_app(runtime, settings=settings, resources=[resources], routers=routers, role=role)
    watch_orders(runtime)
    return app


def _internal_client(base_url: str, token: str, *, timeout_s: float,
                     transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """A client of another service's internal API (`X-Internal-Token`); it connects on its first request."""
    return httpx.AsyncClient(base_url=base_url, timeout=timeout_s, transport=transport,
                             headers={"X-Internal-Token": token})
