"""`PaymentDirectory`: payment receives the credentials and the operator and storefront key digests as sent,
tells a member's linked card (None when it cannot answer), and a failed call says whether payment refused or was
unreachable, never echoing a secret."""

from __future__ import annotations

import pytest

from services.checkout.ports import GatewayCredentials, InternalServiceError, MemberCard, PaymentServiceError

CREDENTIALS = GatewayCredentials(merchant_id="10000001", merchant_pass="pass-SECRET", token_auth_code="code-SECRET",
                                 tenant_id="0002")


async def test_credentials_and_the_key_digests_reach_payment_as_sent(payment):
    await payment.port.put_gateway_credentials("tea shop", CREDENTIALS)
    await payment.port.put_operator_key("tea shop", "ab" * 32)
    await payment.port.put_storefront_key("tea shop", "cd" * 32)
    assert payment.credentials() == {"tea shop": {"merchant_id": "10000001", "merchant_pass": "pass-SECRET",
                                                  "token_auth_code": "code-SECRET", "tenant_id": "0002"}}
    assert (payment.operator_keys(), payment.storefront_keys()) == ({"tea shop": "ab" * 32}, {"tea shop": "cd" * 32})
    assert payment.port.service == "payment"


async def test_the_three_d_secure_key_and_iv_reach_payment_with_the_credentials(payment):
    with_3ds = GatewayCredentials(merchant_id="10000001", merchant_pass="pass-SECRET", token_auth_code="code-SECRET",
                                  tenant_id="0002", three_d_secure_key="KEY-SECRET000001",
                                  three_d_secure_iv="IV-SECRET0000001")
    await payment.port.put_gateway_credentials("tea shop", with_3ds)
    assert payment.credentials()["tea shop"] == {
        "merchant_id": "10000001", "merchant_pass": "pass-SECRET", "token_auth_code": "code-SECRET",
        "tenant_id": "0002", "three_d_secure_key": "KEY-SECRET000001", "three_d_secure_iv": "IV-SECRET0000001"}


async def test_a_members_card_is_told_linked_or_not_and_none_while_payment_is_down(payment):
    payment.link_card("tea shop", "m 1", "5555********4444")
    assert await payment.port.member_card("tea shop", "m 1") == MemberCard(linked=True,
                                                                          masked_card_no="5555********4444")
    assert await payment.port.member_card("tea shop", "m 2") == MemberCard(linked=False, masked_card_no=None)
    payment.set_down(True)
    assert await payment.port.member_card("tea shop", "m 1") is None


@pytest.mark.parametrize("refusing", [True, False], ids=["refused", "unavailable"])
async def test_a_failed_write_says_refused_or_unavailable_without_the_secrets(payment, refusing):
    if refusing:
        payment.set_refusing(True)
    else:
        payment.set_down(True)
    with pytest.raises(PaymentServiceError) as failed:
        await payment.port.put_gateway_credentials("tea", CREDENTIALS)
    assert isinstance(failed.value, InternalServiceError) and failed.value.refused is refusing
    assert "SECRET" not in str(failed.value) and payment.credentials() == {}
