"""The payment service's composition root: `create_app(settings)` builds everything; nothing connects on import.

Concurrency (design §6.4): the consumer runs up to `PAYMENT_CONSUMER__CONCURRENCY` orders at once (different
order keys), each gateway call happens outside any transaction, the HTTP pool allows
`PAYMENT_GATEWAY__MAX_CONNECTIONS` calls in flight, and nothing in between takes a process-wide lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from delivery.envelopes import decode_envelope
from delivery.http import service_app
from delivery.logs import get_logger
from delivery.metrics import ServiceMetrics
from delivery.sealing import TokenSealer
from delivery.service import ServiceRuntime
from delivery.shop_keys import PostgresOperatorKeys, operator_guard, operator_key_router
from services.payment.adapters.clock import SystemClock
from services.payment.adapters.crypto import Cipher
from services.payment.adapters.escott import EscottGateway, EscottTimeouts, create_http_client
from services.payment.adapters.gateway import EscottCardGateway
from services.payment.adapters.postgres.uow import PostgresUnitOfWorkFactory
from services.payment.entrypoints import subscribers
from services.payment.entrypoints.http import internal_router, operator_router
from services.payment.entrypoints.operations_http import operations_router
from services.payment.handlers import PaymentHandlers, Policy
from services.payment.metrics import gateway_observer, watch_attention
from services.payment.operations import OperationHandlers, OperationPolicy
from services.payment.settings import PaymentSettings
from services.payment.shops import ShopHandlers
from services.payment.status import StatusReader

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = get_logger("payment.app")


def create_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()
    cipher = Cipher(settings.encryption_key)  # fails fast on a malformed key
    sealer = TokenSealer(settings.token_seal_key.get_secret_value())  # likewise
    http = _http_client(settings)
    metrics = ServiceMetrics("payment")
    gateway = EscottCardGateway(EscottGateway(http, settings.escott_base_url, observe=gateway_observer(metrics)))
    runtime: list[ServiceRuntime] = []
    watch_attention(metrics, lambda: runtime[0].pool)
    uow = PostgresUnitOfWorkFactory(lambda: runtime[0].pool, cipher)
    clock = SystemClock()
    policy = Policy(settings.gateway.send_attempts, settings.gateway.retry_backoff_s, settings.member_lease_s)
    payments = PaymentHandlers(uow=uow, gateway=gateway, clock=clock, policy=policy)
    shops = ShopHandlers(uow=uow, gateway=gateway, clock=clock)
    operations = OperationHandlers(uow=uow, gateway=gateway, clock=clock, policy=_operation_policy(settings))
    status = StatusReader(uow=uow, gateway=gateway, clock=clock)

    async def on_started(started: ServiceRuntime) -> None:
        if settings.uses_dev_secrets:
            log.warning("payment.dev_secrets", detail="DEV_ONLY internal token, encryption key or token seal key "
                        "in use; set PAYMENT_INTERNAL_TOKEN, PAYMENT_ENCRYPTION_KEY and PAYMENT_TOKEN_SEAL_KEY "
                        "outside development")
        await started.add_consumer(group_id=subscribers.GROUP_ID, topics=subscribers.TOPICS,
                                   decode=decode_envelope, settings=settings.consumer,
                                   handle=subscribers.dispatch(payments, shops, operations, sealer))

    keys = PostgresOperatorKeys(lambda: runtime[0].pool)  # registered by checkout (I6)
    guard = operator_guard(keys.opens)
    routers = [internal_router(shops, settings.internal_token), operator_key_router(keys, settings.internal_token),
               operator_router(guard, payments, status), operations_router(operations, guard)]
    app = service_app(name="payment", settings=settings, migrations=MIGRATIONS, on_started=on_started,
                      routers=routers, metrics=metrics)
    runtime.append(app.state.runtime)
    _close_on_shutdown(app, http)
    return app


def _operation_policy(settings: PaymentSettings) -> OperationPolicy:
    g, o = settings.gateway, settings.operations
    return OperationPolicy(g.send_attempts, g.retry_backoff_s, o.lease_s, o.decrease_by_change, o.bulk_concurrency)


def _http_client(settings: PaymentSettings) -> httpx.AsyncClient:
    g = settings.gateway
    timeouts = EscottTimeouts(connect=g.connect_timeout_s, read=g.read_timeout_s, write=g.write_timeout_s,
                              pool=g.pool_timeout_s)
    return create_http_client(timeouts, max_connections=g.max_connections)


def _close_on_shutdown(app: FastAPI, http: httpx.AsyncClient) -> None:
    """The shared lifespan has no stop hook for service resources: wrap it to close the gateway client."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        try:
            async with inner(a):
                yield
        finally:
            await http.aclose()

    app.router.lifespan_context = lifespan
