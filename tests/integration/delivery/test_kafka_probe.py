"""The health check's Kafka probe (delivery.kafka.broker_answers) against a real broker."""

from __future__ import annotations

import pytest

from delivery.kafka import broker_answers, make_broker

pytestmark = pytest.mark.kafka


async def test_the_probe_is_true_only_while_the_broker_is_connected_and_answers(kafka_settings):
    broker = make_broker(kafka_settings, client_id="probe-test")
    assert await broker_answers(broker, timeout=0.5) is False  # not connected yet: no client to ask with
    await broker.connect()
    try:
        assert await broker_answers(broker, timeout=5.0) is True
    finally:
        await broker.stop()
    assert await broker_answers(broker, timeout=0.5) is False
