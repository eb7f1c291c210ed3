"""Handlers on real PostgreSQL with a gateway that dies mid-call or cannot be reached (no Kafka needed).

Design §6.2: the attempt is committed before sending, so a process that stops after sending leaves an
attempt `sending`; picking the order up again must treat it as unknown and never send it a second time.
A call that certainly never left (connection refused) may be sent again, a bounded number of times.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from types import SimpleNamespace

import asyncpg
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from contracts.envelope import Envelope
from contracts.events.commands import CapturePayment
from contracts.topics import ORDERS_EVENTS, PAYMENTS_COMMANDS, dlq
from delivery.clock import SystemClock
from delivery.db import migrate
from delivery.metrics import ServiceMetrics
from delivery.sealing import DEV_ONLY_SEAL_KEY, TokenSealer
from delivery.units import UnitOfWorkFactory
from services.payment import translate
from services.payment.adapters.crypto import Cipher
from services.payment.adapters.escott import EscottGateway, EscottTimeouts, create_http_client
from services.payment.adapters.gateway import EscottCardGateway
from services.payment.adapters.ids import RandomIds
from services.payment.adapters.metrics import watch_attention
from services.payment.adapters.postgres.uow import PaymentUnitOfWork
from services.payment.app import MIGRATIONS
from services.payment.domain.gateway import GatewayOperation, Outcome, Reply
from services.payment.domain.model import PaymentState
from services.payment.handlers.deps import Deps, Policy
from services.payment.handlers.janitor import sweep_stuck
from services.payment.handlers.orders import place_payment
from services.payment.ports import Credentials, GatewayAnswer, GatewayCall
from tests.integration.payment.conftest import TEST_KEY
from tests.integration.payment.support import SHOP, order_placed
from tests.kafka_reading import read_topic

pytestmark = [pytest.mark.postgres]


class DiesAfterSending:
    """The process stops while the call is on the wire (here: the call raises after being 'sent')."""

    def __init__(self) -> None:
        self.calls: list[GatewayCall] = []

    async def send(self, call: GatewayCall) -> GatewayAnswer:
        self.calls.append(call)
        raise RuntimeError("process died after sending")


class TokenSpent(DiesAfterSending):
    """After the restart: 1TokenSearch says the token was used (KI2), so the gateway processed the lost call."""

    async def send(self, call: GatewayCall) -> GatewayAnswer:
        if call.operation is not GatewayOperation.TOKEN_SEARCH:
            return await super().send(call)
        self.calls.append(call)
        return GatewayAnswer(reply=Reply(outcome=Outcome.DECLINED, codes=("KI2",)))


@pytest.fixture
async def pool(database_url) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def uow(pool) -> UnitOfWorkFactory[PaymentUnitOfWork]:
    async with pool.acquire() as conn:
        await migrate(conn, MIGRATIONS)
    cipher = Cipher(SecretStr(TEST_KEY))
    factory = UnitOfWorkFactory(SimpleNamespace(pool=pool), partial(PaymentUnitOfWork, cipher=cipher))
    async with factory() as tx:
        await tx.shops.put_credentials(SHOP, Credentials(merchant_id="10000001",
                                                         merchant_pass=SecretStr("escottpass01"),
                                                         token_auth_code=SecretStr("DEMOTOKEN0001")))
    return factory


def handlers(uow: UnitOfWorkFactory[PaymentUnitOfWork], gateway) -> Deps:
    return Deps(uow=uow, gateway=gateway, clock=SystemClock(), ids=RandomIds(), sealer=TokenSealer(DEV_ONLY_SEAL_KEY),
                policy=Policy(retry_backoff_s=0.01))


async def outbox_events(pool: asyncpg.Pool) -> list[dict]:
    rows = await pool.fetch("SELECT payload FROM outbox ORDER BY id")
    return [json.loads(Envelope.from_bytes(r["payload"]).model_dump_json()) for r in rows]


async def test_an_attempt_interrupted_after_sending_becomes_unknown_and_is_never_sent_again(uow, pool) -> None:
    order, token = translate.place_order(order_placed(token="T" * 40), TokenSealer(DEV_ONLY_SEAL_KEY))
    crashing = DiesAfterSending()
    with pytest.raises(RuntimeError):
        await place_payment(handlers(uow, crashing), order, token)
    second = TokenSpent()
    payment = await place_payment(handlers(uow, second), order, token)
    assert (payment.state, len(crashing.calls)) == (PaymentState.UNKNOWN, 1)
    assert [c.operation for c in second.calls] == [GatewayOperation.TOKEN_SEARCH]  # a probe, never the charge
    [event] = await outbox_events(pool)
    assert (event["type"], event["data"]["reason"], event["data"]["operation"]) == (
        "payment.outcome_unknown.v1", "interrupted", "1Auth")


async def test_a_gateway_that_cannot_be_reached_is_tried_again_then_declined(uow, pool) -> None:
    http = create_http_client(EscottTimeouts(connect=0.5, read=1.0, pool=1.0))
    async with http:
        gateway = EscottCardGateway(EscottGateway(http, "http://127.0.0.1:9"))  # nothing listens: refused
        order, token = translate.place_order(order_placed(token="T" * 40), TokenSealer(DEV_ONLY_SEAL_KEY))
        payment = await place_payment(handlers(uow, gateway), order, token)
    assert (payment.state, payment.reason) == (PaymentState.DECLINED, "gateway_unreachable")
    async with uow() as tx:
        history = await tx.attempts.history(order.order_id)
    assert [(a.operation.value, a.status.value) for a in history] == [("1Auth", "not_sent")] * 3
    [event] = await outbox_events(pool)
    assert (event["type"], event["data"]["codes"]) == ("payment.declined.v1", [])


async def test_an_order_whose_sealed_token_does_not_open_is_dead_lettered_not_declined(harness) -> None:
    """A seal-key mismatch between checkout and payment keeps the order (DLQ, replayable), never declines it."""
    placed = order_placed(token=await harness.token()).model_copy(
        update={"sealed_token": TokenSealer(Fernet.generate_key().decode()).seal("tok")})
    await harness.publish(placed)
    [dead] = await read_topic(harness.kafka, harness.kafka.topic(dlq(ORDERS_EVENTS)), at_least=1)
    reason = dict(dead.headers)["dlq-reason"].decode()
    assert reason.startswith(f"permanent error: order {placed.order_id}: the sealed card token does not open")
    assert await harness.ledger() == []


async def test_a_command_for_an_order_without_payment_is_dead_lettered_at_once_not_retried(harness) -> None:
    """Issue 17: a hostile capture (unknown order, or another shop's) was retried 5 times before the DLQ."""
    await harness.publish(CapturePayment(order_id="ord-never-placed", shop_id="someone-elses-shop"))
    [dead] = await read_topic(harness.kafka, harness.kafka.topic(dlq(PAYMENTS_COMMANDS)), at_least=1)
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["dlq-reason"] == ("permanent error: no payment for order ord-never-placed of shop "
                                     "someone-elses-shop")
    assert headers["dlq-attempts"] == "1"
    assert await harness.ledger() == []


async def test_the_janitor_settles_a_call_left_sending_on_real_postgres_once(uow, pool) -> None:
    order, token = translate.place_order(order_placed(token="T" * 40), TokenSealer(DEV_ONLY_SEAL_KEY))
    with pytest.raises(RuntimeError):
        await place_payment(handlers(uow, DiesAfterSending()), order, token)
    deps = handlers(uow, DiesAfterSending())
    assert await sweep_stuck(deps, stuck_after=timedelta(hours=1), limit=10) == 0  # too recent: maybe alive
    assert await sweep_stuck(deps, stuck_after=timedelta(0), limit=10) == 1
    assert await sweep_stuck(deps, stuck_after=timedelta(0), limit=10) == 0
    [event] = await outbox_events(pool)
    assert (event["type"], event["data"]["reason"]) == ("payment.outcome_unknown.v1", "interrupted")
    # the finding is recorded with the settlement: the metric is read from it, so a restart does not reset it
    assert await pool.fetchval("SELECT count(*) FROM janitor_findings WHERE state = 'unknown'") == 1
    metrics = ServiceMetrics("payment-after-a-restart")
    watch_attention(metrics, SimpleNamespace(pool=pool))
    assert b"payment_janitor_settled_total 1.0" in await metrics.exposition()
