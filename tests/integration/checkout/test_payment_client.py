"""The payment service client over a real socket: unreachable means "no masked card", or a clear error."""

from __future__ import annotations

import socket

import httpx
import pytest

from services.checkout.adapters.payment_service import PaymentServiceClient
from services.checkout.ports import GatewayCredentials, PaymentServiceError
from tests.integration.checkout.payment_stub import INTERNAL_TOKEN


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_an_unreachable_payment_service_gives_no_member_card_and_refuses_writes_without_secrets():
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{closed_port()}") as http:
        client = PaymentServiceClient(http, member_card_timeout_s=0.5)
        assert await client.member_card("tea", "m-1") is None
        credentials = GatewayCredentials(merchant_id="10000001", merchant_pass="pass-SECRET",
                                         token_auth_code="code-SECRET", tenant_id="0001")
        with pytest.raises(PaymentServiceError) as refused:
            await client.put_gateway_credentials("tea", credentials)
    assert "unreachable" in str(refused.value) and "SECRET" not in str(refused.value)
    assert "SECRET" not in repr(credentials)


async def test_the_client_talks_to_the_internal_endpoints_with_the_internal_token(payment_stub):
    headers = {"X-Internal-Token": INTERNAL_TOKEN}
    payment_stub.cards[("tea shop", "m 1")] = "5555********4444"
    async with httpx.AsyncClient(base_url=payment_stub.url, headers=headers) as http:
        client = PaymentServiceClient(http)
        await client.put_operator_key("tea shop", "ab" * 32)
        card = await client.member_card("tea shop", "m 1")
    assert payment_stub.operator_keys == {"tea shop": "ab" * 32}
    assert card is not None and (card.linked, card.masked_card_no) == (True, "5555********4444")


async def test_a_request_payment_refuses_is_told_apart_from_an_unavailable_payment_service(payment_stub):
    async with httpx.AsyncClient(base_url=payment_stub.url, headers={"X-Internal-Token": "wrong"}) as http:
        with pytest.raises(PaymentServiceError) as refused:
            await PaymentServiceClient(http).put_operator_key("tea", "ab" * 32)
    assert refused.value.refused and "HTTP 401" in str(refused.value)
    payment_stub.down = True
    async with httpx.AsyncClient(base_url=payment_stub.url, headers={"X-Internal-Token": INTERNAL_TOKEN}) as http:
        with pytest.raises(PaymentServiceError) as failed:
            await PaymentServiceClient(http).put_operator_key("tea", "ab" * 32)
    assert not failed.value.refused and "HTTP 503" in str(failed.value)
