"""The payment service's composition root: `create_app(settings)` builds everything; nothing connects on import.

Concurrency (design §6.4): the consumer runs up to `PAYMENT_CONSUMER__CONCURRENCY` orders at once (different
order keys), each gateway call happens outside any transaction, the HTTP pool allows
`PAYMENT_GATEWAY__MAX_CONNECTIONS` calls in flight, and nothing in between takes a process-wide lock.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from delivery.batching import Alone, UnitsTogether
from delivery.clock import SystemClock
from delivery.http import service_app, service_runtime
from delivery.logs import get_logger
from delivery.metrics import ServiceMetrics
from delivery.roles import Role
from delivery.sealing import TokenSealer
from delivery.service import ServiceRuntime
from delivery.shop_keys import (
    PostgresOperatorKeys,
    PostgresStorefrontKeys,
    operator_guard,
    operator_key_router,
    storefront_guard,
    storefront_key_router,
)
from delivery.units import UnitOfWorkFactory
from services.payment.adapters.crypto import Cipher
from services.payment.adapters.escott import EscottGateway, EscottTimeouts, GatewayHttp, create_http_client
from services.payment.adapters.escott.three_d_secure import EscottThreeDSecure
from services.payment.adapters.gateway import EscottCardGateway
from services.payment.adapters.ids import RandomIds
from services.payment.adapters.metrics import gateway_observer, watch_attention
from services.payment.adapters.postgres.uow import PaymentUnitOfWork
from services.payment.entrypoints import subscribers
from services.payment.entrypoints.authentication_sweeper import AuthenticationSweeper
from services.payment.entrypoints.http import actions, cards, internal, payments, three_d_secure
from services.payment.entrypoints.janitor_worker import JanitorWorker
from services.payment.entrypoints.retry_worker import RetryWorker
from services.payment.handlers.deps import Deps, Policy
from services.payment.ports import Clock
from services.payment.settings import PaymentSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = get_logger(__name__)


class PaymentResources:
    """What exists only while the service runs: the consumer (started once the pool and the outbox relay are
    up), the renewal retry worker (a runtime component, in /health) and the gateway's pooled HTTP client (closed
    after the consumer and the worker stopped). The API role (`delivery.roles`) starts neither the consumer nor
    the retry worker; its operator actions call the gateway through the same client."""

    def __init__(self, settings: PaymentSettings, deps: Deps, http: GatewayHttp, *, role: Role) -> None:
        self._settings = settings
        self._role = role
        self._deps = deps
        self._http = http
        self._retries = RetryWorker(deps, settings.retries)
        self._sweeper = AuthenticationSweeper(deps, interval_s=settings.authentication_sweep_s)
        self._janitor = JanitorWorker(deps, settings.janitor)

    async def start(self, runtime: ServiceRuntime) -> None:
        if self._settings.uses_dev_secrets:
            log.warning("payment.dev_secrets", detail="DEV_ONLY internal token, encryption key or token seal key "
                        "in use; set PAYMENT_INTERNAL_TOKEN, PAYMENT_ENCRYPTION_KEY and PAYMENT_TOKEN_SEAL_KEY "
                        "outside development")
        if not self._role.runs_workers:
            return
        await runtime.add_consumer(group_id=subscribers.GROUP_ID, topics=subscribers.TOPICS,
                                   decode=subscribers.decode, settings=self._settings.consumer,
                                   handle=subscribers.dispatch(self._deps))
        self._sweeper.start()
        runtime.add_component("authentication_sweeper", stop=self._sweeper.stop, healthy=lambda: self._sweeper.healthy)
        if self._settings.retries.enabled:
            self._retries.start()
            runtime.add_component("retry_worker", stop=self._retries.stop, healthy=lambda: self._retries.healthy)
        if self._settings.janitor.enabled:
            self._janitor.start()
            runtime.add_component("janitor", stop=self._janitor.stop, healthy=lambda: self._janitor.healthy)

    async def stop(self) -> None:
        await self._deps.together.abort()  # nothing left to wait for it: the consumer and the workers stopped
        await self._http.aclose()


def create_app(settings: PaymentSettings | None = None, *, clock: Clock | None = None,
               role: Role = Role.ALL) -> FastAPI:
    """Build the app for `role` (`delivery.roles`: API, workers, or both); `clock` replaces the system clock
    (tests move time through it: renewal retries)."""
    settings = settings or PaymentSettings()
    cipher = Cipher(settings.encryption_key)  # fails fast on a malformed key
    metrics = ServiceMetrics("payment")
    runtime = service_runtime(name="payment", settings=settings, migrations=MIGRATIONS, metrics=metrics)
    watch_attention(metrics, runtime)
    http = _http_client(settings)
    gateway = EscottCardGateway(EscottGateway(http, settings.escott_base_url, observe=gateway_observer(metrics),
                                              tracer=runtime.tracing.tracer))
    deps = Deps(uow=UnitOfWorkFactory(runtime, partial(PaymentUnitOfWork, cipher=cipher)), gateway=gateway,
                clock=clock or SystemClock(), ids=RandomIds(), policy=_policy(settings),
                sealer=TokenSealer(settings.token_seal_key.get_secret_value()),  # likewise fails fast
                three_d_secure=EscottThreeDSecure(gateway_url=settings.escott_base_url, public_url=settings.public_url),
                together=_together(runtime, settings))
    keys = PostgresOperatorKeys(runtime)  # the operator key digests checkout registers (I6)
    storefront_keys = PostgresStorefrontKeys(runtime)  # the storefront key digests (the member's card page)
    guard = operator_guard(keys.opens)
    routers = [internal.router(deps, settings.internal_token), operator_key_router(keys, settings.internal_token),
               storefront_key_router(storefront_keys, settings.internal_token),
               payments.router(deps, guard), actions.router(deps, guard), cards.operator_router(deps, guard),
               cards.storefront_router(deps, storefront_guard(storefront_keys.opens)), three_d_secure.router(deps)]
    resources = PaymentResources(settings, deps, http, role=role)
    return service_app(runtime, settings=settings, resources=[resources], routers=routers, role=role)


def _policy(settings: PaymentSettings) -> Policy:
    g, o, r = settings.gateway, settings.operations, settings.retries
    return Policy(send_attempts=g.send_attempts, retry_backoff_s=g.retry_backoff_s,
                  member_lease_s=settings.member_lease_s, action_lease_s=o.lease_s,
                  decrease_by_change=o.decrease_by_change, bulk_concurrency=o.bulk_concurrency,
                  retry_claim_s=r.claim_s, retry_concurrency=r.concurrency, member_busy_delay_s=r.member_busy_delay_s,
                  card_busy_wait_s=settings.card_busy_wait_s,
                  card_authentication_window_s=settings.card_authentication_window_s)


def _together(runtime: ServiceRuntime, settings: PaymentSettings) -> Alone:
    if settings.units_together == 1:
        return Alone()
    return UnitsTogether(runtime, max_units=settings.units_together, max_in_flight=settings.units_in_flight,
                         name="payment-units")


def _http_client(settings: PaymentSettings) -> GatewayHttp:
    g = settings.gateway
    timeouts = EscottTimeouts(connect=g.connect_timeout_s, read=g.read_timeout_s, pool=g.pool_timeout_s)
    return create_http_client(timeouts, max_connections=g.max_connections, ca_file=g.ca_file)
