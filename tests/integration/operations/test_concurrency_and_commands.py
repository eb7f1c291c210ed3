"""Concurrent requests on one order send exactly one gateway operation; automation's commands on
payments.commands follow the same rules, answer with events, and are applied once."""

from __future__ import annotations

import asyncio

import pytest

from contracts.envelope import Envelope
from contracts.events import CancelPayment, CapturePayment, PaymentOperationFailed, UpdatePaymentAmount
from contracts.topics import PAYMENTS_COMMANDS, dlq
from tests.integration.operations.support import Operations
from tests.kafka_reading import read_topic
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_concurrent_captures_by_operators_and_automation_send_exactly_one_1capture(ops: Operations) -> None:
    order = await ops.authorized(5500)
    await ops.h.faults({"operations": {"1Capture": {"latency_ms": 200}}})
    command = ops.h.publish(CapturePayment(order_id=order.order_id, shop_id=order.shop_id, requested_by="bot"))
    responses = await asyncio.gather(*(ops.post(order.order_id, "capture", {"requested_by": f"ops-{n}"})
                                       for n in range(8)), command)
    answers = [r for r in responses if not isinstance(r, Envelope)]
    refused = [r.json() for r in answers if r.status_code == 409]
    assert len(refused) + sum(r.status_code == 200 for r in answers) == 8
    assert {r["reason_code"] for r in refused} <= {"operation_in_progress", "already_captured"}
    assert all(r["payment"]["state"] in ("authorized", "captured") for r in refused)

    async def command_answered() -> list[Envelope]:
        by_bot = [e for e in ops.events(order, "payment.captured.v1") if e.data["requested_by"] == "bot"]
        return by_bot or ops.events(order, "payment.operation_failed.v1")

    [answer] = await eventually(command_answered, message="the command's result event")
    await ops.event(order, "payment.captured.v1")
    assert sum(r.status_code == 200 for r in answers) + (answer.type == "payment.captured.v1") == 1
    assert (await ops.operate_ids(order)).count("1Capture") == 1
    assert len(ops.events(order, "payment.captured.v1")) == 1


async def test_commands_capture_update_and_refuse_like_the_operator_api(ops: Operations) -> None:
    order = await ops.authorized(5500)
    await ops.edit_order(order, 6100)
    capture = CapturePayment(order_id=order.order_id, shop_id=order.shop_id, requested_by="shipping-bot")
    await ops.h.publish(capture)
    [refused] = await ops.event(order, "payment.operation_failed.v1")
    failed = refused.event_as(PaymentOperationFailed)
    assert (failed.operation, failed.outcome, failed.reason, failed.requested_by) == (
        "capture", "refused", "update_required", "shipping-bot")

    await ops.h.publish(UpdatePaymentAmount(order_id=order.order_id, shop_id=order.shop_id, amount=6100))
    await ops.event(order, "payment.amount_updated.v1")
    envelope = await ops.h.publish(capture)
    await ops.h.publish(capture, event_id=envelope.event_id)  # a redelivered command is applied once
    [captured] = await ops.event(order, "payment.captured.v1")
    assert (captured.data["amount"], captured.data["requested_by"]) == (6100, "shipping-bot")

    await ops.h.publish(CancelPayment(order_id=order.order_id, shop_id=order.shop_id))
    _, too_late = await ops.event(order, "payment.operation_failed.v1", count=2)
    assert (too_late.data["operation"], too_late.data["reason"]) == ("cancel", "already_captured")
    assert await ops.live_holds(order) == [("captured", 6100)]
    assert (await ops.operate_ids(order)).count("1Capture") == 1


async def test_a_command_for_an_unknown_payment_is_dead_lettered_with_the_reason(ops: Operations) -> None:
    await ops.h.publish(CapturePayment(order_id="ord-missing", shop_id="shop-1"))
    [record] = await read_topic(ops.h.kafka, ops.h.kafka.topic(dlq(PAYMENTS_COMMANDS)), at_least=1)
    headers = dict(record.headers)
    assert record.key == b"ord-missing" and b"ord-missing" in headers["dlq-reason"]


async def test_a_command_repeated_under_its_event_id_with_another_body_is_dead_lettered_not_dropped(
        ops: Operations) -> None:
    order = await ops.authorized(5500)
    envelope = await ops.h.publish(CancelPayment(order_id=order.order_id, shop_id=order.shop_id, requested_by="bot"))
    await ops.event(order, "payment.canceled.v1")
    await ops.h.publish(CancelPayment(order_id=order.order_id, shop_id=order.shop_id, requested_by="other-bot"),
                        event_id=envelope.event_id)
    [record] = await read_topic(ops.h.kafka, ops.h.kafka.topic(dlq(PAYMENTS_COMMANDS)), at_least=1)
    reason = dict(record.headers)["dlq-reason"].decode()
    assert reason.startswith("permanent error: idempotency_key_reused") and "differing fields: data" in reason
    assert (await ops.operate_ids(order)).count("1Delete") == 1
