"""A service process started while PostgreSQL does not answer waits for it (issue 17): `ServiceRuntime.start()`
tries again with backoff instead of failing (uvicorn exits with status 3 when the lifespan raises, and the
supervisor's restarts of it then grew to 10 s apart), and returns once the database answers."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import pytest

from delivery.service import ServiceRuntime
from deploy.local.kafka import free_port
from tests.forwarding import forwarding
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_the_runtime_waits_for_postgresql_and_starts_once_it_answers(database_url, kafka_settings, tmp_path,
                                                                            caplog):
    port = free_port()  # nothing listens here yet: PostgreSQL is down
    database = urlsplit(database_url).path.lstrip("/")
    runtime = ServiceRuntime(name="late", database_url=f"postgresql://payments:payments@127.0.0.1:{port}/{database}",
                             kafka=kafka_settings, migrations=tmp_path)
    caplog.set_level(logging.WARNING, logger="delivery.service")
    starting = asyncio.create_task(runtime.start())
    try:
        async def retried_twice() -> bool:
            return sum("PostgreSQL: unreachable" in r.getMessage() for r in caplog.records) >= 2

        await eventually(retried_twice, timeout=30, message="two attempts to reach PostgreSQL")
        assert not starting.done()  # still waiting: the start did not fail
        async with forwarding(port, "127.0.0.1:5432"):
            async with asyncio.timeout(60):
                await starting
            assert await runtime.pool.fetchval("SELECT count(*) FROM schema_migrations") > 0
            await runtime.stop()
    finally:
        starting.cancel()
