"""The member's card page through the real handlers on fakes (design §6.8, R18, R22): register, show, replace and
delete the one card, each call recorded and announced once; refusals that leave nothing behind; the delete guard
from the subscriptions projection; the operator's customer view and unlink."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from contracts.events import (
    CardLinked,
    CardReplaced,
    CardUnlinked,
    Event,
    PaymentAuthorized,
    SubscriptionChanged,
    SubscriptionStarted,
)
from services.payment import translate
from services.payment.domain.attempts import AttemptStatus
from services.payment.domain.card_changes import ChangeState
from services.payment.domain.card_rules import CardRefused, buyer_message
from services.payment.domain.cards import LinkStatus
from services.payment.domain.codes import MEMBER_FUNCTION_OFF
from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.gateway import Outcome
from services.payment.handlers.cards import (
    customer_card,
    delete_card,
    register_card,
    replace_card,
    view_card,
)
from services.payment.handlers.subscriptions import record_subscription
from services.payment.ports import GatewayCall
from tests.fakes.payment import PaymentFakes
from tests.fakes.payment_gateway import DEMO_CREDENTIALS, answered
from tests.unit.payment.handlers.builders import SHOP
from tests.unit.payment.handlers.card_builders import MEMBER, card_shop, my_page, operator, registered, subscription

VISA, MASTERCARD, UNUSABLE = "4111111111111111", "5555555555554444", "4000000000000002"


@pytest.fixture
async def fakes() -> PaymentFakes:
    fakes = PaymentFakes()
    await card_shop(fakes)
    return fakes


def card_events(fakes: PaymentFakes) -> list[Event]:
    return [e for e in fakes.state.emitted() if isinstance(e, CardLinked | CardReplaced | CardUnlinked)]


async def test_a_registered_card_is_stored_read_back_and_announced_once_without_a_charge(fakes: PaymentFakes) -> None:
    outcome = await register_card(fakes.deps, my_page(), fakes.gateway.token(VISA, "3012"))
    assert (outcome.change.state, fakes.gateway.sent()) == (ChangeState.DONE, [Op.MEM_ADD, Op.MEM_REF])
    [linked] = card_events(fakes)
    assert isinstance(linked, CardLinked)
    assert (linked.source, linked.replaced, linked.masked_card, linked.card_expiry, linked.order_id) == (
        "my_page", False, "4111********1111", "2030-12", None)
    view = outcome.view
    assert view.linked and view.face is not None and view.expiry is not None
    assert (view.face.brand, view.face.first4, view.face.last4, view.expiry.expired) == ("Visa", "4111", "1111", False)
    assert not fakes.state.emitted(PaymentAuthorized)


async def test_the_page_shows_the_card_as_last_read_and_its_expiry_state(fakes: PaymentFakes) -> None:
    await registered(fakes, exp="2507")
    june = await view_card(fakes.deps, my_page())
    fakes.clock.advance(62 * 86400)  # 2025-08-02 JST
    august = await view_card(fakes.deps, my_page())
    assert fakes.gateway.sent() == []  # shown as read after the change, no new read
    assert june.expiry is not None and august.expiry is not None
    assert (june.expiry.expired, june.expiry.expires_this_month) == (False, False)
    assert (august.expiry.expired, august.expiry.expires_this_month) == (True, False)


async def test_a_card_expiring_this_month_is_shown_so(fakes: PaymentFakes) -> None:
    await registered(fakes, exp="2506")
    view = await view_card(fakes.deps, my_page())
    assert view.expiry is not None and (view.expiry.expired, view.expiry.expires_this_month) == (False, True)


async def test_a_member_without_a_card_or_of_another_shop_has_none_to_show_replace_or_delete(
        fakes: PaymentFakes) -> None:
    await registered(fakes)
    assert (await view_card(fakes.deps, my_page("m-9"))).linked is False  # shop-2 has no settings and no cards
    with pytest.raises(CardRefused) as unknown:
        await delete_card(fakes.deps, my_page("m-9"))
    with pytest.raises(CardRefused) as elsewhere:
        await replace_card(fakes.deps, my_page(MEMBER, shop_id="shop-2"), fakes.gateway.token())
    assert (unknown.value.reason_code, elsewhere.value.reason_code) == ("no_registered_card",
                                                                        "card_method_not_configured")
    assert fakes.gateway.sent() == []


@pytest.mark.parametrize(("configured", "link_mode", "reason"), [
    (False, "always", "card_method_not_configured"), (True, "never", "card_link_mode_never")])
async def test_the_page_is_offered_only_while_the_shop_keeps_cards(configured: bool, link_mode: str,
                                                                  reason: str) -> None:
    fakes = PaymentFakes()
    await card_shop(fakes, configured=configured, link_mode=link_mode)
    with pytest.raises(CardRefused) as refused:
        await register_card(fakes.deps, my_page(), fakes.gateway.token())
    assert (refused.value.reason_code, fakes.gateway.sent(), fakes.state.cards) == (reason, [], {})


async def test_a_second_registration_is_refused_replace_instead(fakes: PaymentFakes) -> None:
    await registered(fakes)
    with pytest.raises(CardRefused) as refused:
        await register_card(fakes.deps, my_page(), fakes.gateway.token(MASTERCARD))
    assert (refused.value.reason_code, fakes.gateway.sent()) == ("card_already_registered", [])


@pytest.mark.parametrize(("scripted", "reason"), [
    (None, "token_spent"), (answered(Outcome.DECLINED, "K68"), "member_function_unavailable"),
    (answered(Outcome.DECLINED, "G12"), "card_declined")])
async def test_a_refused_registration_leaves_no_member(fakes: PaymentFakes, scripted, reason: str) -> None:
    token = fakes.gateway.token(VISA)
    if scripted is None:
        await fakes.gateway.send(_charge(token))  # the token is spent elsewhere first
    else:
        fakes.gateway.script(Op.MEM_ADD, scripted)
    outcome = await register_card(fakes.deps, my_page(), token)
    [record] = fakes.state.cards.values()
    assert (outcome.change.state, outcome.change.reason, outcome.view.linked) == (ChangeState.FAILED, reason, False)
    assert (record.status, card_events(fakes)) == (LinkStatus.FAILED, [])


async def test_k68_tells_the_member_r17s_message(fakes: PaymentFakes) -> None:
    fakes.gateway.script(Op.MEM_ADD, answered(Outcome.DECLINED, "K68"))
    outcome = await register_card(fakes.deps, my_page(), fakes.gateway.token())
    assert buyer_message(outcome.change.codes) == MEMBER_FUNCTION_OFF


async def test_a_gateway_that_cannot_be_reached_registers_nothing(fakes: PaymentFakes) -> None:
    fakes.gateway.down = True
    outcome = await register_card(fakes.deps, my_page(), fakes.gateway.token())
    [record] = fakes.state.cards.values()
    assert (outcome.change.reason, record.status, len(fakes.gateway.sent(Op.MEM_ADD))) == (
        "gateway_unreachable", LinkStatus.FAILED, 3)


async def test_a_replacement_stores_the_new_card_without_a_charge_and_announces_only_its_expiry(
        fakes: PaymentFakes) -> None:
    first = await registered(fakes, VISA)
    outcome = await replace_card(fakes.deps, my_page(), fakes.gateway.token(MASTERCARD, "3101"))
    kaiin_id = first.change.kaiin_id
    assert fakes.gateway.sent() == [Op.MEM_CHG, Op.MEM_REF]  # the old card was known: no read before
    assert fakes.gateway.member_card(kaiin_id) == (MASTERCARD, "valid")
    replaced = card_events(fakes)[-1]
    assert isinstance(replaced, CardReplaced)
    assert (replaced.source, replaced.card_expiry, "masked_card" in replaced.model_dump()) == ("my_page", "2031-01",
                                                                                             False)
    assert outcome.view.face is not None and outcome.view.face.masked == "5555********4444"
    assert not fakes.state.emitted(PaymentAuthorized)


async def test_a_replacement_by_a_declined_card_keeps_the_stored_one(fakes: PaymentFakes) -> None:
    first = await registered(fakes, VISA)
    outcome = await replace_card(fakes.deps, my_page(), fakes.gateway.token(UNUSABLE))
    assert (outcome.change.reason, fakes.gateway.member_card(first.change.kaiin_id)) == ("card_declined",
                                                                                         (VISA, "valid"))
    assert outcome.view.face is not None and outcome.view.face.masked == "4111********1111"


async def test_a_deleted_card_is_invalidated_then_deleted_and_announced(fakes: PaymentFakes) -> None:
    first = await registered(fakes)
    outcome = await delete_card(fakes.deps, my_page())
    [_, unlinked] = card_events(fakes)
    assert isinstance(unlinked, CardUnlinked)
    assert (fakes.gateway.sent(), unlinked.reason, unlinked.source) == ([Op.MEM_INVAL, Op.MEM_DEL], "member_request",
                                                                        "my_page")
    assert (fakes.gateway.member_card(first.change.kaiin_id), outcome.view.linked) == ((VISA, "deleted"), False)


@pytest.mark.parametrize("status", ["active", "paused"])
async def test_a_card_a_subscription_renews_with_cannot_be_deleted(fakes: PaymentFakes, status: str) -> None:
    await registered(fakes)
    await subscription(fakes, status, version=1 if status == "active" else 2)
    with pytest.raises(CardRefused) as refused:
        await delete_card(fakes.deps, my_page())
    view = await view_card(fakes.deps, my_page())
    assert (refused.value.reason_code, refused.value.blocking, fakes.gateway.sent()) == (
        "active_subscription", ("sub-1",), [])
    assert view.delete_refusal is not None and view.linked


async def test_the_card_can_be_deleted_once_the_subscription_is_canceled(fakes: PaymentFakes) -> None:
    await registered(fakes)
    await subscription(fakes, "active", version=1)
    await subscription(fakes, "canceled", version=3)
    outcome = await delete_card(fakes.deps, my_page())
    assert outcome.change.state is ChangeState.DONE


async def test_a_subscription_event_is_applied_once_and_an_older_one_changes_nothing(fakes: PaymentFakes) -> None:
    delivered = await subscription(fakes, "canceled", version=3)
    await subscription(fakes, "active", version=1)  # an older event, delivered later
    assert fakes.state.subscriptions["sub-1"].status == "canceled"
    fakes.state.subscriptions.clear()
    event = delivered.event
    assert isinstance(event, SubscriptionChanged | SubscriptionStarted)
    await record_subscription(fakes.deps, translate.subscription_status(event, version=3), inbound=delivered)
    assert fakes.state.subscriptions == {}  # the redelivery applied nothing


async def test_an_operator_sees_only_whether_a_card_is_linked_and_since_when_and_may_unlink_it(
        fakes: PaymentFakes) -> None:
    await registered(fakes)
    before = await customer_card(fakes.deps, shop_id=SHOP, member_id=MEMBER)
    outcome = await delete_card(fakes.deps, operator())
    after = await customer_card(fakes.deps, shop_id=SHOP, member_id=MEMBER)
    unlinked = card_events(fakes)[-1]
    assert (before.linked, before.linked_at, after.linked) == (True, fakes.clock.now(), False)
    assert isinstance(unlinked, CardUnlinked) and (unlinked.reason, unlinked.source) == ("operator_request",
                                                                                         "operator")
    history = [a for a in fakes.state.attempts.values() if a.action == "card_delete"]
    assert [(a.operation, a.requested_by, a.status) for a in history] == [
        (Op.MEM_INVAL, "佐藤", AttemptStatus.OK), (Op.MEM_DEL, "佐藤", AttemptStatus.OK)]
    assert outcome.change.state is ChangeState.DONE


async def test_an_operator_cannot_unlink_a_card_a_subscription_renews_with(fakes: PaymentFakes) -> None:
    await registered(fakes)
    await subscription(fakes, "active", version=1)
    with pytest.raises(CardRefused) as refused:
        await delete_card(fakes.deps, operator())
    assert refused.value.reason_code == "active_subscription"


def _charge(token: SecretStr) -> GatewayCall:
    """A token charge elsewhere, which spends the token."""
    return GatewayCall(operation=Op.AUTH, credentials=DEMO_CREDENTIALS, amount=100, token=token)
