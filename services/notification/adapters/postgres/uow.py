"""Notification's unit of work: delivery's (one connection, one transaction, inbox claim and outbox) with the
mail log on the same connection, so a recorded order and its inbox claim, or a mail's new state and its
`MailSent`/`MailFailed`, commit together (design §6.3)."""

from __future__ import annotations

import asyncpg

from delivery.units import PostgresUnitOfWork
from services.notification.adapters.postgres.mail_log import PostgresMailLog


class NotificationUnitOfWork(PostgresUnitOfWork):
    SERVICE = "notification"

    def __init__(self, conn: asyncpg.Connection) -> None:
        super().__init__(conn)
        self.mail_log = PostgresMailLog(conn)
