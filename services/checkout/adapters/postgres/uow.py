"""Checkout's unit of work: delivery's (one connection, one transaction, inbox claim and outbox) with the shops,
orders and submissions repositories on the same connection, and the outcome announcement.

Everything commits or rolls back together (design §6.3). The NOTIFY is delivered by PostgreSQL only at
commit, so a waiting `GET /v1/checkouts/{id}?wait=N` never wakes up to a state that was rolled back.
"""

from __future__ import annotations

import json

import asyncpg

from delivery.units import PostgresUnitOfWork, notify
from services.checkout.adapters.postgres.orders import PostgresOrders
from services.checkout.adapters.postgres.shops import PostgresShops
from services.checkout.adapters.postgres.submissions import PostgresSubmissions

OUTCOME_CHANNEL = "checkout_outcome"


def outcome_payload(shop_id: str, checkout_id: str) -> str:
    """The NOTIFY payload naming one checkout (ids are at most 128 characters, far below NOTIFY's limit)."""
    return json.dumps([shop_id, checkout_id])


class CheckoutUnitOfWork(PostgresUnitOfWork):
    SERVICE = "checkout"

    def __init__(self, conn: asyncpg.Connection) -> None:
        super().__init__(conn)
        self.shops = PostgresShops(conn)
        self.orders = PostgresOrders(conn)
        self.submissions = PostgresSubmissions(conn)

    async def announce_outcome(self, shop_id: str, checkout_id: str) -> None:
        """NOTIFY the listeners (`PostgresOutcomeSignals`, any replica) at commit."""
        await notify(self.conn, OUTCOME_CHANNEL, outcome_payload(shop_id, checkout_id))  # a batch's: in one statement
