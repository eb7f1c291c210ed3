"""Gateway errors on operations are shown raw with their descriptions (R16 for operators); the live status says
R17's 「決済状況が確認できません」 with the code when 1Search fails; unknown outcomes are kept, never resent."""

from __future__ import annotations

import asyncio

import pytest

from contracts.events import PaymentOperationFailed
from services.payment.domain.codes import STATUS_UNREADABLE
from tests.integration.operations.support import Operations
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def declined_with(response, code: str) -> None:
    body = response.json()
    assert (response.status_code, body["result"], body["reason_code"], body["codes"]) == (
        422, "declined", "gateway_declined", [code]), response.text
    assert body["descriptions"][0]  # "<ja> / <en>" from the protocol reference's code table


async def test_k14_a_hold_voided_in_sonys_screen_cannot_be_captured(ops: Operations) -> None:
    order = await ops.authorized(5500)
    await ops.cancel_behind_our_back(order)
    response = await ops.post(order.order_id, "capture")
    declined_with(response, "K14")
    assert "状態遷移" in response.json()["descriptions"][0]
    assert response.json()["payment"]["state"] == "authorized"  # our record is not rewritten by a refusal
    [event] = await ops.event(order, "payment.operation_failed.v1")
    failed = event.event_as(PaymentOperationFailed)
    assert (failed.operation, failed.outcome, failed.gateway_operation, failed.codes) == (
        "capture", "declined", "1Capture", ["K14"])
    assert failed.descriptions and "状態遷移" in failed.descriptions[0]
    history = (await ops.view(order.order_id))["history"]
    assert (history[-1]["operation"], history[-1]["codes"], history[-1]["status"]) == ("1Capture", ["K14"],
                                                                                      "declined")


async def test_k23_an_amount_the_gateway_refuses_is_reported_raw(ops: Operations) -> None:
    order = await ops.authorized(5500)
    await ops.edit_order(order, 10_000_000)
    response = await ops.post(order.order_id, "update-amount")
    declined_with(response, "K23")
    assert await ops.live_holds(order) == [("authorized", 5500)]  # the old hold is untouched
    assert response.json()["payment"]["update_required"] is True


async def test_k12_an_expired_transaction_is_declined_and_the_live_status_is_unreadable_r17(
        ops: Operations) -> None:
    order = await ops.authorized(5500)
    (await ops.h.admin.post("/_emulator/clock", json={"advance_seconds": 401 * 86400})).raise_for_status()
    declined_with(await ops.post(order.order_id, "cancel"), "K12")
    view = await ops.view(order.order_id)
    live = view["live"]
    assert (live["available"], live["message"], live["codes"]) == (False, STATUS_UNREADABLE, ["K12"])
    assert live["descriptions"][0]
    assert view["state"] == "authorized"


async def test_the_live_status_reads_the_gateways_current_amount(ops: Operations) -> None:
    order = await ops.authorized(5500)
    await ops.post(order.order_id, "capture")
    live = (await ops.view(order.order_id))["live"]
    assert (live["available"], live["amount"], live["message"]) == (True, 5500, None)
    assert live["sales_date"]
    reads = (await ops.view(order.order_id, live="false", status_reads="true"))["history"]
    assert [a["operation"] for a in reads if a["action"] == "status"] == ["1Search"]


async def test_an_unknown_outcome_is_never_resent_and_blocks_until_an_operator_resolves_it(
        ops: Operations) -> None:
    order = await ops.authorized(5500)
    await ops.h.faults({"operations": {"1Capture": {"http_5xx": 1.0}}})
    response = await ops.post(order.order_id, "capture")
    assert (response.status_code, response.json()["reason_code"]) == (502, "gateway_outcome_unknown")
    view = await ops.view(order.order_id, live="false")
    assert view["unknown_operation"]["action"] == "capture" and view["allowed_operations"] == []
    blocked = await ops.post(order.order_id, "cancel")
    assert (blocked.status_code, blocked.json()["reason_code"]) == (409, "operation_outcome_unknown")
    [event] = await ops.event(order, "payment.operation_failed.v1")
    assert (event.data["outcome"], event.data["reason"]) == ("unknown", "http_5xx")

    await ops.h.admin.delete("/_emulator/faults")
    resolved = await ops.post(order.order_id, "operations/resolve", {"outcome": "failed"})
    assert resolved.status_code == 200 and resolved.json()["payment"]["unknown_operation"] is None
    assert (await ops.post(order.order_id, "capture")).status_code == 200
    history = (await ops.view(order.order_id, live="false"))["history"]
    assert [(a["operation"], a["status"], a["resolution"]) for a in history[1:]] == [
        ("1Capture", "unknown", "failed"), ("1Capture", "ok", None)]


@pytest.mark.parametrize("operations_settings", [{"lease_s": 0.5}], indirect=True)
async def test_an_operation_that_outlives_its_lease_is_settled_as_unknown_by_the_next_request(
        ops: Operations) -> None:
    order = await ops.authorized(5500)
    await ops.h.faults({"operations": {"1Capture": {"no_answer": 1.0}}})
    stuck = asyncio.create_task(ops.post(order.order_id, "capture"))

    async def running() -> bool:
        return (await ops.view(order.order_id, live="false"))["operation_in_progress"] is not None

    await eventually(running, message="the capture is running")

    async def settled() -> dict | None:
        body = (await ops.post(order.order_id, "cancel")).json()
        assert body["reason_code"] in ("operation_in_progress", "operation_outcome_unknown"), body
        return body if body["reason_code"] == "operation_outcome_unknown" else None

    refused = await eventually(settled, timeout=10, message="the running capture settled as unknown")
    assert refused["payment"]["unknown_operation"]["reason"] == "interrupted"
    await ops.h.admin.post("/_emulator/release")
    late = await stuck
    assert (late.status_code, late.json()["result"]) == (502, "unknown")
    assert await ops.live_holds(order) == [("authorized", 5500)]  # a held request is never processed
    history = (await ops.view(order.order_id, live="false"))["history"]
    assert [(a["operation"], a["status"], a["reason"]) for a in history[1:]] == [("1Capture", "unknown",
                                                                                 "interrupted")]
