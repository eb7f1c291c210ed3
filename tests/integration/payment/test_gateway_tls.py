"""The payment service over the emulator's HTTPS with certificate verification on (`PAYMENT_GATEWAY__CA_FILE`):
an order is authorized and captured through TLS; the same service without the CA never reaches the gateway."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.events import PaymentAuthorized
from emulator.tls import ensure_certificates
from services.payment.settings import GatewaySettings
from tests.integration.payment.conftest import payment_harness
from tests.integration.payment.support import order_placed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_the_service_authorizes_over_https_trusting_only_the_emulators_ca(
        database_url, isolated_kafka, tmp_path: Path) -> None:
    tls = ensure_certificates(tmp_path)
    async with payment_harness(database_url, isolated_kafka, seed=21, emulator_tls=tls) as h:
        assert h.emulator.https_url is not None
        order = order_placed(token=await h.token(), amount=3300, sales_mode="auth_capture")
        await h.publish(order)
        event = (await h.outcome(order.order_id)).event_as(PaymentAuthorized)
        [tx] = await h.ledger(MerchantFree1=order.payment_number)
        assert (event.amount, tx["state"], tx["amount"]) == (3300, "captured", 3300)


async def test_without_the_ca_the_service_sends_nothing(database_url, isolated_kafka, tmp_path: Path) -> None:
    """Verification on: the default CAs do not know the emulator's, so the call fails before sending."""
    tls = ensure_certificates(tmp_path)
    untrusting = GatewaySettings(read_timeout_s=2.0, connect_timeout_s=1.0, retry_backoff_s=0.05, send_attempts=1)
    async with payment_harness(database_url, isolated_kafka, seed=22, emulator_tls=tls, gateway=untrusting) as h:
        order = order_placed(token=await h.token(), amount=3300)
        await h.publish(order)
        outcome = await h.outcome(order.order_id)
        assert (outcome.type, outcome.data["codes"]) == ("payment.declined.v1", []), outcome.data
        assert await h.ledger(MerchantFree1=order.payment_number) == []
        assert h.emulator.engine.ledger.counters["1Auth"].requests == 0
