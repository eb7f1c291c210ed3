"""3-D Secure in the payment state machine (design §6.7): waiting, the return judged by the shop's accepted results,
recorded once, the charge carrying the result fields, and abandonment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.payment.domain.authentication import AuthenticationClosed, AuthenticationRequest, overdue
from services.payment.domain.calls import order_call
from services.payment.domain.codes import BUYER_CARD_COMPANY, BUYER_SHOP
from services.payment.domain.gateway import GatewayOperation
from services.payment.domain.model import (
    InvalidTransition,
    Payment,
    PaymentState,
    expire_authentication,
    next_operation,
    open_payment,
    record_authentication,
)
from tests.unit.payment.test_payment_model import order

NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
NUMBER = "0" * 19 + "1"


def awaiting(accepted: tuple[str, ...] = ("0", "2", "3"), **choice: object) -> Payment:
    asked = AuthenticationRequest(deadline=NOW + timedelta(minutes=15), accepted_results=accepted)
    payment, events = open_payment(replace(order(**choice), authentication=asked), linked_kaiin=None,  # type: ignore[arg-type]
                                   new_kaiin_id="KNEW", proc_no="1234567")
    assert events == [] and payment.state is PaymentState.AWAITING_AUTHENTICATION
    return payment


def result(secure: str, response: str = "OK", **changes: str) -> dict[str, str]:
    return {"ProcNo": "1234567", "MerchantFree1": NUMBER, "ResponseCd": response, "SecureResultCode": secure,
            "MessageVersionNo3D": "2.2.0", "TransactionStatus3D": "Y", "CAVV3D": "Q0FWVg==", "ECI3D": "05",
            "DSTransactionId": "d", "ThreeDSServerTransactionId": "s", **changes}


def test_an_awaiting_payment_makes_no_gateway_call_until_the_buyer_is_back() -> None:
    payment = awaiting()
    assert next_operation(payment) is None
    authenticated, events = record_authentication(payment, result("0"))
    assert (authenticated.state, events) == (PaymentState.PENDING, [])
    planned = order_call(authenticated)
    assert planned is not None and planned.operation is GatewayOperation.AUTH and planned.token
    assert dict(planned.three_d_secure)["CAVV3D"] == "Q0FWVg==" and len(planned.three_d_secure) == 9


def test_a_member_link_comes_first_and_only_the_charge_carries_the_fields() -> None:
    payment, _ = record_authentication(awaiting(member="m-1", keep=True), result("0"))
    link = order_call(payment)
    assert link is not None and link.operation is GatewayOperation.MEM_ADD and link.three_d_secure == ()


def test_without_a_token_nothing_waits() -> None:
    asked = AuthenticationRequest(deadline=NOW, accepted_results=("0",))
    payment, _ = open_payment(replace(order(member="m-1", token=False, registered=True), authentication=asked),
                              linked_kaiin="KOLD", new_kaiin_id="KNEW")
    assert payment.state is PaymentState.PENDING and payment.authentication is None


@pytest.mark.parametrize(("accepted", "secure", "response", "state", "message"), [
    (("0", "2", "3"), "0", "OK", PaymentState.PENDING, None),
    (("0", "2", "3"), "2", "U01", PaymentState.PENDING, None),
    (("0", "2", "3"), "3", "U02", PaymentState.PENDING, None),
    (("0", "2", "3"), "3", "U09", PaymentState.PENDING, None),
    (("0",), "2", "U01", PaymentState.DECLINED, BUYER_CARD_COMPANY),
    (("0",), "3", "U02", PaymentState.DECLINED, BUYER_SHOP),
    (("0", "2", "3"), "1", "U04", PaymentState.DECLINED, BUYER_CARD_COMPANY),
    (("0", "2", "3"), "1", "KI0", PaymentState.DECLINED, BUYER_SHOP),
    (("0", "2", "3"), "8", "U14", PaymentState.DECLINED, BUYER_SHOP),
    (("0", "2", "3"), "9", "U03", PaymentState.DECLINED, BUYER_SHOP),
    (("0", "2", "3"), "9", "KHW", PaymentState.DECLINED, BUYER_SHOP),
    (("0", "2", "3"), "9", "K89", PaymentState.DECLINED, BUYER_SHOP),
    (("0", "2", "3"), "0", "K03", PaymentState.DECLINED, BUYER_SHOP),  # a 0 with a refusal is not accepted
    (("0", "2", "3"), "7", "OK", PaymentState.DECLINED, BUYER_SHOP),  # an unknown value: the whitelist refuses
])
def test_each_result_is_judged_by_the_shops_accepted_set(accepted, secure, response, state, message) -> None:
    payment, events = record_authentication(awaiting(accepted), result(secure, response))
    assert payment.state is state
    if state is PaymentState.DECLINED:
        (declined,) = events
        assert (declined.reason, declined.buyer_message, declined.operation) == (  # type: ignore[union-attr]
            "authentication_failed", message, "3Secure")
        assert declined.codes == (() if response == "OK" else (response,))  # type: ignore[union-attr]


def test_a_return_is_recorded_once_and_must_name_this_round_trip() -> None:
    payment = awaiting()
    with pytest.raises(AuthenticationClosed) as other:
        record_authentication(payment, result("0", ProcNo="7654321"))
    assert other.value.reason == "authentication_return_invalid"
    with pytest.raises(AuthenticationClosed):
        record_authentication(payment, result("0", MerchantFree1="9" * 20))
    recorded, _ = record_authentication(payment, result("0"))
    with pytest.raises(AuthenticationClosed) as again:
        record_authentication(recorded, result("1", "U04"))
    assert again.value.reason == "authentication_authenticated"


def test_an_abandoned_authentication_is_declined_once() -> None:
    payment = awaiting()
    assert not overdue(payment.authentication, NOW) and overdue(payment.authentication, NOW + timedelta(minutes=15))
    expired, (declined,) = expire_authentication(payment)
    assert (expired.state, declined.reason, declined.buyer_message) == (  # type: ignore[union-attr]
        PaymentState.DECLINED, "authentication_abandoned", BUYER_SHOP)
    with pytest.raises(InvalidTransition):
        expire_authentication(expired)
    with pytest.raises(AuthenticationClosed):
        record_authentication(expired, result("0"))
