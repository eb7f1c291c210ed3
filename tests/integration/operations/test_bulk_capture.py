"""Bulk capture: hundreds of orders in one request, each its own operation with its own result, the gateway
calls concurrent but bounded (200 ms gateway latency here, as in production)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.integration.operations.support import Operations
from tests.integration.payment.support import order_placed
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
ORDERS = 500


async def test_bulk_capture_of_500_orders_answers_per_order(ops: Operations) -> None:
    tokens = [await ops.h.token() for _ in range(ORDERS)]
    orders = [order_placed(token=token, amount=1000 + n) for n, token in enumerate(tokens)]
    await asyncio.gather(*(ops.h.publish(order) for order in orders))

    async def all_authorized() -> bool:
        stats = (await ops.h.admin.get("/_emulator/stats")).json()
        return stats["transactions"].get("authorized", 0) == ORDERS

    await eventually(all_authorized, timeout=120, message=f"{ORDERS} authorizations")
    await ops.post(orders[0].order_id, "cancel")
    await ops.h.faults({"operations": {"1Capture": {"latency_ms": 200}}})
    body = {"orders": [{"order_id": o.order_id} for o in orders] + [{"order_id": "ord-missing"}],
            "requested_by": "ops-bulk"}
    started = time.perf_counter()
    response = await ops.h.api.post("/v1/shops/shop-1/payments/bulk-capture", json=body,
                                    headers={"X-Operator-Key": "test-operator-key-for-shop-1"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["summary"] == {"succeeded": ORDERS - 1, "refused": 1, "not_found": 1}
    results = {r["order_id"]: r for r in data["results"]}
    assert results[orders[0].order_id]["reason_code"] == "already_canceled"
    assert results[orders[7].order_id]["payment"]["captured_amount"] == 1007
    stats = (await ops.h.admin.get("/_emulator/stats")).json()
    assert stats["transactions"]["captured"] == ORDERS - 1
    assert 1 < stats["max_in_flight"] <= 64
    print(f"bulk capture of {ORDERS} orders at 200 ms gateway latency: {elapsed:.2f} s")
