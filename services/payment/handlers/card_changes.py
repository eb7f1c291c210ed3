"""Driving a card change without an order (design §6.8): each call a recorded step (`handlers/steps.py`), made
while the member's card lease is held, its reply applied by the domain (`domain/card_changes.py`).

A change left open by a request that ended (an unknown outcome) or a process that stopped is picked up by the next
card work of the member (`settle_open_change`: a card request, an order of the member, an operator's resolve): an
attempt still `sending` is an unknown outcome, never sent again; a step that needs the member's token (gone with
its request) cannot continue; everything else continues, an unknown step through its 4MemRefM read.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from pydantic import SecretStr

from delivery.logs import get_logger
from services.payment import translate
from services.payment.domain import events as ev
from services.payment.domain.attempts import INTERRUPTED, Attempt, AttemptStatus
from services.payment.domain.calls import card_change_call
from services.payment.domain.card_authentication import expire
from services.payment.domain.card_changes import (
    CardChange,
    ChangeDecision,
    ChangeState,
    MemberRead,
    apply_read,
    interrupted,
    needs_token,
)
from services.payment.domain.cards import LinkStatus
from services.payment.handlers.deps import Deps
from services.payment.handlers.leases import renew_member_lease
from services.payment.handlers.shops import card_face
from services.payment.handlers.steps import complete_attempt, take_step
from services.payment.ports import GatewayAnswer, UnitOfWork

log = get_logger(__name__)


def holder_of(change_id: str) -> str:
    """The member lease's holder while a card change runs."""
    return f"card:{change_id}"


async def drive_change(deps: Deps, change: CardChange, *, token: SecretStr | None, holder: str,
                       until_token: bool = False) -> CardChange:
    """Every call the change still needs, one recorded step each (the lease renewed with each). It stops at an
    unknown outcome: that is resolved by the member's next card work (`settle_open_change`), never by the request
    whose reply was lost (the gateway may still be processing it); with `until_token`, before the call that
    stores the card (3-D Secure sends that one through the member's browser)."""
    while change.state is not ChangeState.UNKNOWN and card_change_call(change) is not None:
        if until_token and needs_token(change):
            break
        change = await _take_step(deps, change, token=token, holder=holder)
    return change


async def _take_step(deps: Deps, change: CardChange, *, token: SecretStr | None, holder: str) -> CardChange:
    """The change's next call as a recorded step; a call that needs a token this request does not have ends the
    change instead (`interrupted`)."""
    planned = card_change_call(change)
    assert planned is not None
    if planned.token and token is None:
        async with deps.uow() as uow:
            return await uow.card_changes.save(interrupted(change))
    attempt_id = deps.ids.attempt_id()
    mark = partial(_mark_sending, deps=deps, change=change, attempt_id=attempt_id, holder=holder)
    return await take_step(deps, replace(planned, attempt_id=attempt_id),
                           partial(apply_step, deps=deps, change_id=change.change_id),
                           token=token if planned.token else None, also=mark)


async def _mark_sending(uow: UnitOfWork, *, deps: Deps, change: CardChange, attempt_id: str, holder: str) -> None:
    """In the unit that records the attempt: the change names it (so a crash leaves it findable), lease renewed."""
    await uow.card_changes.save(replace(change, attempt_id=attempt_id, updated_at=deps.clock.now()))
    await renew_member_lease(deps, uow, shop_id=change.shop_id, member_id=change.member_id, holder=holder)


async def apply_step(uow: UnitOfWork, attempt: Attempt, answer: GatewayAnswer, *, deps: Deps,
                      change_id: str) -> CardChange:
    change = await uow.card_changes.get(change_id)
    assert change is not None and change.attempt_id == attempt.attempt_id
    return await apply_answer(deps, uow, change, attempt=attempt, answer=answer)


async def apply_answer(deps: Deps, uow: UnitOfWork, change: CardChange, *, attempt: Attempt,
                       answer: GatewayAnswer) -> CardChange:
    """The reply of one call (or an interrupted attempt's assumed one): attempt, member record, change, event."""
    read = MemberRead(reply=answer.reply, face=card_face(answer), kaiin_status=answer.kaiin_status)
    decision = apply_read(change, attempt.operation, read, now=deps.clock.now(), max_sends=deps.policy.send_attempts)
    await complete_attempt(deps, uow, attempt, answer=answer)
    decision = await _update_member(deps, uow, decision)
    if decision.event is not None:
        await publish_card_event(uow, decision.event, correlation_id=holder_of(change.change_id))
    saved = await uow.card_changes.save(decision.change)
    fields = {"change_id": saved.change_id, "shop_id": saved.shop_id, "kind": saved.kind.value,
              "source": saved.source.value, "operation": attempt.operation.value, "outcome": answer.reply.outcome.value,
              "codes": list(answer.reply.codes), "state": saved.state.value, "reason": saved.reason}
    if saved.state is ChangeState.UNKNOWN:
        log.error("card_change.outcome_unknown", **fields)
    else:
        log.info("card_change.step", **fields)
    return saved


async def apply_decision(deps: Deps, uow: UnitOfWork, decision: ChangeDecision) -> CardChange:
    """A decision made without a call (3-D Secure's return or deadline): member record, event, change."""
    decision = await _update_member(deps, uow, decision)
    if decision.event is not None:
        await publish_card_event(uow, decision.event, correlation_id=holder_of(decision.change.change_id))
    return await uow.card_changes.save(decision.change)


async def _update_member(deps: Deps, uow: UnitOfWork, decision: ChangeDecision) -> ChangeDecision:
    """The member record follows the gateway: its status, a replaced card forgotten, the card a read showed. A
    register found done after another card was linked meanwhile (an order, while it was unknown) is not made
    current: the record is left `unknown` for ops and the change fails as superseded, announcing nothing."""
    change, now = decision.change, deps.clock.now()
    if decision.member_status is LinkStatus.ACTIVE:
        current = await uow.members.current(change.shop_id, change.member_id)
        if current is not None and current.kaiin_id != change.kaiin_id:
            await uow.members.set_status(change.kaiin_id, LinkStatus.UNKNOWN)
            log.error("card_change.superseded", change_id=change.change_id, shop_id=change.shop_id)
            return ChangeDecision(change=replace(change, state=ChangeState.FAILED, reason="superseded"))
    if decision.member_status is not None:
        await uow.members.set_status(change.kaiin_id, decision.member_status, at=now)
    if decision.card_changed:
        await uow.members.card_replaced(change.kaiin_id, at=now)
    if decision.face is not None:
        card = await uow.members.get(change.kaiin_id)
        if card is not None:
            await uow.members.remember_face(change.kaiin_id, decision.face, card_version=card.card_version)
    return decision


async def publish_card_event(uow: UnitOfWork, event: ev.DomainEvent, *, correlation_id: str) -> None:
    """Stage a card event in the outbox of this unit, numbered by the member's own counter (subject_version)."""
    assert isinstance(event, ev.CARD_EVENTS)
    version = await uow.members.next_version(event.shop_id, event.member_id)
    await uow.emit(translate.to_contract(event), correlation_id=correlation_id, subject_version=version)


async def settle_open_change(deps: Deps, shop_id: str, member_id: str, *, holder: str) -> CardChange | None:
    """Finish or resolve the member's open change, if any (the caller holds the member's lease as `holder`).
    Returns it as it ends up: still open (unknown) when the gateway could not tell what happened."""
    async with deps.uow() as uow:
        change = await uow.card_changes.open_for(shop_id, member_id)
        if change is None:
            return None
        change = await _pick_up(deps, uow, change)
    if change.state is ChangeState.UNKNOWN:  # one 4MemRefM read; an unclear answer leaves it unknown
        change = await _take_step(deps, change, token=None, holder=holder)
    return await drive_change(deps, change, token=None, holder=holder)


async def _pick_up(deps: Deps, uow: UnitOfWork, change: CardChange) -> CardChange:
    """A change whose own request is gone: a call left `sending` has an unknown outcome (design §6.2); a 3-D
    Secure round trip past its deadline is abandoned (one still running is left to the member's browser)."""
    expired = expire(change, deps.clock.now())
    if expired is not None:
        log.info("card_change.authentication_abandoned", change_id=change.change_id, shop_id=change.shop_id)
        return await apply_decision(deps, uow, expired)
    attempt = await uow.attempts.get(change.attempt_id) if change.attempt_id else None
    if attempt is not None and attempt.status is AttemptStatus.SENDING:
        log.warning("card_change.attempt_interrupted", change_id=change.change_id, operation=attempt.operation.value)
        return await apply_answer(deps, uow, change, attempt=attempt, answer=GatewayAnswer(reply=INTERRUPTED))
    picked = interrupted(change)
    return picked if picked is change else await uow.card_changes.save(picked)
