"""3-D Secure on the member's card page (design §6.8, `domain/card_authentication.py`): a register or replace
waits for the browser's round trip through OTDS010, its return is judged by the shop's accepted results and
recorded once, and a member who does not come back in time leaves nothing stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.payment.domain.authentication import AuthenticationClosed, AuthenticationRequest, AuthenticationState
from services.payment.domain.calls import card_change_call
from services.payment.domain.card_authentication import ask, expire, ready_to_authenticate, reference, returned
from services.payment.domain.card_changes import (
    CardChange,
    CardRequestTarget,
    ChangeKind,
    ChangeSource,
    ChangeState,
    begin_change,
)
from services.payment.domain.card_face import CardFace
from services.payment.domain.cards import LinkStatus
from services.payment.domain.gateway import GatewayOperation as Op

NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
CHANGE_ID = "00000000-0000-0000-0000-000000000007"
OLD = CardFace(masked="4111********1111", expiry="3012", brand="Visa")


def waiting(kind: ChangeKind = ChangeKind.REGISTER, accepted: tuple[str, ...] = ("0", "2", "3")) -> CardChange:
    target = CardRequestTarget(shop_id="shop-1", member_id="m-1", kaiin_id="K1", source=ChangeSource.MY_PAGE,
                               face=OLD if kind is ChangeKind.REPLACE else None)
    change = begin_change(kind, change_id=CHANGE_ID, card=target, now=NOW)
    assert ready_to_authenticate(change)
    request = AuthenticationRequest(deadline=NOW + timedelta(minutes=15), accepted_results=accepted)
    return ask(change, request=request, proc_no="1234567", now=NOW)


def result(secure: str = "0", response: str = "OK", **changes: str) -> dict[str, str]:
    return {"ProcNo": "1234567", "MerchantFree1": CHANGE_ID.replace("-", ""), "ResponseCd": response,
            "SecureResultCode": secure, "MessageVersionNo3D": "2.2.0", "TransactionStatus3D": "Y",
            "CAVV3D": "Q0FWVg==", "ECI3D": "05", "DSTransactionId": "d", "ThreeDSServerTransactionId": "s",
            **changes}


def test_a_waiting_change_is_open_makes_no_call_and_names_itself_in_merchant_free1() -> None:
    change = waiting()
    assert (change.state, change.open, card_change_call(change)) == (ChangeState.AWAITING_AUTHENTICATION, True, None)
    assert reference(change) == "00000000000000000000000000000007" and len(reference(change)) == 32


def test_a_replace_asks_only_once_the_old_card_was_read() -> None:
    target = CardRequestTarget(shop_id="shop-1", member_id="m-1", kaiin_id="K1", source=ChangeSource.MY_PAGE)
    reading = begin_change(ChangeKind.REPLACE, change_id=CHANGE_ID, card=target, now=NOW)
    assert reading.step is Op.MEM_REF and not ready_to_authenticate(reading)
    with pytest.raises(ValueError, match="stores no card"):
        ask(reading, request=AuthenticationRequest(deadline=NOW), proc_no="1234567", now=NOW)


def test_an_authenticated_register_is_applied_then_read_and_announced_like_a_direct_one() -> None:
    decision = returned(waiting(), result("0"), now=NOW + timedelta(minutes=1))
    change = decision.change
    assert (change.state, decision.member_status, decision.event) == (ChangeState.APPLIED, LinkStatus.ACTIVE, None)
    assert change.authentication is not None and change.authentication.state is AuthenticationState.AUTHENTICATED
    assert card_change_call(change) is not None and card_change_call(change).operation is Op.MEM_REF  # type: ignore[union-attr]


def test_an_authenticated_replace_forgets_the_old_card() -> None:
    decision = returned(waiting(ChangeKind.REPLACE), result("0"), now=NOW)
    assert (decision.change.state, decision.card_changed, decision.member_status) == (ChangeState.APPLIED, True, None)
    assert decision.change.before == OLD  # how a later unknown outcome would be recognised


@pytest.mark.parametrize(("secure", "response", "accepted", "reason", "codes"), [
    ("1", "U04", ("0", "2", "3"), "authentication_failed", ("U04",)),
    ("9", "U03", ("0", "2", "3"), "authentication_failed", ("U03",)),
    ("8", "U14", ("0", "2", "3"), "authentication_failed", ("U14",)),
    ("2", "U01", ("0",), "authentication_failed", ("U01",)),
    ("3", "U02", ("0",), "authentication_failed", ("U02",)),
    ("2", "U01", ("0", "2", "3"), "authentication_failed", ("U01",)),  # accepted, but the gateway stored nothing
    ("0", "K68", ("0", "2", "3"), "member_function_unavailable", ("K68",)),
])
def test_a_return_without_a_stored_card_fails_and_a_register_leaves_no_member(
        secure: str, response: str, accepted: tuple[str, ...], reason: str, codes: tuple[str, ...]) -> None:
    decision = returned(waiting(accepted=accepted), result(secure, response), now=NOW)
    assert (decision.change.state, decision.change.reason, decision.change.codes) == (ChangeState.FAILED, reason,
                                                                                       codes)
    assert (decision.member_status, decision.event) == (LinkStatus.FAILED, None)


def test_a_failed_replace_keeps_the_member_as_it_was() -> None:
    decision = returned(waiting(ChangeKind.REPLACE), result("1", "U04"), now=NOW)
    assert (decision.change.reason, decision.member_status, decision.card_changed) == ("authentication_failed",
                                                                                      None, False)


@pytest.mark.parametrize("forged", [{"ProcNo": "7654321"}, {"MerchantFree1": "another"}])
def test_a_return_naming_another_round_trip_is_refused(forged: dict[str, str]) -> None:
    with pytest.raises(AuthenticationClosed) as closed:
        returned(waiting(), result("0", **forged), now=NOW)
    assert closed.value.reason == "authentication_return_invalid"


def test_a_return_is_recorded_once() -> None:
    first = returned(waiting(), result("1", "U04"), now=NOW).change
    with pytest.raises(AuthenticationClosed) as closed:
        returned(first, result("0"), now=NOW)
    assert closed.value.reason == "authentication_refused"


def test_a_late_return_is_refused_as_abandoned() -> None:
    decision = returned(waiting(), result("1", "U04"), now=NOW + timedelta(minutes=15))
    assert (decision.change.state, decision.change.reason, decision.member_status) == (
        ChangeState.FAILED, "authentication_abandoned", LinkStatus.FAILED)


def test_a_late_return_saying_the_card_was_stored_is_settled_by_a_read_not_dropped() -> None:
    decision = returned(waiting(), result("0"), now=NOW + timedelta(minutes=16))
    change = decision.change
    assert (change.state, change.step, decision.member_status) == (ChangeState.UNKNOWN, Op.MEM_ADD, None)
    assert card_change_call(change) is not None and card_change_call(change).operation is Op.MEM_REF  # type: ignore[union-attr]


def test_a_change_expires_only_after_its_deadline_and_only_while_it_waits() -> None:
    change = waiting()
    assert expire(change, NOW + timedelta(minutes=14)) is None
    expired = expire(change, NOW + timedelta(minutes=15))
    assert expired is not None
    assert (expired.change.state, expired.change.reason, expired.member_status) == (
        ChangeState.FAILED, "authentication_abandoned", LinkStatus.FAILED)
    assert expire(replace(change, state=ChangeState.APPLIED), NOW + timedelta(days=1)) is None
