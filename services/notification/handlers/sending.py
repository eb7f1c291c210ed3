"""Sending: claim due mails (unit 1), talk SMTP with no transaction open, record the result (unit 2). The mail's
final state and its `MailSent`/`MailFailed` commit together (outbox, design §6.3)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from delivery.logs import get_logger
from services.notification import translate
from services.notification.domain.model import Mail, MailStatus, Transition, claim, delivered, not_delivered
from services.notification.handlers.composing import outgoing, prepare_mail
from services.notification.handlers.deps import Deps
from services.notification.ports import NotificationUnitOfWork, SendResult

log = get_logger(__name__)
RECORD_TRIES = 6


async def claim_due_mails(deps: Deps, *, limit: int, held: Collection[str] = ()) -> list[Mail]:
    """Unit 1: claim up to `limit` due mails and prepare them; returns those ready for an SMTP conversation
    (the others wait for what they lack, or failed with their `MailFailed`). The mails `held` (still being sent or
    recorded by the caller) are not claimed again even if their lease ran out: that would send them twice."""
    ready: list[Mail] = []
    async with deps.uow() as uow:
        now = deps.clock.now()
        for due in await uow.mail_log.claim_due(now=now, limit=limit, held=held):
            claimed = claim(due, now=now, lease=deps.rules.lease)
            step = await prepare_mail(deps, uow.mail_log, claimed, now=now)
            await uow.mail_log.save_mail(step.mail)
            await _emit_outcome(uow, step)
            if step.mail.status is MailStatus.SENDING:
                ready.append(step.mail)
    return ready


async def deliver_mail(deps: Deps, mail: Mail) -> Transition:
    """The SMTP conversation of one claimed mail, then unit 2 (in one transaction with the results of the other
    conversations finishing about then, `deps.together`), retried a few times: a mark lost after the server
    accepted the mail would be sent again once its lease ends (a duplicate)."""
    result = await deps.transport.send(outgoing(mail))
    step = _after_send(deps, mail, result)
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            await deps.together(lambda: record_result(deps, step, expected_attempts=mail.attempts))
            return step
        except Exception:
            if attempt == RECORD_TRIES:
                raise
            log.warning("mail.record_failed", mail_id=mail.mail_id, attempt=attempt, exc_info=True)
            await asyncio.sleep(deps.rules.record_retry_s * 2**attempt)
    return step


async def record_result(deps: Deps, step: Transition, *, expected_attempts: int) -> None:
    """Unit 2: the mail's new state and its outcome event, unless another worker took the mail over meanwhile
    (its lease ran out: the newer attempt's result wins)."""
    async with deps.uow() as uow:
        if not await uow.mail_log.save_mail(step.mail, expected_attempts=expected_attempts):
            log.warning("mail.taken_over", mail_id=step.mail.mail_id)
            return
        await _emit_outcome(uow, step)


def _after_send(deps: Deps, mail: Mail, result: SendResult) -> Transition:
    now = deps.clock.now()
    if result.status == "accepted":
        return delivered(mail, reply=result.detail, now=now)
    return not_delivered(mail, error=result.detail, permanent=result.status == "permanent", now=now,
                         policy=deps.rules.retry, smtp_response=result.detail)


async def _emit_outcome(uow: NotificationUnitOfWork, step: Transition) -> None:
    """`MailSent`/`MailFailed` of a mail that reached a final state: keyed by its order, caused by the order's
    `OrderCompleted` and numbered among the order's mail events."""
    if step.outcome is None:
        return
    numbered = await uow.mail_log.next_mail_event(step.mail.order_id)
    await uow.emit(translate.outcome_to_contract(step.outcome), correlation_id=numbered.source.correlation_id,
                   causation=numbered.source.event_id, subject_version=numbered.version)
