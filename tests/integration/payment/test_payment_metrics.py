"""`GET /metrics` of the payment service: what ops alert on (payments needing an operator, design §6.2) and
what they scale on (records handled or dead-lettered, gateway latency), moved by real traffic."""

from __future__ import annotations

import pytest

from contracts.topics import ORDERS_EVENTS
from tests.integration.payment.support import PaymentHarness, order_placed
from tests.integration.payment.test_unknown_outcomes import resolve, unknown_order
from tests.metrics_reading import sample, scrape
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_an_unknown_outcome_shows_as_needing_an_operator_until_resolved(harness: PaymentHarness) -> None:
    before = await scrape(harness.api)
    assert sample(before, "payment_needs_operator", kind="unknown_outcome") == 0
    assert sample(before, "payment_oldest_unknown_seconds") == 0
    order, _ = await unknown_order(harness)
    during = await scrape(harness.api)
    assert sample(during, "payment_needs_operator", kind="unknown_outcome") == 1
    assert sample(during, "payment_needs_operator", kind="two_live_holds") == 0
    assert (sample(during, "payment_oldest_unknown_seconds") or 0) > 0
    assert sample(during, "escott_call_seconds_count", operate_id="1Auth", outcome="unknown") == 1

    assert (await resolve(harness, order.order_id, {"outcome": "not_authorized"})).status_code == 200
    after = await scrape(harness.api)
    assert sample(after, "payment_needs_operator", kind="unknown_outcome") == 0
    assert sample(after, "payment_oldest_unknown_seconds") == 0


async def test_consumed_records_gateway_calls_and_dead_letters_are_counted(harness: PaymentHarness) -> None:
    order = order_placed(token=await harness.token())
    await harness.publish(order)
    await harness.outcome(order.order_id)
    await harness.producer.send_and_wait(harness.kafka.topic(ORDERS_EVENTS), b"not an envelope", key=b"junk")
    topic = harness.kafka.topic(ORDERS_EVENTS)

    async def counted() -> dict | None:
        samples = await scrape(harness.api)
        done = sample(samples, "kafka_records_total", topic=topic, outcome="dead_lettered")
        caught_up = sample(samples, "kafka_consumer_lag", topic=topic) == 0  # both records behind the commit point
        # the dead letter and PaymentAuthorized leave through the outbox; a broker moving partition leaders (a busy
        # shared broker) can hold a row back for a moment, so wait for the outbox to drain rather than sample it once
        drained = sample(samples, "outbox_waiting_rows") == 0
        return samples if done and caught_up and drained else None

    samples = await eventually(counted, message="the junk record dead-lettered, counted, the lag and the outbox at 0")
    assert sample(samples, "kafka_records_total", topic=topic, outcome="dead_lettered") == 1
    assert sample(samples, "kafka_records_total", topic=topic, outcome="handled") == 1
    assert sample(samples, "kafka_record_handle_seconds_count", topic=topic) == 2
    assert sample(samples, "escott_call_seconds_count", operate_id="1Auth", outcome="ok") == 1
    assert (sample(samples, "outbox_published_total") or 0) >= 1  # PaymentAuthorized went out via the outbox


async def test_a_declined_authorization_is_counted_by_code_kind(harness: PaymentHarness) -> None:
    order = order_placed(token=await harness.token("4000000000000002"))  # the emulator declines it with G12
    await harness.publish(order)
    assert (await harness.outcome(order.order_id)).type == "payment.declined.v1"
    samples = await scrape(harness.api)
    assert sample(samples, "escott_declines_total", operate_id="1Auth", code_kind="G") == 1
    assert sample(samples, "escott_call_seconds_count", operate_id="1Auth", outcome="declined") == 1
    assert sample(samples, "escott_declines_total", operate_id="1Auth", code_kind="K") is None
