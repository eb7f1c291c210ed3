"""A change of a member's stored card made without an order (design §6.8, R18): register (4MemAdd with a token),
replace (4MemChg with a token: no authorization, no charge) or delete (4MemInval, then 4MemDel), asked for on the
member's page or, for a delete, by an operator. A synchronous state machine; the handlers record every call as an
attempt before sending it and apply the reply here.

    running --ok--> running (next step) | applied --4MemRefM read--> done (announced once)
       |--declined / never sent--> failed        (nothing changed at the gateway, or the change stopped half-way)
       |--unknown--> unknown --4MemRefM (a safe read) shows what happened--> done | failed | running (next step)

- A register or replace that the gateway applied is `applied`: the card is stored, its announcement waits for a
  4MemRefM read of the new card's expiry (and masked number); whatever that read answers, the change is then
  `done` and announced exactly once (the event is staged in the same unit as `done`).
- An unknown outcome is never sent again (there is no idempotency key, design §6.2). The next card request of the
  member, or an operator's resolve, reads the member with 4MemRefM: a register is known by whether the member
  exists (K71: it does not), a replace by whether the card differs from the one read before it, an invalidation by
  `KaiinStatus` 3, a deletion by K71. A deletion found not done continues (its calls need no token); a register or
  replace found not done fails (its token may be spent: the member asks again with a new one).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from services.payment.domain import events as ev
from services.payment.domain.authentication import Authentication
from services.payment.domain.card_face import CardFace
from services.payment.domain.card_rules import declined_reason
from services.payment.domain.cards import LinkStatus
from services.payment.domain.gateway import LINKS, GatewayOperation, Outcome, Reply

Op = GatewayOperation
INVALIDATED_STATUS = 3
"""`KaiinStatus` of an invalidated member (protocol reference §2.4)."""


class ChangeKind(StrEnum):
    REGISTER = "register"
    REPLACE = "replace"
    DELETE = "delete"


class ChangeSource(StrEnum):
    """Who asked: the member on their page (`my_page`) or a shop operator (`operator`), as the card events say."""

    MY_PAGE = "my_page"
    OPERATOR = "operator"


class ChangeState(StrEnum):
    RUNNING = "running"
    APPLIED = "applied"  # the gateway has the change; its announcement waits for the 4MemRefM read
    DONE = "done"
    FAILED = "failed"
    UNKNOWN = "unknown"  # a step's outcome is unknown: resolved by a 4MemRefM read, never sent again
    AWAITING_AUTHENTICATION = "awaiting_authentication"  # the 4MemAdd/4MemChg went to the browser via 3-D Secure


OPEN_STATES = frozenset({ChangeState.RUNNING, ChangeState.APPLIED, ChangeState.UNKNOWN,
                         ChangeState.AWAITING_AUTHENTICATION})
"""At most one change per shop member is open (a unique index; the member's card lease serialises the work)."""


@dataclass(frozen=True, kw_only=True)
class CardChange:
    """One card change. `step`: the call to make next (running) or whose outcome is unknown (unknown);
    `attempt_id`: the attempt of the last call recorded; `before`: the card before a replace (how a replace of
    unknown outcome is recognised); `after`: the card read after the change; `reason`: why it failed."""

    change_id: str
    shop_id: str
    member_id: str
    kind: ChangeKind
    source: ChangeSource
    kaiin_id: str
    step: GatewayOperation
    created_at: datetime
    state: ChangeState = ChangeState.RUNNING
    attempt_id: str | None = None
    unsent: int = 0
    requested_by: str | None = None
    before: CardFace | None = None
    after: CardFace | None = None
    codes: tuple[str, ...] = ()
    reason: str | None = None
    updated_at: datetime | None = None
    version: int = 0
    authentication: Authentication | None = None
    """The 3-D Secure round trip of a register or replace the shop requires it for (`card_authentication.py`)."""

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def unlink_reason(self) -> str:
        """`CardUnlinked.reason` of a delete: the member's own request or an operator's."""
        return "member_request" if self.source is ChangeSource.MY_PAGE else "operator_request"


@dataclass(frozen=True, kw_only=True)
class MemberRead:
    """A member call's answer as the change needs it: the reply, the card a 4MemRefM showed, its `KaiinStatus`."""

    reply: Reply
    face: CardFace | None = None
    kaiin_status: int | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeDecision:
    """What one reply does: the change, the member record's new status, whether the stored card is now another
    one (`card_changed`: the shown card is forgotten), the card a read showed (`face`), the event to announce."""

    change: CardChange
    member_status: LinkStatus | None = None
    card_changed: bool = False
    face: CardFace | None = None
    event: ev.DomainEvent | None = None


@dataclass(frozen=True, kw_only=True)
class CardRequestTarget:
    """The member record a change works on, and who asks."""

    shop_id: str
    member_id: str
    kaiin_id: str
    source: ChangeSource
    requested_by: str | None = None
    face: CardFace | None = None
    invalidated: bool = False


def begin_change(kind: ChangeKind, *, change_id: str, card: CardRequestTarget, now: datetime) -> CardChange:
    """A new change of `card`'s member. A replace first reads the card it replaces unless `card.face` is complete;
    a delete of a member already invalidated (a removal that stopped half-way) starts at 4MemDel."""
    first = {ChangeKind.REGISTER: Op.MEM_ADD, ChangeKind.DELETE: Op.MEM_DEL if card.invalidated else Op.MEM_INVAL,
             ChangeKind.REPLACE: Op.MEM_CHG if card.face is not None and card.face.complete else Op.MEM_REF}[kind]
    before = card.face if kind is ChangeKind.REPLACE and first is Op.MEM_CHG else None
    return CardChange(change_id=change_id, shop_id=card.shop_id, member_id=card.member_id, kind=kind,
                      source=card.source, kaiin_id=card.kaiin_id, step=first, created_at=now, updated_at=now,
                      requested_by=card.requested_by, before=before)


def next_call(change: CardChange) -> GatewayOperation | None:
    """The call to make now: the step while running; a 4MemRefM read to announce (applied) or to find out what
    happened (unknown); nothing once done or failed."""
    if change.state is ChangeState.RUNNING:
        return change.step
    return Op.MEM_REF if change.state in (ChangeState.APPLIED, ChangeState.UNKNOWN) else None


def needs_token(change: CardChange) -> bool:
    """The next call stores a card: it sends the member's one-time token."""
    return change.state is ChangeState.RUNNING and change.step in LINKS


def interrupted(change: CardChange) -> CardChange:
    """A running change picked up by another request after its process stopped between calls: a step that needs
    the token (gone with that request) cannot be made; the others simply continue."""
    return _failed(change, "interrupted") if needs_token(change) else change


def apply_read(change: CardChange, op: GatewayOperation, read: MemberRead, *, now: datetime,
               max_sends: int) -> ChangeDecision:
    """Apply the reply of the call `next_call` asked for. A call that certainly did not leave is sent again up to
    `max_sends` times."""
    if next_call(change) is not op:
        raise ValueError(f"{op} is not the next call of card change {change.change_id} ({change.state})")
    change = replace(change, updated_at=now)
    if read.reply.outcome is Outcome.NOT_SENT and change.unsent + 1 < max_sends:
        return ChangeDecision(change=replace(change, unsent=change.unsent + 1))
    change = replace(change, unsent=0)
    if change.state is ChangeState.APPLIED:
        return _announce(change, read)
    if change.state is ChangeState.UNKNOWN:
        return _resolve(change, read)
    return _step(change, read)


def _step(change: CardChange, read: MemberRead) -> ChangeDecision:
    reply = read.reply
    if reply.outcome is Outcome.UNKNOWN:
        if change.step is Op.MEM_REF:  # a read changes nothing: the replace simply did not start
            return ChangeDecision(change=_failed(change, "card_unreadable"))
        return ChangeDecision(change=replace(change, state=ChangeState.UNKNOWN, reason=reply.reason or "unknown"))
    if reply.outcome is Outcome.NOT_SENT:
        return _stopped(change, "gateway_unreachable", ())
    if change.step is Op.MEM_ADD:
        return _after_add(change, reply)
    if change.step is Op.MEM_CHG:
        ok = reply.outcome is Outcome.OK
        return _applied(change) if ok else ChangeDecision(change=_failed(change, declined_reason(reply.codes),
                                                                         reply.codes))
    if change.step is Op.MEM_REF:
        return _before_read(change, read)
    return _after_removal_step(change, reply)


def _after_add(change: CardChange, reply: Reply) -> ChangeDecision:
    if reply.outcome is Outcome.OK:
        return ChangeDecision(change=replace(change, state=ChangeState.APPLIED), member_status=LinkStatus.ACTIVE)
    return _stopped(change, declined_reason(reply.codes), reply.codes)


def _applied(change: CardChange) -> ChangeDecision:
    return ChangeDecision(change=replace(change, state=ChangeState.APPLIED), card_changed=True)


def _before_read(change: CardChange, read: MemberRead) -> ChangeDecision:
    """The replace's first read: the card it replaces (so that an unknown 4MemChg can be recognised later)."""
    if read.reply.outcome is not Outcome.OK or read.face is None or not read.face.complete:
        reason = "registered_card_unusable" if "K71" in read.reply.codes else "card_unreadable"
        return ChangeDecision(change=_failed(change, reason, read.reply.codes))
    return ChangeDecision(change=replace(change, step=Op.MEM_CHG, before=read.face), face=read.face)


def _after_removal_step(change: CardChange, reply: Reply) -> ChangeDecision:
    """4MemInval (K75: already invalidated) then 4MemDel; K71 at either: the gateway has no such member any more."""
    if "K71" in reply.codes:
        return _removed(change)
    if change.step is Op.MEM_INVAL and (reply.outcome is Outcome.OK or reply.codes == ("K75",)):
        return ChangeDecision(change=replace(change, step=Op.MEM_DEL), member_status=LinkStatus.INVALIDATED)
    if change.step is Op.MEM_DEL and reply.outcome is Outcome.OK:
        return _removed(change)
    return ChangeDecision(change=_failed(change, declined_reason(reply.codes), reply.codes))


def _removed(change: CardChange) -> ChangeDecision:
    unlinked = ev.CardUnlinked(shop_id=change.shop_id, member_id=change.member_id, order_id=None,
                               reason=change.unlink_reason, source=change.source.value)
    return ChangeDecision(change=replace(change, state=ChangeState.DONE), member_status=LinkStatus.DELETED,
                          event=unlinked)


def _announce(change: CardChange, read: MemberRead) -> ChangeDecision:
    """The read after a register or replace: done, announced once, with what the read showed (if anything)."""
    face = read.face if read.reply.outcome is Outcome.OK else None
    return _done(change, face)


def _done(change: CardChange, face: CardFace | None) -> ChangeDecision:
    after = face or CardFace()
    if change.kind is ChangeKind.REGISTER:
        event: ev.DomainEvent = ev.CardLinked(shop_id=change.shop_id, member_id=change.member_id, order_id=None,
                                              replaced=False, masked_card=after.masked, card_expiry=after.expiry,
                                              source=change.source.value)
    else:
        event = ev.CardReplaced(shop_id=change.shop_id, member_id=change.member_id, card_expiry=after.expiry,
                                source=change.source.value)
    return ChangeDecision(change=replace(change, state=ChangeState.DONE, after=face), face=face, event=event)


def _resolve(change: CardChange, read: MemberRead) -> ChangeDecision:
    """What the 4MemRefM read says about the step whose outcome was unknown; an unclear answer keeps it unknown."""
    reply, gone = read.reply, "K71" in read.reply.codes
    if change.step in (Op.MEM_INVAL, Op.MEM_DEL):
        if gone:
            return _removed(change)
        if reply.outcome is Outcome.OK and read.kaiin_status is not None:
            invalidated = read.kaiin_status == INVALIDATED_STATUS
            step = Op.MEM_DEL if invalidated or change.step is Op.MEM_DEL else Op.MEM_INVAL
            return ChangeDecision(change=replace(change, state=ChangeState.RUNNING, step=step, reason=None),
                                  member_status=LinkStatus.INVALIDATED if invalidated else None)
        return ChangeDecision(change=change)
    if change.step is Op.MEM_ADD and gone:
        return ChangeDecision(change=_failed(change, "card_change_not_made"), member_status=LinkStatus.FAILED)
    if reply.outcome is not Outcome.OK or read.face is None or not read.face.complete:
        return ChangeDecision(change=change)
    if change.step is Op.MEM_ADD:
        return replace(_done(change, read.face), member_status=LinkStatus.ACTIVE)
    if change.before is not None and _same_card(change.before, read.face):
        return ChangeDecision(change=_failed(change, "card_change_not_made"), face=read.face)
    if change.before is None:
        return ChangeDecision(change=change)
    return replace(_done(change, read.face), card_changed=True)


def _same_card(before: CardFace, now: CardFace) -> bool:
    """The read shows the card the replace started from. (A new card with the same first and last four digits and
    the same expiry cannot be told apart; it is then shown exactly as stored, so record and gateway agree.)"""
    return (before.masked, before.expiry) == (now.masked, now.expiry)


def _stopped(change: CardChange, reason: str, codes: tuple[str, ...]) -> ChangeDecision:
    """A step refused or never sent: a register leaves no member (its record fails); a removal that invalidated
    the member stays invalidated until a delete continues it."""
    status = LinkStatus.FAILED if change.step is Op.MEM_ADD else None
    return ChangeDecision(change=_failed(change, reason, codes), member_status=status)


def _failed(change: CardChange, reason: str, codes: tuple[str, ...] = ()) -> CardChange:
    return replace(change, state=ChangeState.FAILED, reason=reason, codes=codes)
