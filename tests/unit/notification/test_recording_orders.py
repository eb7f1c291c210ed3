"""Recording a completed order's mails (R23, I3), on fakes: both mails once, whatever is redelivered or
re-emitted; orders that did not complete get none."""

from __future__ import annotations

from services.notification.domain.compose import original_mail_id
from services.notification.domain.model import MailStatus
from tests.fakes.notification import START, NotificationFakes
from tests.unit.contracts import samples
from tests.unit.notification.handling import consume, inbound, order


async def test_a_completed_order_records_a_thanks_mail_to_the_buyer_and_a_shop_copy_once():
    fakes = NotificationFakes()
    await consume(fakes, order("ord-1"))
    mails = {m.kind: m for m in fakes.state.mails.values()}
    assert {kind: (m.status, m.recipient, m.next_attempt_at) for kind, m in mails.items()} == {
        "thanks": (MailStatus.PENDING, "taro@example.jp", START), "shop_copy": (MailStatus.PENDING, None, START)}
    assert mails["thanks"].mail_id == original_mail_id("ord-1", "thanks")
    assert fakes.state.orders["ord-1"].snapshot["order_id"] == "ord-1"
    assert fakes.wakeup.wakes == 1


async def test_a_redelivered_order_completed_records_nothing_more_and_wakes_no_one():
    fakes = NotificationFakes()
    first = inbound(order("ord-1"))
    await consume(fakes, first, first)
    assert (len(fakes.state.mails), fakes.wakeup.wakes, len(fakes.state.inbox)) == (2, 1, 1)


async def test_an_order_completed_re_emitted_with_a_new_event_id_adds_no_mail():
    fakes = NotificationFakes()
    await consume(fakes, order("ord-1"), order("ord-1"))
    assert (len(fakes.state.inbox), len(fakes.state.mails), fakes.wakeup.wakes) == (2, 2, 1)


async def test_placed_rejected_and_needs_review_orders_get_no_mail():
    fakes = NotificationFakes()
    await consume(fakes, samples.order_placed(), samples.order_rejected())
    await consume(fakes, samples.order_needs_review())
    assert (fakes.state.mails, fakes.state.orders, fakes.wakeup.wakes) == ({}, {}, 0)
