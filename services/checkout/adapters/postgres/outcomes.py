"""Waking `GET /v1/checkouts/{id}?wait=N` when its checkout's order changes, on any replica.

One LISTEN connection per process; the unit of work NOTIFYs at commit (`uow.OUTCOME_CHANNEL`) when the handlers
announce a change that can end a wait (`handlers.checkouts.announce_if_settled`, payment outcomes). Waiters
register before they read the order, so a change between the read and the wait is never missed. If the
listening connection is lost, waits still end at their deadline with a final read (bounded, never stuck).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from delivery.cancellation import wait_event
from delivery.db import connect
from services.checkout.adapters.postgres.uow import OUTCOME_CHANNEL, outcome_payload


class OutcomeWatch:
    """One waiter's wake-up: set when its checkout's outcome is announced (also used by the test fake)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def clear(self) -> None:
        self._event.clear()

    def set(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """True if a change was announced within `timeout` seconds."""
        return await wait_event(self._event, timeout)


class PostgresOutcomeSignals:
    def __init__(self, database_url: str):
        self._database_url = database_url
        self._conn: asyncpg.Connection | None = None
        self._watches: dict[str, set[OutcomeWatch]] = {}

    async def start(self) -> None:
        self._conn = await connect(self._database_url)
        await self._conn.add_listener(OUTCOME_CHANNEL, self._on_notify)

    async def stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=5)
            self._conn = None

    @contextlib.asynccontextmanager
    async def watch(self, shop_id: str, checkout_id: str) -> AsyncIterator[OutcomeWatch]:
        key = outcome_payload(shop_id, checkout_id)
        watch = OutcomeWatch()
        self._watches.setdefault(key, set()).add(watch)
        try:
            yield watch
        finally:
            watchers = self._watches.get(key)
            if watchers is not None:
                watchers.discard(watch)
                if not watchers:
                    del self._watches[key]

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        for watch in self._watches.get(payload, ()):
            watch.set()
