"""Fixtures shared by the delivery plumbing tests: a connected producer, a migrated pool, an effects table."""

from __future__ import annotations

import asyncpg
import pytest

from delivery.db import migrate
from delivery.kafka import make_broker
from tests.integration.delivery.support import Effects


@pytest.fixture
async def broker(kafka_settings):
    broker = make_broker(kafka_settings, client_id="test-delivery")
    await broker.connect()
    yield broker
    await broker.stop()


@pytest.fixture
async def pool(database_url):
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
    async with pool.acquire() as conn:
        await migrate(conn)
    yield pool
    await pool.close()


@pytest.fixture
async def effects(database_url):
    effects = await Effects.create(database_url)
    yield effects
    await effects.pool.close()
