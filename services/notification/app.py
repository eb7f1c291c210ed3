"""The notification service's composition root: `create_app(settings)` builds everything; nothing connects on import.

At start (inside the shared lifespan, after the pool, migrations, producer and outbox relay): the handlers,
the mail dispatcher (background task) and the consumer of `orders.events` + `shops.settings`. At stop the
dispatcher ends first (running SMTP conversations finish, bounded), then the shared runtime.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from contracts.topics import ORDERS_EVENTS, SHOPS_SETTINGS
from delivery.envelopes import decode_envelope
from delivery.http import service_app
from delivery.service import ServiceRuntime
from delivery.shop_keys import PostgresOperatorKeys, operator_key_router
from services.notification.adapters.clock import SystemClock
from services.notification.adapters.postgres.mail_log import PostgresUnitOfWork
from services.notification.adapters.smtp import SmtpTransport
from services.notification.adapters.templates import JinjaRenderer
from services.notification.domain.model import RetryPolicy
from services.notification.entrypoints import http, subscribers
from services.notification.entrypoints.dispatcher import MailDispatcher
from services.notification.handlers import DispatchRules, NotificationHandlers
from services.notification.metrics import watch_mails
from services.notification.ports import Clock, MailTransport
from services.notification.settings import NotificationSettings

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(settings: NotificationSettings | None = None, *, transport: MailTransport | None = None,
               clock: Clock | None = None) -> FastAPI:
    """`transport`/`clock` replace the SMTP client and the clock (tests that need a crash at a chosen point)."""
    settings = settings or NotificationSettings()
    renderer = JinjaRenderer(settings.templates_dir)  # built now: a broken override directory fails early

    async def on_started(runtime: ServiceRuntime) -> None:
        if settings.uses_dev_secrets:
            log.warning("notification: the DEV_ONLY internal token is in use; set NOTIFICATION_INTERNAL_TOKEN "
                        "outside development")
        d = settings.dispatch
        rules = DispatchRules(
            retry=RetryPolicy(max_attempts=d.max_attempts, backoff_initial_s=d.backoff_initial_s,
                              backoff_max_s=d.backoff_max_s),
            lease=timedelta(seconds=d.sending_lease_s), message_id_domain=settings.message_id_domain)
        handlers = NotificationHandlers(uow=PostgresUnitOfWork(runtime.pool), renderer=renderer,
                                        transport=transport or SmtpTransport(settings.smtp),
                                        clock=clock or SystemClock(), rules=rules)
        dispatcher = MailDispatcher(handlers, d)
        app.state.handlers, app.state.dispatcher = handlers, dispatcher
        dispatcher.start()
        # Stopped by the runtime after the consumers and before the pool closes; reported in /health.
        runtime.add_component("mail_dispatcher", healthy=lambda: dispatcher.healthy,
                              stop=lambda: dispatcher.stop(settings.smtp.send_timeout_s))
        await runtime.add_consumer(group_id="notification", topics=[ORDERS_EVENTS, SHOPS_SETTINGS],
                                   decode=decode_envelope, settings=settings.consumer,
                                   handle=subscribers.dispatch(handlers, runtime.pool, dispatcher.wake))

    keys = PostgresOperatorKeys(lambda: app.state.runtime.pool)  # the pool exists once the app has started
    app = service_app(name="notification", settings=settings, migrations=MIGRATIONS, on_started=on_started,
                      routers=[http.router, operator_key_router(keys, settings.internal_token)])
    app.state.operator_keys = keys
    watch_mails(app.state.runtime)
    return app
