"""Checkout started while the broker is down (issue 17): its HTTP API serves as soon as its database is ready, its
health check says what is not ready yet, and once the broker comes it connects, joins its group and catches up,
without the process's start ever failing (uvicorn exits with status 3 when the lifespan raises)."""

from __future__ import annotations

import httpx
import pytest

from deploy.local.kafka import free_port
from services.checkout.app import create_app
from tests.forwarding import forwarding
from tests.integration.checkout.harness import Checkout, checkout_body
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def health(client: httpx.AsyncClient) -> tuple[int, dict]:
    response = await client.get("/health")
    return response.status_code, response.json()["checks"]


async def test_checkout_serves_while_the_broker_is_down_and_joins_its_group_once_it_comes(checkout_settings):
    port = free_port()  # nothing listens here yet: the broker is down
    down = checkout_settings.kafka.model_copy(update={"bootstrap_servers": f"127.0.0.1:{port}"})
    app = create_app(checkout_settings.model_copy(update={"kafka": down}))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://c") as http:
        checkout = Checkout(http, checkout_settings.kafka, checkout_settings.database_url)
        status, checks = await health(http)
        assert status == 503
        assert checks["postgres"] is True and checks["kafka"] is False and checks["consumers"] is False
        shop = await checkout.configured_shop("shop-broker-down")  # the API answers: it needs the database only
        placed = await checkout.submit(shop, checkout_body())
        assert (placed.status_code, placed.json()["status"]) == (202, "pending_payment")  # OrderPlaced waits
        async with forwarding(port, checkout_settings.kafka.bootstrap_servers):

            async def healthy() -> bool:
                return (await health(http))[0] == 200

            await eventually(healthy, timeout=90, interval=0.2, message="checkout healthy once the broker came")
            published = await checkout.order_events(at_least=1)  # the outbox relay ran once connected
    assert [e.type for e in published] == ["order.placed.v1"]
