"""Design §6.4: one payment process keeps many gateway calls in flight (different orders at once)."""

from __future__ import annotations

import asyncio

import pytest

from services.payment.settings import GatewaySettings
from tests.integration.payment.conftest import payment_harness
from tests.integration.payment.support import PaymentHarness, order_placed
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
ORDERS = 64
LATENCY_MS = 4000
"""Every call is held this long: at least 32 must be in flight at once, i.e. the worker must have started 32 of the
64 within 4 s. (At 1 s a machine at load 20-30 that started them more slowly failed the check, though the worker's
concurrency cap is 256.)"""
PATIENT = GatewaySettings(read_timeout_s=15.0, connect_timeout_s=5.0, retry_backoff_s=0.05)
"""The shared harness's 2 s read timeout would turn a held call into an unknown outcome."""


@pytest.fixture
async def harness(database_url, isolated_kafka):
    async with payment_harness(database_url, isolated_kafka, seed=3, gateway=PATIENT) as h:
        yield h


async def test_one_payment_process_authorizes_dozens_of_orders_concurrently(harness: PaymentHarness) -> None:
    tokens = [await harness.token() for _ in range(ORDERS)]
    await harness.faults({"operations": {"1Auth": {"latency_ms": LATENCY_MS}}})
    orders = [order_placed(token=token) for token in tokens]
    await asyncio.gather(*(harness.publish(order) for order in orders))

    async def all_authorized() -> bool:
        return all(any(e.type == "payment.authorized.v1" for e in harness.events_of(o.order_id)) for o in orders)

    await eventually(all_authorized, timeout=120, message=f"{ORDERS} authorizations")
    stats = (await harness.admin.get("/_emulator/stats")).json()
    assert stats["max_in_flight"] >= 32, stats
    assert stats["transactions"]["authorized"] == ORDERS
