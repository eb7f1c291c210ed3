"""Each injected fault maps to the right client classification, and the ledger shows what really happened."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from pydantic import SecretStr

from emulator.testing import RunningEmulator
from services.payment.adapters.escott import (
    EscottGateway,
    EscottTimeouts,
    Outcome,
    ProcessRef,
    create_http_client,
)
from tests.integration.escott.conftest import DEMO, Harness
from tests.waiting import eventually


async def test_reset_after_processing_is_unknown_but_the_hold_exists(harness: Harness) -> None:
    await harness.faults({"seed": 1, "operations": {"1Auth": {"reset_after": 1.0}}})
    token = await harness.token()
    result = await harness.gateway.authorize(DEMO, token, amount=700)
    assert result.outcome is Outcome.UNKNOWN
    assert [row["state"] for row in await harness.ledger()] == ["authorized"]
    await harness.admin.delete("/_emulator/faults")
    assert (await harness.gateway.authorize(DEMO, token, amount=700)).codes == ("KI2",)  # the safe probe


async def test_no_answer_is_unknown_and_nothing_was_processed(harness: Harness) -> None:
    await harness.faults({"operations": {"1Auth": {"no_answer": 1.0}}})
    result = await harness.gateway.authorize(DEMO, await harness.token(), amount=700)
    assert (result.outcome, result.reason) == (Outcome.UNKNOWN, "ReadTimeout")
    assert await harness.ledger() == []


async def test_http_5xx_is_unknown_and_garbage_is_unknown(harness: Harness) -> None:
    await harness.faults({"operations": {"1Auth": {"http_5xx": 1.0}, "1Gathering": {"garbage": 1.0}}})
    failed = await harness.gateway.authorize(DEMO, await harness.token(), amount=700)
    assert (failed.outcome, failed.reason) == (Outcome.UNKNOWN, "HTTP 503")
    garbled = await harness.gateway.authorize_and_capture(DEMO, await harness.token(), amount=700)
    assert (garbled.outcome, garbled.reason) == (Outcome.UNKNOWN, "unparsable reply")
    assert [row["kind"] for row in await harness.ledger()] == ["1Gathering"]
    stats = (await harness.admin.get("/_emulator/stats")).json()
    assert stats["faults_applied"] == {"1Auth": {"http_5xx": 1}, "1Gathering": {"garbage": 1}}


async def test_stall_test_card_times_out_as_unknown(harness: Harness) -> None:
    result = await harness.gateway.authorize(DEMO, await harness.token("4000000000000044"), amount=100)
    assert result.outcome is Outcome.UNKNOWN
    assert await harness.ledger() == []


async def test_latency_applies_per_operation(harness: Harness) -> None:
    await harness.faults({"operations": {"1Auth": {"latency_ms": 150}}})
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await harness.gateway.authorize(DEMO, await harness.token(), amount=100)).ok
    assert loop.time() - started >= 0.15


async def test_connection_refused_is_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with create_http_client() as http:
        gateway = EscottGateway(http, f"http://127.0.0.1:{port}")
        result = await gateway.search(DEMO, ProcessRef("A" * 32, SecretStr("B" * 32)))
    assert (result.outcome, result.reason) == (Outcome.NOT_SENT, "ConnectError")


async def test_pool_exhaustion_is_not_sent(harness: Harness) -> None:
    await harness.faults({"operations": {"1Auth": {"no_answer": 1.0}}})
    timeouts = EscottTimeouts(connect=2, read=5, pool=0.2)
    async with create_http_client(timeouts, max_connections=1) as http:
        gateway = EscottGateway(http, harness.emulator.url)
        held = asyncio.create_task(gateway.authorize(DEMO, await harness.token(), amount=100))
        await eventually(_held(harness.emulator), timeout=5, interval=0.01, message="request held")
        starved = await gateway.authorize(DEMO, await harness.token(), amount=100)
        assert (starved.outcome, starved.reason) == (Outcome.NOT_SENT, "PoolTimeout")
        harness.emulator.runtime.release_held()
        assert (await held).outcome is Outcome.UNKNOWN


def _held(emulator: RunningEmulator) -> Callable[[], Awaitable[bool]]:
    """A check for ``eventually``: is a request being held without an answer?"""
    async def check() -> bool:
        return emulator.runtime.held == 1

    return check


async def _php_style_post(port: int, body: bytes) -> bytes:
    """Like the PHP plugins: raw socket, ``Connection: close``, read to EOF, split on the blank line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (f"POST /online/aut/OAUT002.do HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n")
    writer.write(head.encode() + body)
    raw = await reader.read(-1)
    writer.close()
    return raw.split(b"\r\n\r\n", 1)[1]


async def test_thousand_concurrent_requests_at_200ms_are_all_answered(harness: Harness) -> None:
    await harness.faults({"default": {"latency_ms": 200}})
    port = int(harness.emulator.url.rsplit(":", 1)[1])
    body = (b"MerchantId=10000001&MerchantPass=escottpass01&TransactionDate=20250101&OperateId=1Check"
            b"&TenantId=0001&CardNo=4111111111111111&CardExp=3012")
    async with asyncio.timeout(20):
        replies = await asyncio.gather(*(_php_style_post(port, body) for _ in range(1000)))
    assert all(r.endswith(b"ResponseCd=OK") or b"ResponseCd=OK&" in r for r in replies)
    assert (await harness.admin.get("/_emulator/stats")).json()["max_in_flight"] >= 900
