"""Card notices (R18) on fakes: a card replaced or removed on the member's page or by an operator, and a renewal that
would charge an expired card, each mail the member once at the address of their latest order; changes made in a
checkout send nothing; the shop's `notify_card_changes` suppresses them; a member without a known address waits,
then ends `unsendable` with the reason, never a crash."""

from __future__ import annotations

from datetime import timedelta

from contracts.events import MailFailedV2, MailSent, MailSentV2
from contracts.topology import SERVICES
from delivery.envelopes import Skipped
from services.notification.domain.compose import card_expiring_notice_id, card_notice_id
from services.notification.domain.model import MailStatus
from services.notification.entrypoints import subscribers
from services.notification.handlers import operator
from tests.fakes.notification import START, NotificationFakes
from tests.unit.contracts import samples
from tests.unit.notification.handling import (
    card_expiring,
    card_replaced,
    card_unlinked,
    consume,
    failed_renewal,
    inbound,
    member_order,
    send_due,
    shop,
)

BUYER = "taro@example.jp"


def card_mails(fakes: NotificationFakes) -> list[tuple[str, MailStatus, str | None]]:
    """(kind, status, recipient) of the card notices in the log, by kind."""
    return sorted((m.kind, m.status, m.recipient) for m in fakes.state.mails.values() if m.kind.startswith("card_"))


def sent_card_mails(fakes: NotificationFakes) -> list[tuple[str, str]]:
    return sorted((m.headers["X-Mail-Kind"], m.content.recipient) for m in fakes.transport.sent
                  if m.headers["X-Mail-Kind"].startswith("card_"))


async def known_member() -> NotificationFakes:
    """The demo shop's settings and a completed order of member m-1001 (taro@example.jp), its mails sent."""
    fakes = NotificationFakes()
    await consume(fakes, shop(), member_order())
    await send_due(fakes)
    return fakes


def test_the_consumer_reads_what_the_topology_says_under_its_group_id():
    party = SERVICES["notification"]
    assert party.group_id == subscribers.GROUP_ID
    assert set(subscribers.TOPICS) == set(party.consumed_topics())


async def test_a_card_replaced_on_the_members_page_mails_the_member_once_and_announces_it_as_v2():
    fakes = await known_member()
    replaced = inbound(card_replaced(source="my_page"))
    await consume(fakes, replaced)
    await send_due(fakes)
    assert sent_card_mails(fakes) == [("card_replaced", BUYER)]
    [event] = [e for e in fakes.state.emitted(MailSentV2) if e.kind == "card_replaced"]
    assert (event.TYPE, event.order_id, event.recipient) == ("mail.sent.v2", card_notice_id(replaced.envelope.event_id),
                                                             BUYER)
    assert fakes.state.outbox[-1].causation_id == str(replaced.envelope.event_id)


async def test_a_card_removed_by_an_operator_mails_the_member_a_removal_notice():
    fakes = await known_member()
    await consume(fakes, card_unlinked(source="operator"))
    await send_due(fakes)
    assert sent_card_mails(fakes) == [("card_removed", BUYER)]


async def test_a_renewal_card_expiring_warning_mails_the_member_once_per_cycle():
    fakes = await known_member()
    await consume(fakes, card_expiring(cycle_no=3), card_expiring(cycle_no=3))  # the second: emitted again
    await send_due(fakes)
    assert sent_card_mails(fakes) == [("card_expiring", BUYER)]
    assert {m.order_id for m in fakes.state.mails.values() if m.kind == "card_expiring"} == {
        card_expiring_notice_id("sub-0001", 3)}


async def test_changes_made_in_a_checkout_send_nothing_and_touch_nothing():
    fakes = await known_member()
    commits = fakes.uow.commits
    await consume(fakes, card_replaced(source="checkout"), card_unlinked(source="checkout"))
    assert (card_mails(fakes), fakes.uow.commits) == ([], commits)


async def test_a_redelivered_card_event_adds_no_mail_before_or_after_sending():
    fakes = await known_member()
    replaced = inbound(card_replaced())
    await consume(fakes, replaced, replaced)
    await send_due(fakes)
    await consume(fakes, replaced)
    assert await send_due(fakes) == []
    assert sent_card_mails(fakes) == [("card_replaced", BUYER)]


async def test_with_the_shops_card_switch_off_the_notices_are_suppressed_and_other_mails_still_go():
    fakes = NotificationFakes()
    await consume(fakes, shop(notify_cards=False), member_order())
    await consume(fakes, card_replaced(), failed_renewal("ord-r2"))
    await send_due(fakes)
    [notice] = [m for m in fakes.state.mails.values() if m.kind == "card_replaced"]
    assert (notice.status, notice.last_error) == (MailStatus.SUPPRESSED,
                                                  "not sent: the shop's card setting notify_card_changes is off")
    assert sent_card_mails(fakes) == [] and {e.kind for e in fakes.state.emitted(MailSentV2)} == {
        "renewal_failed_shop", "renewal_failed_buyer"}


async def test_a_member_without_a_known_address_waits_then_ends_unsendable_with_the_reason():
    fakes = NotificationFakes()
    await consume(fakes, shop(), card_replaced(member_id="m-ghost"))
    for _ in range(fakes.deps.rules.retry.max_attempts):
        await send_due(fakes)
        fakes.clock.advance(minutes=10)
    [notice] = [m for m in fakes.state.mails.values() if m.kind == "card_replaced"]
    assert notice.status is MailStatus.UNSENDABLE and notice.recipient is None
    assert notice.last_error == ("not sent: no e-mail address of member 'm-ghost' in shop 'demo-shop': no order of "
                                 "theirs seen (gave up after 4 attempts)")
    assert fakes.state.emitted(MailSentV2) == [] and fakes.state.emitted(MailFailedV2) == []


async def test_an_order_of_the_member_arriving_after_the_notice_frees_it_at_once():
    fakes = NotificationFakes()
    await consume(fakes, shop(), card_replaced())
    assert await send_due(fakes) == []  # waits for an address, next try in 5 s
    wakes = fakes.wakeup.wakes
    await consume(fakes, member_order())
    await send_due(fakes)
    assert sent_card_mails(fakes) == [("card_replaced", BUYER)] and fakes.wakeup.wakes > wakes


async def test_the_newest_order_of_the_member_gives_the_address_whatever_order_they_arrive_in():
    fakes = NotificationFakes()
    newer = inbound(member_order("ord-2", email="new@example.jp"), at=START + timedelta(days=1))
    older = inbound(member_order("ord-1", email="old@example.jp"), at=START)
    await consume(fakes, shop(), newer)
    await consume(fakes, older, card_replaced())
    await send_due(fakes)
    assert sent_card_mails(fakes) == [("card_replaced", "new@example.jp")]


async def test_an_operator_can_resend_an_unsendable_notice_to_an_address_they_give():
    fakes = NotificationFakes()
    await consume(fakes, shop(), card_unlinked(member_id="m-ghost"))
    for _ in range(fakes.deps.rules.retry.max_attempts):
        await send_due(fakes)
        fakes.clock.advance(minutes=10)
    [notice] = [m for m in fakes.state.mails.values() if m.kind == "card_removed"]
    resend = await operator.resend_mail(fakes.deps, shop_id="demo-shop", mail_id=notice.mail_id,
                                        recipient="ghost@example.jp")
    await send_due(fakes)
    assert resend is not None and sent_card_mails(fakes) == [("card_removed", "ghost@example.jp")]
    assert [(e.kind, e.resend) for e in fakes.state.emitted(MailSentV2)] == [("card_removed", True)]


async def test_other_events_of_the_payment_and_subscription_topics_are_acknowledged_without_a_transaction():
    fakes = await known_member()
    commits, mails = fakes.uow.commits, len(fakes.state.mails)
    await consume(fakes, Skipped("payment.authorized.v1"), samples.payment_authorized())
    await consume(fakes, samples.subscription_started())
    assert (fakes.uow.commits, len(fakes.state.mails)) == (commits, mails)
    assert len(fakes.state.emitted(MailSent)) == 2
