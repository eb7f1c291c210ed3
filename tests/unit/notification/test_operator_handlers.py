"""What the operator API asks of the handlers, on fakes: the shop's own mail log only (I6), and resends that are
new logged mails, sent once per `Idempotency-Key`."""

from __future__ import annotations

import pytest

from contracts.events import MailSent
from services.notification.domain.errors import InvalidAddress, ResendConflict
from services.notification.domain.model import MailStatus
from services.notification.handlers import operator
from tests.fakes.notification import NotificationFakes
from tests.unit.notification.handling import consume, order, send_due, shop


async def sent_order(fakes: NotificationFakes, order_id: str = "ord-1") -> str:
    """The order's mails sent; returns the thanks mail's id."""
    await consume(fakes, shop(), order(order_id))
    steps = await send_due(fakes)
    return next(s.mail.mail_id for s in steps if s.mail.kind == "thanks")


async def test_a_repeated_resend_with_the_same_idempotency_key_returns_the_first_and_sends_one_mail():
    fakes = NotificationFakes()
    thanks = await sent_order(fakes)
    clicks = [await operator.resend_mail(fakes.deps, shop_id="demo-shop", mail_id=thanks, idempotency_key="click-1")
              for _ in range(3)]
    other = await operator.resend_mail(fakes.deps, shop_id="demo-shop", mail_id=thanks, idempotency_key="click-2")
    await send_due(fakes)
    assert len({c.mail_id for c in clicks}) == 1 and other.mail_id != clicks[0].mail_id
    assert {e.mail_id for e in fakes.state.emitted(MailSent) if e.resend} == {clicks[0].mail_id, other.mail_id}
    assert len(fakes.transport.sent) == 2 + 2


async def test_the_same_idempotency_key_for_another_recipient_is_a_conflict():
    fakes = NotificationFakes()
    thanks = await sent_order(fakes)
    await operator.resend_mail(fakes.deps, shop_id="demo-shop", mail_id=thanks, idempotency_key="k")
    with pytest.raises(ResendConflict):
        await operator.resend_mail(fakes.deps, shop_id="demo-shop", mail_id=thanks, recipient="hanako@example.jp",
                                   idempotency_key="k")


async def test_the_same_idempotency_key_without_the_recipient_it_first_named_is_a_conflict_naming_it():
    fakes = NotificationFakes()
    thanks = await sent_order(fakes)
    await operator.resend_mail(fakes.deps, shop_id="demo-shop", mail_id=thanks, recipient="hanako@example.jp",
                               idempotency_key="k")
    with pytest.raises(ResendConflict) as conflict:
        await operator.resend_mail(fakes.deps, shop_id="demo-shop", mail_id=thanks, idempotency_key="k")
    assert conflict.value.fields == ["recipient"]


async def test_a_resend_to_a_corrected_address_is_a_new_mail_composed_for_it_and_wakes_the_dispatcher():
    fakes = NotificationFakes()
    await consume(fakes, shop(), order("ord-1", email="buyer@typo.invalid"))
    await send_due(fakes)
    [failed] = await operator.list_mails(fakes.deps, shop_id="demo-shop", status="failed")
    wakes = fakes.wakeup.wakes
    resent = await operator.resend_mail(fakes.deps, shop_id="demo-shop", mail_id=failed.mail_id,
                                        recipient="buyer@example.jp")
    [step] = await send_due(fakes)
    assert (resent.resend_of, resent.recipient, fakes.wakeup.wakes) == (failed.mail_id, "buyer@example.jp", wakes + 1)
    assert (step.mail.status, fakes.transport.sent[-1].content.recipient) == (MailStatus.SENT, "buyer@example.jp")


async def test_another_shops_mail_is_neither_found_nor_resent_and_a_bad_recipient_is_refused():
    fakes = NotificationFakes()
    thanks = await sent_order(fakes)
    assert await operator.find_mail(fakes.deps, shop_id="other-shop", mail_id=thanks) is None
    assert await operator.resend_mail(fakes.deps, shop_id="other-shop", mail_id=thanks) is None
    with pytest.raises(InvalidAddress):
        await operator.resend_mail(fakes.deps, shop_id="demo-shop", mail_id=thanks, recipient="not an address")
    assert len(fakes.state.mails) == 2
    assert (await operator.find_mail(fakes.deps, shop_id="demo-shop", mail_id=thanks)).mail_id == thanks


async def test_the_mail_log_lists_one_orders_mails_of_the_shop():
    fakes = NotificationFakes()
    await sent_order(fakes, "ord-1")
    await consume(fakes, order("ord-2"))
    listed = await operator.list_mails(fakes.deps, shop_id="demo-shop", order_id="ord-2")
    assert {(m.order_id, m.status) for m in listed} == {("ord-2", MailStatus.PENDING)} and len(listed) == 2
    assert await operator.list_mails(fakes.deps, shop_id="other-shop") == []
