"""R7-R10: which card pays, and whether the member's stored card is linked, replaced or removed."""

from __future__ import annotations

import pytest

from services.payment.domain.cards import (
    CardChoice,
    CardPlan,
    CardSource,
    LinkMode,
    LinkStatus,
    Refused,
    link_status_after,
    member_decline_reason,
    plan_card,
)
from services.payment.domain.gateway import GatewayOperation, Outcome, Reply

ALWAYS, CHOICE, NEVER = LinkMode.ALWAYS, LinkMode.BUYER_CHOICE, LinkMode.NEVER
TOKEN, MEMBER = CardSource.TOKEN, CardSource.MEMBER
ADD, CHG = GatewayOperation.MEM_ADD, GatewayOperation.MEM_CHG


def choice(mode: LinkMode, *, member: str | None = "m-1", token: bool = True, registered: bool = False,
           keep: bool | None = None, subscription: bool = False, renewal: bool = False) -> CardChoice:
    return CardChoice(member_id=member, has_token=token, use_registered_card=registered, keep_card=keep,
                      link_mode=mode, subscription=subscription, renewal=renewal)


@pytest.mark.parametrize(("given", "linked", "plan"), [
    # R7 always: the token is linked first, then the member is charged; another card replaces the link
    (choice(ALWAYS), False, CardPlan(source=MEMBER, link=ADD)),
    (choice(ALWAYS), True, CardPlan(source=MEMBER, link=CHG)),
    (choice(ALWAYS, token=False, registered=True), True, CardPlan(source=MEMBER)),
    # R8 buyer_choice: ticked links like always; unticked pays by token and removes an existing link
    (choice(CHOICE, keep=True), False, CardPlan(source=MEMBER, link=ADD)),
    (choice(CHOICE, keep=True), True, CardPlan(source=MEMBER, link=CHG)),
    (choice(CHOICE, keep=False), False, CardPlan(source=TOKEN)),
    (choice(CHOICE, keep=False), True, CardPlan(source=TOKEN, unlink_after=True, unlink_reason="keep_card_unchecked")),
    (choice(CHOICE, keep=None), True, CardPlan(source=TOKEN)),
    (choice(CHOICE, token=False, registered=True, keep=False), True,
     CardPlan(source=MEMBER, unlink_after=True, unlink_reason="keep_card_unchecked")),
    # R9 never: pay by token (or the registered card for this order), then remove the link
    (choice(NEVER), False, CardPlan(source=TOKEN)),
    (choice(NEVER), True, CardPlan(source=TOKEN, unlink_after=True, unlink_reason="link_mode_never")),
    (choice(NEVER, token=False, registered=True), True,
     CardPlan(source=MEMBER, unlink_after=True, unlink_reason="link_mode_never")),
    # R10 guests never link, whatever the mode or flags
    (choice(ALWAYS, member=None), False, CardPlan(source=TOKEN)),
    (choice(CHOICE, member=None, keep=True), False, CardPlan(source=TOKEN)),
    (choice(ALWAYS, member=None, registered=True), False, CardPlan(source=TOKEN)),
    # R19 a subscription's first order always links, even if the mode says otherwise
    (choice(NEVER, subscription=True), True, CardPlan(source=MEMBER, link=CHG)),
    # a registered card wins over a token sent with it
    (choice(ALWAYS, registered=True), True, CardPlan(source=MEMBER)),
    # R19/R20 a renewal pays with the stored card only: no token, no link, replacement or removal, whatever else
    (choice(ALWAYS, token=False, registered=True, subscription=True, renewal=True), True, CardPlan(source=MEMBER)),
    (choice(NEVER, token=False, registered=True, subscription=True, renewal=True), True, CardPlan(source=MEMBER)),
    (choice(ALWAYS, token=True, registered=False, renewal=True), True, CardPlan(source=MEMBER)),
])
def test_the_card_plan_follows_the_link_rules(given, linked, plan) -> None:
    assert plan_card(given, linked=linked) == plan


@pytest.mark.parametrize(("given", "linked", "reason"), [
    (choice(ALWAYS, token=False, registered=True), False, "no_registered_card"),
    (choice(ALWAYS, token=False), True, "no_card_source"),
    (choice(ALWAYS, member=None, token=False), False, "no_card_source"),
    (choice(ALWAYS, token=False, registered=True, renewal=True), False, "no_registered_card"),
    (choice(ALWAYS, token=True, renewal=True), False, "no_registered_card"),
    (choice(ALWAYS, member=None, token=False, registered=True, renewal=True), False, "no_registered_card"),
])
def test_an_order_without_a_usable_card_is_refused_with_a_reason(given, linked, reason) -> None:
    with pytest.raises(Refused) as refused:
        plan_card(given, linked=linked)
    assert refused.value.reason == reason


@pytest.mark.parametrize(("codes", "reason"), [
    (("K71",), "no_registered_card"),
    (("K79",), "registered_card_unusable"),
    (("K75",), "registered_card_unusable"),
    (("K74",), "registered_card_unusable"),
    (("G12",), None),
    ((), None),
])
def test_a_member_charge_refused_for_the_member_record_says_why(codes, reason) -> None:
    assert member_decline_reason(codes) == reason


def test_only_plans_that_use_a_gateway_member_touch_it() -> None:
    assert not CardPlan(source=TOKEN).touches_member
    assert CardPlan(source=TOKEN, unlink_after=True).touches_member
    assert CardPlan(source=MEMBER).touches_member


@pytest.mark.parametrize(("op", "reply", "retrying", "status"), [
    (ADD, Reply(outcome=Outcome.OK), False, LinkStatus.ACTIVE),
    (ADD, Reply(outcome=Outcome.DECLINED, codes=("G12",)), False, LinkStatus.FAILED),
    (ADD, Reply(outcome=Outcome.UNKNOWN), False, LinkStatus.UNKNOWN),
    (ADD, Reply(outcome=Outcome.NOT_SENT), True, LinkStatus.REGISTERING),
    (ADD, Reply(outcome=Outcome.NOT_SENT), False, LinkStatus.FAILED),
    (CHG, Reply(outcome=Outcome.DECLINED, codes=("G12",)), False, LinkStatus.ACTIVE),
    (GatewayOperation.MEM_INVAL, Reply(outcome=Outcome.OK), False, LinkStatus.INVALIDATED),
    (GatewayOperation.MEM_INVAL, Reply(outcome=Outcome.DECLINED, codes=("K75",)), False, LinkStatus.INVALIDATED),
    (GatewayOperation.MEM_INVAL, Reply(outcome=Outcome.UNKNOWN), False, LinkStatus.ACTIVE),
    (GatewayOperation.MEM_DEL, Reply(outcome=Outcome.OK), False, LinkStatus.DELETED),
])
def test_the_member_record_follows_the_gateway_replies(op, reply, retrying, status) -> None:
    current = LinkStatus.REGISTERING if op is ADD else LinkStatus.ACTIVE
    assert link_status_after(current, op, reply, retrying=retrying) is status
