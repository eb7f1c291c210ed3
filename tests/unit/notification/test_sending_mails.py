"""Sending, on fakes: compose once, send, mark `sent` with `MailSent`; temporary refusals back off and retry,
permanent ones and used-up attempts fail with `MailFailed`; a mail whose worker died is recovered after its
lease, and the dead worker's late result does not overwrite the newer attempt."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from contracts.events import MailFailed, MailSent
from services.notification.domain.model import MailStatus, RetryPolicy
from services.notification.handlers import sending
from tests.fakes.notification import RULES, START, NotificationFakes
from tests.unit.notification.handling import consume, order, send_due, shop


async def test_both_mails_are_composed_sent_and_announced_with_the_orders_causation_and_numbering():
    fakes = NotificationFakes()
    await consume(fakes, shop(), order("ord-1"))
    steps = await send_due(fakes)
    assert {(s.mail.kind, s.mail.status, s.mail.attempts) for s in steps} == {
        ("thanks", MailStatus.SENT, 1), ("shop_copy", MailStatus.SENT, 1)}
    assert sorted(m.content.recipient for m in fakes.transport.sent) == ["orders@example.jp", "taro@example.jp"]
    envelopes = fakes.state.outbox
    source = fakes.state.orders["ord-1"].source
    assert {(e.causation_id, e.correlation_id) for e in envelopes} == {(str(source.event_id), "chk-ord-1")}
    assert sorted(e.subject_version for e in envelopes) == [0, 1]
    assert {e.kind for e in fakes.state.emitted(MailSent)} == {"thanks", "shop_copy"}


async def test_a_temporary_refusal_backs_off_and_the_mail_goes_out_on_its_retry():
    fakes = NotificationFakes()
    await consume(fakes, shop(), order("ord-1"))
    fakes.transport.refuse("temporary", count=2)
    refused = await send_due(fakes)
    assert {(s.mail.status, s.mail.next_attempt_at) for s in refused} == {(MailStatus.PENDING, START + timedelta(
        seconds=5))}
    assert await send_due(fakes) == [] and fakes.state.outbox == []  # not due before its backoff
    fakes.clock.advance(seconds=5)
    retried = await send_due(fakes)
    assert {(s.mail.status, s.mail.attempts) for s in retried} == {(MailStatus.SENT, 2)}
    assert {e.attempts for e in fakes.state.emitted(MailSent)} == {2}


async def test_a_permanent_refusal_fails_the_mail_at_once_with_mail_failed():
    fakes = NotificationFakes()
    await consume(fakes, shop(), order("ord-1"))
    fakes.transport.refuse("permanent")
    steps = await send_due(fakes)
    assert {(s.mail.status, s.mail.permanent_failure, s.mail.attempts) for s in steps} == {
        (MailStatus.FAILED, True, 1)}
    assert {(f.permanent, "554" in f.last_error) for f in fakes.state.emitted(MailFailed)} == {(True, True)}


async def test_a_server_refusing_past_the_attempt_limit_fails_the_mail_not_permanently():
    fakes = NotificationFakes(rules=replace(RULES, retry=RetryPolicy(max_attempts=2, backoff_initial_s=1.0)))
    await consume(fakes, shop(), order("ord-1"))
    fakes.transport.refuse("temporary")
    await send_due(fakes)
    fakes.clock.advance(seconds=1)
    steps = await send_due(fakes)
    assert {s.mail.last_error.startswith("gave up after 2 attempts") for s in steps} == {True}
    assert [f.permanent for f in fakes.state.emitted(MailFailed)] == [False, False]


async def test_an_impossible_buyer_address_fails_the_thanks_mail_without_smtp_and_the_copy_still_goes():
    fakes = NotificationFakes()
    await consume(fakes, shop(), order("ord-1", email="山田@例え.jp"))
    [copy] = await send_due(fakes)
    thanks = next(m for m in fakes.state.mails.values() if m.kind == "thanks")
    assert (thanks.status, thanks.permanent_failure) == (MailStatus.FAILED, True)
    assert thanks.last_error.startswith("non-ASCII address not supported")
    assert (copy.mail.kind, copy.mail.status, copy.mail.content.reply_to) == ("shop_copy", MailStatus.SENT, None)
    assert [m.content.recipient for m in fakes.transport.sent] == ["orders@example.jp"]


async def test_a_template_that_cannot_render_fails_the_mail_with_the_reason():
    fakes = NotificationFakes()
    fakes.renderer.fail("thanks")
    await consume(fakes, shop(), order("ord-1"))
    await send_due(fakes)
    [failed] = fakes.state.emitted(MailFailed)
    assert failed.kind == "thanks" and failed.last_error.startswith("template error in thanks mail")


async def test_a_snapshot_that_no_longer_reads_fails_its_mail_alone():
    fakes = NotificationFakes()
    await consume(fakes, shop(), order("ord-1"))
    await consume(fakes, order("ord-2"))
    poisoned = fakes.state.orders["ord-1"]
    fakes.state.orders["ord-1"] = replace(poisoned, snapshot={"order_id": "ord-1"})
    steps = await send_due(fakes)
    assert {s.mail.order_id for s in steps} == {"ord-2"}
    failed = fakes.state.emitted(MailFailed)
    assert {(f.order_id, f.last_error.split(":")[0]) for f in failed} == {("ord-1", "cannot prepare the mail")}


async def test_a_mail_whose_worker_died_is_recovered_after_its_lease_and_the_late_result_is_ignored():
    fakes = NotificationFakes()
    await consume(fakes, shop(), order("ord-1"))
    dead = await sending.claim_due_mails(fakes.deps, limit=1)  # its worker dies before delivering
    [other] = await send_due(fakes)  # leased: only the other mail is due
    assert other.mail.mail_id != dead[0].mail_id
    fakes.clock.advance(seconds=RULES.lease.total_seconds())
    [recovered] = await send_due(fakes)
    assert (recovered.mail.mail_id, recovered.mail.attempts, recovered.mail.recoveries) == (dead[0].mail_id, 2, 1)
    await sending.deliver_mail(fakes.deps, dead[0])  # the dead worker's late result
    assert fakes.state.mails[dead[0].mail_id] == recovered.mail
    assert [e.mail_id for e in fakes.state.emitted(MailSent)].count(dead[0].mail_id) == 1


async def test_a_mail_still_held_by_its_live_sender_is_not_claimed_again_after_its_lease():
    fakes = NotificationFakes()
    await consume(fakes, shop(), order("ord-1"))
    slow = await sending.claim_due_mails(fakes.deps, limit=2)  # both being sent, slowly
    fakes.clock.advance(seconds=RULES.lease.total_seconds())
    held = [slow[0].mail_id]
    [taken_over] = await sending.claim_due_mails(fakes.deps, limit=2, held=held)
    assert (taken_over.mail_id, taken_over.recoveries) == (slow[1].mail_id, 1)
    step = await sending.deliver_mail(fakes.deps, slow[0])  # the live sender's result is recorded
    assert (step.mail.status, fakes.state.mails[slow[0].mail_id].attempts) == (MailStatus.SENT, 1)


async def test_a_mark_lost_after_the_server_accepted_is_retried_not_left_to_become_a_duplicate():
    fakes = NotificationFakes()
    await consume(fakes, shop(), order("ord-1"))
    [mail] = await sending.claim_due_mails(fakes.deps, limit=1)
    flaky = FlakyUnits(fakes.uow, failures=2)
    step = await sending.deliver_mail(replace(fakes.deps, uow=flaky), mail)
    assert (step.mail.status, flaky.failed, fakes.state.mails[mail.mail_id].status) == (
        MailStatus.SENT, 2, MailStatus.SENT)
    assert len(fakes.transport.sent) == 1 and len(fakes.state.emitted(MailSent)) == 1


class FlakyUnits:
    """A unit of work factory whose first `failures` units fail (a database hiccup), then the real fake's."""

    def __init__(self, real, *, failures: int) -> None:
        self._real, self._left, self.failed = real, failures, 0

    def __call__(self):
        if self._left:
            self._left -= 1
            self.failed += 1
            raise ConnectionError("connection lost")
        return self._real()
