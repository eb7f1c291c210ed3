"""The payment service started in-process on this test's database, topics and emulator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from delivery.settings import ConsumerSettings
from emulator.config import DEMO_MERCHANT, EngineConfig, Merchant
from emulator.testing import serve_emulator
from emulator.tls import TlsFiles
from services.payment.app import create_app
from services.payment.ports import Clock
from services.payment.settings import GatewaySettings, PaymentSettings
from tests.integration.payment.support import LogCapture, PaymentHarness, cancel, read_events_forever

TEST_KEY = "dGVzdC1vbmx5IGtleSBmb3IgcGF5bWVudCB0ZXN0cyE="  # base64("test-only key for payment tests!")


def settings_for(database_url: str, kafka, emulator_url: str, **overrides) -> PaymentSettings:
    """Short read timeouts and backoffs so failure paths finish quickly (the connect timeout is 5 s: no test needs a
    short one, and 1 s to connect on loopback was missed at load 20-30); secrets not the dev defaults."""
    base = {
        "database_url": database_url, "kafka": kafka, "escott_base_url": emulator_url,
        "internal_token": SecretStr("test-internal-token-0123456789"), "encryption_key": SecretStr(TEST_KEY),
        "gateway": GatewaySettings(read_timeout_s=2.0, connect_timeout_s=5.0, retry_backoff_s=0.05),
        "consumer": ConsumerSettings(backoff_initial_s=0.05, backoff_max_s=0.2, max_attempts=3),
        "member_lease_s": 10.0,
    }
    return PaymentSettings(**{**base, **overrides})


@asynccontextmanager
async def payment_harness(database_url: str, kafka, *, seed: int, api_timeout: float = 5.0,
                          admin_timeout: float = 5.0, clock: Clock | None = None,
                          merchants: list[Merchant] | None = None, emulator_config: EngineConfig | None = None,
                          emulator_tls: TlsFiles | None = None, **overrides) -> AsyncIterator[PaymentHarness]:
    """The payment service with the emulator, a producer, its logs captured and payments.events read from the
    start; shop-1's credentials, operator key and storefront key registered. Everything is stopped afterwards,
    bounded. `clock`: the service's clock (tests that move time pass a `MovableClock`); `merchants`: the
    emulator's merchants besides the demo one; `emulator_config`: the emulator's readings (e.g. 1ReAuth pairs);
    `emulator_tls`: the service talks HTTPS to the emulator, trusting only that CA (`PAYMENT_GATEWAY__CA_FILE`)."""
    async with serve_emulator(seed=seed, max_hold_seconds=10, config=emulator_config, tls=emulator_tls,
                              merchants=[DEMO_MERCHANT, *(merchants or [])]) as emulator:
        gateway_url = emulator.url
        if emulator_tls is not None and emulator.https_url is not None:
            gateway_url = emulator.https_url
            overrides.setdefault("gateway", GatewaySettings(read_timeout_s=2.0, connect_timeout_s=5.0,
                                                            retry_backoff_s=0.05, ca_file=str(emulator_tls.ca_cert)))
        app = create_app(settings_for(database_url, kafka, gateway_url, **overrides), clock=clock)
        producer = AIOKafkaProducer(bootstrap_servers=kafka.servers, enable_idempotence=True)
        await producer.start()
        try:
            async with (app.router.lifespan_context(app),
                        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://payment",
                                          timeout=api_timeout) as api,
                        httpx.AsyncClient(base_url=emulator.url, timeout=admin_timeout) as admin):
                root = logging.getLogger()
                capture = LogCapture(root.handlers[0].formatter if root.handlers else None)
                root.addHandler(capture)
                h = PaymentHarness(kafka=kafka, emulator=emulator, api=api, admin=admin, producer=producer,
                                   database_url=database_url, logs=capture)
                reader = asyncio.create_task(read_events_forever(kafka, h))
                try:
                    await h.put_credentials()
                    await h.put_operator_key()
                    await h.put_storefront_key()
                    yield h
                finally:
                    await cancel(reader)
                    root.removeHandler(capture)
        finally:
            await producer.stop()


@pytest.fixture
async def harness(database_url, isolated_kafka) -> AsyncIterator[PaymentHarness]:
    async with payment_harness(database_url, isolated_kafka, seed=3) as h:
        yield h
