"""The payment state machine: one authorization per order, R11 sales modes, R16 messages, unknown outcomes."""

from __future__ import annotations

import pytest

from services.payment.domain import events as ev
from services.payment.domain.cards import CardChoice, LinkMode
from services.payment.domain.codes import BUYER_CARD_COMPANY, BUYER_K99, BUYER_SHOP, MEMBER_FUNCTION_OFF
from services.payment.domain.gateway import GatewayOperation, Outcome, Reply, SalesMode
from services.payment.domain.model import (
    Cleanup,
    InvalidTransition,
    Payment,
    PaymentState,
    PlaceOrder,
    Resolution,
    apply_reply,
    next_operation,
    open_payment,
    resolve,
    will_retry,
)

OK = Reply(outcome=Outcome.OK, transaction_id="1000000000001", approval_number="1234567", process_id="P" * 32)


def order(mode: SalesMode = SalesMode.AUTH, *, member: str | None = None, link: LinkMode = LinkMode.ALWAYS,
          token: bool = True, registered: bool = False, keep: bool | None = None, amount: int = 5000,
          skip: str | None = None, renewal: bool = False) -> PlaceOrder:
    choice = CardChoice(member_id=member, has_token=token, use_registered_card=registered, keep_card=keep,
                        link_mode=link, renewal=renewal)
    return PlaceOrder(order_id="ord-1", shop_id="shop-1", payment_number="0" * 19 + "1", amount=amount,
                      pay_type="01", sales_mode=mode, buyer_name="山田 太郎", choice=choice, skip_reason=skip)


def opened(o: PlaceOrder, linked: str | None = None) -> Payment:
    payment, events = open_payment(o, linked_kaiin=linked, new_kaiin_id="KNEW")
    assert events == []
    return payment


def step(payment: Payment, reply: Reply, max_sends: int = 3) -> tuple[Payment, list[ev.DomainEvent]]:
    op = next_operation(payment)
    assert op is not None
    return apply_reply(payment, op, reply, attempt_id="att-1", max_sends=max_sends)


@pytest.mark.parametrize(("mode", "operation", "state", "captured"), [
    (SalesMode.AUTH, GatewayOperation.AUTH, PaymentState.AUTHORIZED, False),
    (SalesMode.AUTH_CAPTURE, GatewayOperation.GATHERING, PaymentState.CAPTURED, True),
])
def test_a_guest_token_payment_uses_the_sales_mode_operation(mode, operation, state, captured) -> None:
    payment = opened(order(mode))
    assert next_operation(payment) is operation
    paid, events = step(payment, OK)
    assert paid.state is state and next_operation(paid) is None
    assert events == [ev.PaymentAuthorized(order_id="ord-1", shop_id="shop-1", payment_number=payment.payment_number,
                                           amount=5000, pay_type="01", captured=captured, card_source="token",
                                           transaction_id="1000000000001", approval_number="1234567")]


def test_a_member_order_links_first_then_charges_by_member() -> None:
    payment = opened(order(member="m-1"))
    assert (payment.kaiin_id, next_operation(payment)) == ("KNEW", GatewayOperation.MEM_ADD)
    linked, events = step(payment, Reply(outcome=Outcome.OK))
    assert events == [ev.CardLinked(shop_id="shop-1", member_id="m-1", order_id="ord-1", replaced=False)]
    assert next_operation(linked) is GatewayOperation.AUTH
    paid, events = step(linked, OK)
    assert paid.state is PaymentState.AUTHORIZED and events[0].card_source == "member"


def test_an_existing_link_is_replaced_with_4memchg_on_the_same_member() -> None:
    payment = opened(order(member="m-1"), linked="KOLD")
    assert (payment.kaiin_id, next_operation(payment)) == ("KOLD", GatewayOperation.MEM_CHG)
    _, events = step(payment, Reply(outcome=Outcome.OK))
    assert events == [ev.CardLinked(shop_id="shop-1", member_id="m-1", order_id="ord-1", replaced=True)]


def test_never_mode_charges_the_token_then_invalidates_and_deletes_the_old_link() -> None:
    payment = opened(order(member="m-1", link=LinkMode.NEVER), linked="KOLD")
    paid, _ = step(payment, OK)
    assert (paid.cleanup, next_operation(paid)) == (Cleanup.UNLINK, GatewayOperation.MEM_INVAL)
    invalidated, events = step(paid, Reply(outcome=Outcome.OK))
    assert events == [] and next_operation(invalidated) is GatewayOperation.MEM_DEL
    done, events = step(invalidated, Reply(outcome=Outcome.OK))
    assert done.cleanup is Cleanup.DONE and next_operation(done) is None
    assert events == [ev.CardUnlinked(shop_id="shop-1", member_id="m-1", order_id="ord-1", reason="link_mode_never")]


def test_a_declined_order_keeps_the_link_it_would_have_removed() -> None:
    payment = opened(order(member="m-1", link=LinkMode.NEVER), linked="KOLD")
    declined, _ = step(payment, Reply(outcome=Outcome.DECLINED, codes=("G12",)))
    assert declined.cleanup is Cleanup.NONE and next_operation(declined) is None


@pytest.mark.parametrize(("codes", "message"), [
    (("G12",), BUYER_CARD_COMPANY), (("K99",), BUYER_K99), (("G55", "K99"), BUYER_K99), (("KI2",), BUYER_SHOP),
])
def test_a_decline_carries_the_raw_codes_and_the_r16_buyer_message(codes, message) -> None:
    declined, [event] = step(opened(order()), Reply(outcome=Outcome.DECLINED, codes=codes))
    assert declined.state is PaymentState.DECLINED and next_operation(declined) is None
    assert event == ev.PaymentDeclined(order_id="ord-1", shop_id="shop-1", payment_number=declined.payment_number,
                                       amount=5000, operation="1Auth", codes=codes, buyer_message=message)


def test_a_k40_decline_leaves_a_hold_that_is_voided_afterwards() -> None:
    declined, _ = step(opened(order()), Reply(outcome=Outcome.DECLINED, codes=("K40",), process_id="P" * 32))
    assert (declined.cleanup, next_operation(declined)) == (Cleanup.VOID_HOLD, GatewayOperation.DELETE)
    voided, _ = step(declined, Reply(outcome=Outcome.OK))
    assert voided.cleanup is Cleanup.DONE


def test_a_declined_link_declines_the_payment_and_k68_shows_the_r17_message() -> None:
    payment = opened(order(member="m-1"))
    declined, [event] = step(payment, Reply(outcome=Outcome.DECLINED, codes=("K68",)))
    assert declined.state is PaymentState.DECLINED
    assert (event.operation, event.buyer_message) == ("4MemAdd", MEMBER_FUNCTION_OFF)


def test_an_unknown_link_declines_without_charging() -> None:
    declined, [event] = step(opened(order(member="m-1")), Reply(outcome=Outcome.UNKNOWN, reason="timeout"))
    assert (declined.state, event.reason, event.codes) == (PaymentState.DECLINED, "link_outcome_unknown", ())


def test_an_unknown_charge_is_never_sent_again_and_waits_for_an_operator() -> None:
    unknown, events = step(opened(order()), Reply(outcome=Outcome.UNKNOWN, reason="connection_reset"))
    assert unknown.state is PaymentState.UNKNOWN and next_operation(unknown) is None
    assert events == [ev.PaymentOutcomeUnknown(order_id="ord-1", shop_id="shop-1",
                                               payment_number=unknown.payment_number, attempt_id="att-1",
                                               operation="1Auth", amount=5000, reason="connection_reset")]


def test_a_not_sent_call_is_retried_within_its_budget_then_declined() -> None:
    payment = opened(order())
    unsent = Reply(outcome=Outcome.NOT_SENT, reason="ConnectError")
    assert will_retry(payment, unsent, max_sends=2)
    again, events = step(payment, unsent, max_sends=2)
    assert events == [] and next_operation(again) is GatewayOperation.AUTH
    assert not will_retry(again, unsent, max_sends=2)
    declined, [event] = step(again, unsent, max_sends=2)
    assert (declined.state, event.reason) == (PaymentState.DECLINED, "gateway_unreachable")


def test_a_reply_for_another_call_than_the_next_one_is_rejected() -> None:
    paid, _ = step(opened(order()), OK)
    with pytest.raises(InvalidTransition):
        apply_reply(paid, GatewayOperation.AUTH, OK, attempt_id="att-2", max_sends=3)


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"amount": 0}, "amount_not_payable"),
    ({"member": "m-1", "token": False, "registered": True}, "no_registered_card"),
])
def test_refusals_decline_before_any_gateway_call(kwargs, reason) -> None:
    payment, [event] = open_payment(order(**kwargs), linked_kaiin=None, new_kaiin_id="K")
    assert (payment.state, next_operation(payment)) == (PaymentState.DECLINED, None)
    assert (event.reason, event.codes, event.buyer_message) == (reason, (), BUYER_SHOP)


def test_a_shop_without_gateway_credentials_is_declined_with_an_operator_reason() -> None:
    payment, [event] = open_payment(order(), linked_kaiin=None, new_kaiin_id="K",
                                     credentials_issue="gateway_credentials_missing")
    assert (payment.state, event.reason) == (PaymentState.DECLINED, "gateway_credentials_missing")


def test_a_skipped_renewal_makes_no_call_and_no_event() -> None:
    payment, events = open_payment(order(skip="authorize_at_renewal_off"), linked_kaiin=None, new_kaiin_id="K",
                                   credentials_issue="gateway_credentials_missing")
    assert (payment.state, events, next_operation(payment)) == (PaymentState.SKIPPED, [], None)


@pytest.mark.parametrize(("mode", "operation"), [(SalesMode.AUTH, GatewayOperation.AUTH),
                                                (SalesMode.AUTH_CAPTURE, GatewayOperation.GATHERING)])
def test_a_renewal_charges_the_stored_card_in_its_sales_mode_and_nothing_else(mode, operation) -> None:
    payment = opened(order(mode, member="m-1", token=False, registered=True, renewal=True, link=LinkMode.NEVER),
                     linked="KOLD")
    assert (payment.renewal, payment.kaiin_id, next_operation(payment)) == (True, "KOLD", operation)
    paid, [authorized] = step(payment, OK)
    assert (authorized.card_source, next_operation(paid)) == ("member", None)  # no unlink afterwards


def test_a_member_charge_the_gateway_refuses_for_the_member_says_there_is_no_registered_card() -> None:
    payment = opened(order(member="m-1", token=False, registered=True, renewal=True), linked="KGONE")
    declined, [event] = step(payment, Reply(outcome=Outcome.DECLINED, codes=("K71",)))
    assert (declined.state, event.reason, event.codes) == (PaymentState.DECLINED, "no_registered_card", ("K71",))


def test_an_operator_resolves_an_unknown_outcome_either_way() -> None:
    unknown, _ = step(opened(order(SalesMode.AUTH_CAPTURE)), Reply(outcome=Outcome.UNKNOWN, reason="timeout"))
    found = Resolution(authorized=True, transaction_id="1000000000009", approval_number="7654321")
    captured, [authorized] = resolve(unknown, found)
    assert captured.state is PaymentState.CAPTURED
    assert (authorized.resolution, authorized.transaction_id, authorized.captured) == ("operator", "1000000000009",
                                                                                      True)
    declined, [event] = resolve(unknown, Resolution(authorized=False))
    assert (declined.state, event.resolution, event.reason) == (PaymentState.DECLINED, "operator",
                                                                "resolved_not_authorized")
    with pytest.raises(InvalidTransition):
        resolve(captured, Resolution(authorized=False))
    with pytest.raises(InvalidTransition):
        resolve(unknown, Resolution(authorized=True))


def test_a_resolved_authorization_still_removes_the_link_the_order_asked_to_remove() -> None:
    payment = opened(order(member="m-1", link=LinkMode.NEVER), linked="KOLD")
    unknown, _ = step(payment, Reply(outcome=Outcome.UNKNOWN, reason="timeout"))
    authorized, _ = resolve(unknown, Resolution(authorized=True, transaction_id="1000000000009"))
    assert next_operation(authorized) is GatewayOperation.MEM_INVAL
