"""I5/I6: credentials pass through to payment and appear nowhere else; one shop's keys never open another."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from contracts.topics import topics_to_create
from tests.integration.checkout.harness import CREDENTIALS, checkout_body

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
SECRETS = (CREDENTIALS["merchant_pass"], CREDENTIALS["token_auth_code"])


async def test_gateway_credentials_reach_payment_and_never_the_database_logs_events_or_responses(
        checkout, payment_stub, service_log):
    shop = await checkout.configured_shop("tea")
    assert payment_stub.credentials == {"tea": CREDENTIALS}
    view = await checkout.http.get("/v1/shops/tea/settings", headers=shop.operator)
    assert view.json()["payment_methods"][0]["gateway_credentials_set"] is True
    await checkout.placed(shop, checkout_body())  # some traffic through outbox, Kafka and the consumer
    logs, database, kafka = service_log.getvalue(), await _database_text(checkout), await _kafka_text(checkout)
    assert "gateway credentials of shop tea accepted" in logs and "10000001" not in database  # not vacuous
    assert "shop.settings_changed.v1" in kafka and "order.placed.v1" in kafka
    visible = [view.text, logs, database, kafka]
    for secret in SECRETS:
        assert all(secret not in text for text in visible), "a credential leaked"


async def test_credentials_not_taken_by_payment_or_malformed_are_reported_and_not_marked_set(
        checkout, payment_stub):
    shop = await checkout.create_shop("tea")
    await checkout.http.post("/v1/shops/tea/payment-methods", json={}, headers=shop.operator)
    payment_stub.down = True
    response = await checkout.http.put("/v1/shops/tea/gateway-credentials", json=CREDENTIALS, headers=shop.operator)
    assert (response.status_code, response.json()["reason_code"]) == (502, "payment_service_unavailable")
    assert all(secret not in response.text for secret in SECRETS)
    view = (await checkout.http.get("/v1/shops/tea/settings", headers=shop.operator)).json()
    assert view["payment_methods"][0]["gateway_credentials_set"] is False
    malformed = await checkout.http.put("/v1/shops/tea/gateway-credentials", headers=shop.operator,
                                        json={**CREDENTIALS, "merchant_id": "M-1"})
    assert (malformed.status_code, malformed.json()["reason_code"]) == (422, "schema_invalid")
    assert all(secret not in malformed.text for secret in SECRETS)


async def test_one_shops_keys_never_read_or_change_another_shop(checkout):
    tea = await checkout.configured_shop("tea")
    cups = await checkout.configured_shop("cups")
    placed = await checkout.placed(cups, checkout_body("cups-order"))
    for method, path in (("GET", "/v1/shops/cups/settings"), ("GET", "/v1/shops/cups/orders"),
                         ("GET", f"/v1/shops/cups/orders/{placed['order_id']}"), ("PUT", "/v1/shops/cups/mail")):
        response = await checkout.http.request(method, path, headers=tea.operator, json={})
        assert response.status_code == 404, (path, response.text)
    other_order = await checkout.http.get(f"/v1/shops/tea/orders/{placed['order_id']}", headers=tea.operator)
    assert other_order.status_code == 404
    assert (await checkout.outcome(tea, "cups-order")).status_code == 404
    as_cups = await checkout.submit(tea, {**checkout_body(), "shop_id": "cups"})
    assert as_cups.status_code == 404
    storefront_as_operator = await checkout.http.get("/v1/shops/tea/settings",
                                                     headers={"X-Operator-Key": tea.storefront_key})
    assert storefront_as_operator.status_code == 404
    assert (await checkout.http.get("/v1/checkouts/x", headers={"X-Storefront-Key": "nope"})).status_code == 401


async def _database_text(checkout) -> str:
    tables = [r["tablename"] for r in await checkout.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")]
    parts = []
    for table in tables:
        for row in await checkout.fetch(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from pg_tables
            parts.extend(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row.values())
    return "\n".join(parts)


async def _kafka_text(checkout) -> str:
    """Every record on every topic of this test (and its DLQs), read up to the end offsets at this moment."""
    consumer = AIOKafkaConsumer(bootstrap_servers=checkout.kafka.servers, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(checkout.kafka.topic(spec.name), p)
               for spec in topics_to_create() for p in range(spec.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = {tp: end for tp, end in (await consumer.end_offsets(tps)).items() if end > 0}
        parts: list[str] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for records in (await consumer.getmany(*ends, timeout_ms=500)).values():
                parts.extend((r.value or b"").decode("utf-8", "replace") for r in records)
        return "\n".join(parts)
    finally:
        await consumer.stop()
