"""Design I5/§8: no token, password, KaiinPass or ProcessPass in any log line, event or API answer; stored
secrets are ciphertext only."""

from __future__ import annotations

import logging

import asyncpg
import pytest
from pydantic import SecretStr

from services.payment.adapters.crypto import Cipher
from tests.integration.payment.conftest import TEST_KEY
from tests.integration.payment.support import DEMO, OPERATOR_KEY, PaymentHarness, order_placed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_no_secret_appears_in_logs_events_or_answers_and_stored_secrets_are_encrypted(
        harness: PaymentHarness) -> None:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)  # the per-call lines are debug ones: checked too
    try:
        await check_no_secret_anywhere(harness)
    finally:
        root.setLevel(level)


async def check_no_secret_anywhere(harness: PaymentHarness) -> None:
    tokens = [await harness.token() for _ in range(3)] + [await harness.token("4000000000000002")]
    orders = [order_placed(member_id="m-9", token=tokens[0]), order_placed(member_id="m-9", registered=True),
              order_placed(token=tokens[1], sales_mode="auth_capture"), order_placed(token=tokens[3])]
    for order in orders:
        await harness.publish(order)
        await harness.outcome(order.order_id)
    await harness.faults({"operations": {"1Auth": {"reset_after": 1.0}}})
    unknown = order_placed(token=tokens[2])
    await harness.publish(unknown)
    await harness.outcome(unknown.order_id)
    answers = [(await harness.payment(o.order_id)).text for o in [*orders, unknown]]
    answers.append(str(await harness.stored_card("m-9")))
    resolved = await harness.api.post(
        f"/v1/shops/shop-1/payments/{unknown.order_id}/resolve", headers={"X-Operator-Key": OPERATOR_KEY},
        json={"outcome": "authorized", "transaction_id": "1000000000001", "process_pass": "OPERATORPASS0001"})
    answers.append(resolved.text)

    stored = await stored_secrets(harness.database_url)
    secrets = {*tokens, DEMO["merchant_pass"], DEMO["token_auth_code"], OPERATOR_KEY, "OPERATORPASS0001",
               *stored["plain"]}
    assert len(stored["plain"]) >= 3  # a KaiinPass and ProcessPasses were really stored
    logs = "\n".join(harness.logs.lines if harness.logs else [])
    assert "payment.step" in logs  # the capture sees the service's lines
    events = b"\n".join(harness.raw_events).decode()
    for secret in secrets:
        assert secret not in logs and secret not in events
        assert all(secret not in answer for answer in answers)
        assert all(secret.encode() not in blob for blob in stored["ciphertext"])


async def stored_secrets(database_url: str) -> dict[str, list]:
    """Every encrypted column, and what it decrypts to (with the test key)."""
    conn = await asyncpg.connect(database_url)
    try:
        blobs = [r[0] for r in await conn.fetch(
            "SELECT kaiin_pass_enc FROM member_cards UNION ALL SELECT process_pass_enc FROM payments "
            "WHERE process_pass_enc IS NOT NULL UNION ALL SELECT merchant_pass_enc FROM shop_credentials "
            "UNION ALL SELECT token_auth_code_enc FROM shop_credentials")]
    finally:
        await conn.close()
    cipher = Cipher(SecretStr(TEST_KEY))
    return {"ciphertext": blobs, "plain": [cipher.decrypt(b).get_secret_value() for b in blobs]}
