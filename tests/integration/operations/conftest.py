"""A payment service (real PostgreSQL, Kafka, in-process emulator) for operator operation tests.

`operations_settings` (override per module or with `pytest.mark.parametrize(..., indirect=True)`) tunes the
operation settings, e.g. whether a decrease uses 1Change or 1ReAuth + 1Delete.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from emulator.testing import serve_emulator
from services.payment.app import create_app
from services.payment.settings import OperationSettings
from tests.integration.operations.support import Operations
from tests.integration.payment.conftest import settings_for
from tests.integration.payment.support import LogCapture, PaymentHarness, cancel, read_events_forever

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def operations_settings(request: pytest.FixtureRequest) -> OperationSettings:
    return OperationSettings(**getattr(request, "param", {}))


@pytest.fixture
async def ops(database_url, isolated_kafka, operations_settings) -> AsyncIterator[Operations]:
    async with serve_emulator(seed=5, max_hold_seconds=10) as emulator:
        app = create_app(settings_for(database_url, isolated_kafka, emulator.url, operations=operations_settings))
        producer = AIOKafkaProducer(bootstrap_servers=isolated_kafka.servers, enable_idempotence=True)
        await producer.start()
        async with (app.router.lifespan_context(app),
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://payment",
                                      timeout=60) as api,
                    httpx.AsyncClient(base_url=emulator.url, timeout=10) as admin):
            root = logging.getLogger()
            capture = LogCapture(root.handlers[0].formatter if root.handlers else None)
            root.addHandler(capture)
            h = PaymentHarness(isolated_kafka, emulator, api, admin, producer, database_url, logs=capture)
            reader = asyncio.create_task(read_events_forever(isolated_kafka, h))
            try:
                await h.put_credentials()
                await h.put_operator_key()
                yield Operations(h)
            finally:
                await cancel(reader)
                root.removeHandler(capture)
        await producer.stop()
