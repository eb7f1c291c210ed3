"""Design §6.4: one payment process keeps many gateway calls in flight (different orders at once)."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.payment.support import PaymentHarness, order_placed
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
ORDERS = 64


async def test_one_payment_process_authorizes_dozens_of_orders_concurrently(harness: PaymentHarness) -> None:
    tokens = [await harness.token() for _ in range(ORDERS)]
    await harness.faults({"operations": {"1Auth": {"latency_ms": 1000}}})
    orders = [order_placed(token=token) for token in tokens]
    await asyncio.gather(*(harness.publish(order) for order in orders))

    async def all_authorized() -> bool:
        return all(any(e.type == "payment.authorized.v1" for e in harness.events_of(o.order_id)) for o in orders)

    await eventually(all_authorized, timeout=120, message=f"{ORDERS} authorizations")
    stats = (await harness.admin.get("/_emulator/stats")).json()
    assert stats["max_in_flight"] >= 32, stats
    assert stats["transactions"]["authorized"] == ORDERS
