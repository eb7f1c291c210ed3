"""The subscription service as `OperatorKeyRegistry` and `StorefrontKeyRegistry`: each key's digest reaches its own
registration (the storefront key never lands among operator keys), a repeat replaces it, and a failure says whether
the service refused or was unreachable."""

from __future__ import annotations

import pytest

from services.checkout.ports import InternalServiceError

OPERATOR, STOREFRONT = "ab" * 32, "cd" * 32


async def test_each_digest_reaches_its_own_registration_and_a_repeat_replaces_it(subscription):
    await subscription.port.put_operator_key("tea shop", OPERATOR)
    await subscription.port.put_storefront_key("tea shop", "ef" * 32)
    await subscription.port.put_storefront_key("tea shop", STOREFRONT)
    assert await subscription.operator_keys() == {"tea shop": OPERATOR}
    assert await subscription.storefront_keys() == {"tea shop": STOREFRONT}
    assert subscription.port.service == "subscription"


@pytest.mark.parametrize("refusing", [True, False], ids=["refused", "unavailable"])
@pytest.mark.parametrize("key", ["operator", "storefront"])
async def test_a_failed_call_says_refused_or_unavailable(subscription, refusing, key):
    if refusing:
        subscription.set_refusing(True)
    else:
        subscription.set_down(True)
    put = subscription.port.put_operator_key if key == "operator" else subscription.port.put_storefront_key
    with pytest.raises(InternalServiceError) as failed:
        await put("tea", OPERATOR)
    assert failed.value.refused is refusing
    assert await subscription.operator_keys() == {} and await subscription.storefront_keys() == {}
