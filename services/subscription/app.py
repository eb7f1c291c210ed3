"""The subscription service's composition root (docs/services.md): `create_app(settings)` builds the runtime, the
adapters and the handlers' `Deps` once; nothing connects on import or at build time.

The shared lifespan (`delivery.http.service_app`) opens the pool, migrates, starts the producer and the outbox
relay, then starts `SubscriptionResources`: the consumer of `orders.events`, `payments.events` (card events) and
`shops.settings`, and the renewal scheduler (a runtime component, reported in `/health`). They stop before the
pool closes.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from delivery.clock import SystemClock
from delivery.http import service_app, service_runtime
from delivery.logs import get_logger
from delivery.roles import Role
from delivery.service import ServiceRuntime
from delivery.shop_keys import (
    PostgresOperatorKeys,
    PostgresStorefrontKeys,
    operator_key_router,
    storefront_key_router,
)
from delivery.units import UnitOfWorkFactory
from services.subscription.adapters.dev_clock import DevClock
from services.subscription.adapters.metrics import watch_subscriptions
from services.subscription.adapters.postgres.uow import SubscriptionUnitOfWork
from services.subscription.entrypoints import subscribers
from services.subscription.entrypoints.http import dev, operator, storefront
from services.subscription.entrypoints.http.errors import REFUSALS
from services.subscription.entrypoints.scheduler import RenewalScheduler, SchedulerWakeup
from services.subscription.handlers import Deps
from services.subscription.ports import Clock
from services.subscription.settings import SubscriptionSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = get_logger(__name__)


class SubscriptionResources:
    """What exists only while the service runs: the consumer and the renewal scheduler (both left out in the
    API role)."""

    def __init__(self, settings: SubscriptionSettings, deps: Deps, scheduler: RenewalScheduler, *,
                 role: Role) -> None:
        self._settings = settings
        self._role = role
        self._deps = deps
        self._scheduler = scheduler

    async def start(self, runtime: ServiceRuntime) -> None:
        if self._settings.uses_dev_secrets:
            log.warning("subscription.dev_secrets", note="set SUBSCRIPTION_INTERNAL_TOKEN outside development")
        if self._settings.dev_clock:
            log.warning("subscription.dev_clock", note="POST /dev/clock moves time: local stack and tests only")
        if not self._role.runs_workers:
            return
        await runtime.add_consumer(group_id=subscribers.GROUP_ID, topics=subscribers.TOPICS, decode=subscribers.decode,
                                   handle=subscribers.dispatch(self._deps), settings=self._settings.consumer)
        if self._settings.scheduler.enabled:
            self._scheduler.start()
            runtime.add_component("renewal_scheduler", stop=self._scheduler.stop,
                                  healthy=lambda: self._scheduler.healthy)

    async def stop(self) -> None:
        """Nothing left: the scheduler is a runtime component, stopped with the consumers."""


def create_app(settings: SubscriptionSettings | None = None, *, clock: Clock | None = None,
               role: Role = Role.ALL) -> FastAPI:
    """Build the app for `role` (`delivery.roles`); `clock` replaces the clock (tests pass a `DevClock` started
    at a chosen instant)."""
    settings = settings or SubscriptionSettings()
    if settings.dev_clock and role is not Role.ALL:
        raise ValueError("SUBSCRIPTION_DEV_CLOCK moves the clock of one process: run the service as one (role all)")
    runtime = service_runtime(name="subscription", settings=settings, migrations=MIGRATIONS)
    clock = clock or (DevClock() if settings.dev_clock else SystemClock())
    wakeup = SchedulerWakeup()
    deps = Deps(uow=UnitOfWorkFactory(runtime, SubscriptionUnitOfWork), clock=clock, scheduler=wakeup)
    operator_keys, storefront_keys = PostgresOperatorKeys(runtime), PostgresStorefrontKeys(runtime)
    routers = [operator.router(deps, operator_keys), storefront.router(deps, storefront_keys),
               operator_key_router(operator_keys, settings.internal_token),
               storefront_key_router(storefront_keys, settings.internal_token)]
    if settings.dev_clock:
        if not isinstance(clock, DevClock):
            raise ValueError("SUBSCRIPTION_DEV_CLOCK needs a movable clock (DevClock)")
        routers.append(dev.router(clock, wakeup))
    scheduler = RenewalScheduler(deps, settings.scheduler, wakeup)
    resources = SubscriptionResources(settings, deps, scheduler, role=role)
    app = service_app(runtime, settings=settings, resources=[resources], routers=routers, refusals=REFUSALS, role=role)
    watch_subscriptions(runtime)
    return app
