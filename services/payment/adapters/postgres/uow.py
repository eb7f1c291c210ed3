"""Payment's unit of work: delivery's (one pooled connection, one transaction, the inbox claim and the outbox on
it) with this service's repositories on the same connection. `app.py` builds the factory:
`UnitOfWorkFactory(runtime, partial(PaymentUnitOfWork, cipher=cipher))`.
"""

from __future__ import annotations

import asyncpg

from delivery.units import PostgresUnitOfWork
from services.payment.adapters.crypto import Cipher
from services.payment.adapters.postgres.attempts import AttemptsSql
from services.payment.adapters.postgres.card_changes import CardChangesSql, MemberSubscriptionsSql
from services.payment.adapters.postgres.members import MemberCardsSql
from services.payment.adapters.postgres.payments import PaymentsSql
from services.payment.adapters.postgres.retries import RetriesSql
from services.payment.adapters.postgres.shops import ShopsSql


class PaymentUnitOfWork(PostgresUnitOfWork):
    SERVICE = "payment"

    def __init__(self, conn: asyncpg.Connection, *, cipher: Cipher) -> None:
        super().__init__(conn)
        self.payments = PaymentsSql(conn, cipher)
        self.attempts = AttemptsSql(conn)
        self.members = MemberCardsSql(conn, cipher)
        self.shops = ShopsSql(conn, cipher)
        self.retries = RetriesSql(conn)
        self.card_changes = CardChangesSql(conn)
        self.subscriptions = MemberSubscriptionsSql(conn)
