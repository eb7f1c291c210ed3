"""The subscription service's unit of work: delivery's (one connection, one transaction, inbox claim and
outbox) with the subscriptions, cycles, shop timings, member cards and card warnings repositories on the same
connection (design §6.3)."""

from __future__ import annotations

import asyncpg

from delivery.units import PostgresUnitOfWork
from services.subscription.adapters.postgres.cards import PostgresCardWarnings, PostgresMemberCards
from services.subscription.adapters.postgres.cycles import PostgresCycles
from services.subscription.adapters.postgres.shops import PostgresShopTimings
from services.subscription.adapters.postgres.subscriptions import PostgresSubscriptions


class SubscriptionUnitOfWork(PostgresUnitOfWork):
    SERVICE = "subscription"

    def __init__(self, conn: asyncpg.Connection) -> None:
        super().__init__(conn)
        self.subscriptions = PostgresSubscriptions(conn)
        self.cycles = PostgresCycles(conn)
        self.shops = PostgresShopTimings(conn)
        self.member_cards = PostgresMemberCards(conn)
        self.card_warnings = PostgresCardWarnings(conn)
