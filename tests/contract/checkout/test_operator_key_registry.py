"""`OperatorKeyRegistry` (notification): the operator key's digest reaches the service; a failure says whether
it refused or was unreachable."""

from __future__ import annotations

import pytest

from services.checkout.ports import InternalServiceError


async def test_the_digest_reaches_the_service_and_a_repeat_replaces_it(notification):
    await notification.port.put_operator_key("tea shop", "ab" * 32)
    await notification.port.put_operator_key("tea shop", "cd" * 32)
    assert notification.operator_keys() == {"tea shop": "cd" * 32}
    assert notification.port.service == "notification"


@pytest.mark.parametrize("refusing", [True, False], ids=["refused", "unavailable"])
async def test_a_failed_call_says_refused_or_unavailable(notification, refusing):
    if refusing:
        notification.set_refusing(True)
    else:
        notification.set_down(True)
    with pytest.raises(InternalServiceError) as failed:
        await notification.port.put_operator_key("tea", "ab" * 32)
    assert failed.value.refused is refusing and notification.operator_keys() == {}
