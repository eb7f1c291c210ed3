"""The notification service's composition root: `create_app(settings)` builds everything; nothing connects on import.

Built here, once: the runtime (pool, migrations, producer, outbox relay: `delivery.http.service_runtime`), the
handlers' `Deps`, the operator routes, and `NotificationResources`, which starts the mail dispatcher and the
consumer of `orders.events`, `payments.events`, `subscriptions.events` and `shops.settings` once the runtime
runs. At stop the consumer ends first, then the dispatcher (running SMTP conversations finish, bounded), then the
shared runtime.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from delivery.batching import UnitsTogether
from delivery.clock import SystemClock
from delivery.http import service_app, service_runtime
from delivery.logs import get_logger
from delivery.roles import Role
from delivery.service import ServiceRuntime
from delivery.shop_keys import PostgresOperatorKeys, operator_guard, operator_key_router
from delivery.units import UnitOfWorkFactory
from services.notification.adapters.metrics import watch_mails
from services.notification.adapters.postgres.uow import NotificationUnitOfWork
from services.notification.adapters.smtp import SmtpTransport
from services.notification.adapters.templates import JinjaRenderer
from services.notification.domain.model import RetryPolicy
from services.notification.entrypoints import http, subscribers
from services.notification.entrypoints.dispatcher import MailDispatcher
from services.notification.handlers.deps import Deps, DispatchRules
from services.notification.ports import Clock, MailTransport
from services.notification.settings import NotificationSettings

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(settings: NotificationSettings | None = None, *, transport: MailTransport | None = None,
               clock: Clock | None = None, runtime: ServiceRuntime | None = None,
               dispatcher: MailDispatcher | None = None, role: Role = Role.ALL) -> FastAPI:
    """Build the app for `role` (`delivery.roles`). `transport`/`clock` replace the SMTP client and the clock
    (tests that need a crash at a chosen point); a test that must abort the service as a crash would passes the
    `runtime` (`notification_runtime`) and the `dispatcher` it keeps."""
    settings = settings or NotificationSettings()
    runtime = runtime or notification_runtime(settings)
    dispatcher = dispatcher or MailDispatcher(settings.dispatch)
    deps = Deps(uow=UnitOfWorkFactory(runtime, NotificationUnitOfWork),
                renderer=JinjaRenderer(settings.templates_dir),  # built now: a broken override directory fails early
                transport=transport or SmtpTransport(settings.smtp), clock=clock or SystemClock(),
                wakeup=dispatcher, rules=dispatch_rules(settings),
                together=UnitsTogether(runtime, max_units=settings.dispatch.concurrency, name="mail-results"))
    keys = PostgresOperatorKeys(runtime)  # registered by checkout (I6)
    routers = [http.router(deps, guard=operator_guard(keys.opens)), operator_key_router(keys, settings.internal_token)]
    resources = NotificationResources(settings=settings, deps=deps, dispatcher=dispatcher, role=role)
    return service_app(runtime, settings=settings, resources=[resources], routers=routers, role=role)


def notification_runtime(settings: NotificationSettings) -> ServiceRuntime:
    """The service's runtime (not connected), with the mail log's metrics on its `/metrics`."""
    runtime = service_runtime(name="notification", settings=settings, migrations=MIGRATIONS)
    watch_mails(runtime)
    return runtime


def dispatch_rules(settings: NotificationSettings) -> DispatchRules:
    d = settings.dispatch
    return DispatchRules(retry=RetryPolicy(max_attempts=d.max_attempts, backoff_initial_s=d.backoff_initial_s,
                                           backoff_max_s=d.backoff_max_s),
                         lease=timedelta(seconds=d.sending_lease_s), message_id_domain=settings.message_id_domain)


class NotificationResources:
    """What runs only while the service runs: the mail dispatcher (a runtime component: in `/health`, stopped
    after the consumer and before the pool) and the consumer of orders, card events and shop settings. The API
    role starts neither: a mail an operator asks to resend is picked up by a worker's dispatcher on its next poll
    (`NOTIFICATION_DISPATCH__POLL_INTERVAL_S`)."""

    def __init__(self, *, settings: NotificationSettings, deps: Deps, dispatcher: MailDispatcher, role: Role) -> None:
        self._settings = settings
        self._role = role
        self._deps = deps
        self._dispatcher = dispatcher

    async def start(self, runtime: ServiceRuntime) -> None:
        if self._settings.uses_dev_secrets:
            log.warning("notification.dev_internal_token", fix="set NOTIFICATION_INTERNAL_TOKEN outside development")
        if not self._role.runs_workers:
            return
        dispatcher, send_timeout_s = self._dispatcher, self._settings.smtp.send_timeout_s
        dispatcher.start(self._deps, tracer=runtime.tracing.tracer)
        runtime.add_component("mail_dispatcher", healthy=lambda: dispatcher.healthy,
                              stop=lambda: dispatcher.stop(send_timeout_s))
        await runtime.add_consumer(group_id=subscribers.GROUP_ID, topics=subscribers.TOPICS, decode=subscribers.decode,
                                   settings=self._settings.consumer, handle=subscribers.dispatch(self._deps),
                                   batching=subscribers.BATCHING)

    async def stop(self) -> None:
        """Bounded at once: the consumer and the dispatcher are runtime parts, stopped (bounded) before this;
        nothing else is held."""
