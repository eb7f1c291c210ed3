"""The shop projection, on fakes: the newest settings win whatever order they arrive in, and mails that waited
for a shop's settings are freed when they come."""

from __future__ import annotations

from datetime import timedelta

from contracts.events import MailSent
from tests.fakes.notification import START, NotificationFakes
from tests.unit.notification.handling import consume, inbound, order, send_due, shop


async def test_the_newest_shop_settings_win_and_an_older_snapshot_arriving_late_changes_nothing():
    fakes = NotificationFakes()
    newer = inbound(shop().model_copy(update={"shop_name": "新茶舗"}), at=START + timedelta(minutes=1))
    older = inbound(shop().model_copy(update={"shop_name": "旧茶舗"}), at=START)
    await consume(fakes, newer, older)
    assert fakes.state.shops["demo-shop"][0].shop_name == "新茶舗"


async def test_a_redelivered_settings_event_is_applied_once():
    fakes = NotificationFakes()
    event = inbound(shop(), at=START)
    await consume(fakes, event, event)
    assert len(fakes.state.inbox) == 1 and "demo-shop" in fakes.state.shops


async def test_mails_waiting_for_their_shops_settings_go_out_as_soon_as_the_settings_arrive():
    fakes = NotificationFakes()
    await consume(fakes, order("ord-1", shop_id="late-shop"))
    assert await send_due(fakes) == []  # nothing to send without the shop's settings: the mails back off
    assert {m.last_error for m in fakes.state.mails.values()} == {"no settings of shop 'late-shop' received yet"}
    await consume(fakes, shop("late-shop"))
    sent = await send_due(fakes)
    assert [step.mail.status.value for step in sent] == ["sent", "sent"] and len(fakes.state.emitted(MailSent)) == 2
    assert fakes.wakeup.wakes == 2  # the order's mails, then the shop's settings freeing them
