"""Registered-card management (ご登録カード管理, design §6.8, R18, R22): the member's page shows, registers,
replaces and deletes the one stored card; an operator sees only whether a card is linked (and since when) and may
unlink it. Every request runs under the member's card lease, so orders that link or unlink, renewal charges and
these requests never work on one member's card at once, and first finishes (or resolves) the member's change left
open by an earlier request.

A replaced card is charged from the next renewal order on; nothing here touches an order or re-authorizes one
(R22). Deleting is refused while a subscription (active or paused) renews with the card, as the local projection
of `subscriptions.events` says (never a call to the subscription service).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from pydantic import SecretStr

from delivery.logs import get_logger
from services.payment.domain.authentication import AuthenticationRequest
from services.payment.domain.calls import card_change_call
from services.payment.domain.card_changes import (
    CardChange,
    CardRequestTarget,
    ChangeKind,
    ChangeSource,
    ChangeState,
    begin_change,
    needs_token,
)
from services.payment.domain.card_face import CardFace, ExpiryStatus, expiry_status
from services.payment.domain.card_rules import CardRefused, availability_refusal, deletion_refusal
from services.payment.domain.cards import LinkStatus
from services.payment.domain.gateway import business_date
from services.payment.handlers.card_authentication import (
    UNAVAILABLE,
    AuthenticationForm,
    authentication_request,
    send_to_authentication,
)
from services.payment.handlers.card_changes import apply_step, drive_change, holder_of, settle_open_change
from services.payment.handlers.deps import Deps
from services.payment.handlers.leases import release_member_lease, take_member_lease
from services.payment.handlers.shops import read_card
from services.payment.handlers.steps import record_call, send_recorded
from services.payment.ports import MemberCard, MemberKey, UnitOfWork

log = get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class CardRequest:
    """Who asks about which member: the member's page (`my_page`, R18's availability applies) or an operator."""

    shop_id: str
    member_id: str
    source: ChangeSource = ChangeSource.MY_PAGE
    requested_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class CardView:
    """The member's page: the stored card as shown (masked, never the number), its expiry state, a change still
    open (unknown outcome), and why a delete would be refused."""

    member_id: str
    linked: bool
    face: CardFace | None = None
    expiry: ExpiryStatus | None = None
    pending: CardChange | None = None
    delete_refusal: CardRefused | None = None


@dataclass(frozen=True, kw_only=True)
class CardOutcome:
    """The change as the request leaves it, the member's page, and the 3-D Secure form when it awaits one."""

    change: CardChange
    view: CardView
    form: AuthenticationForm | None = None


@dataclass(frozen=True, kw_only=True)
class CustomerCard:
    """The shop's customer view (R18): only whether a card is linked and since when; never card data."""

    member_id: str
    linked: bool
    linked_at: datetime | None = None
    pending: CardChange | None = None


class CardChangePending(Exception):
    """The member's earlier change still has an unknown outcome: nothing new starts until it is resolved."""

    def __init__(self, change: CardChange) -> None:
        super().__init__(f"card change {change.change_id} of unknown outcome")
        self.change = change


async def register_card(deps: Deps, request: CardRequest, token: SecretStr, *,
                        return_url: str | None = None) -> CardOutcome:
    """4MemAdd with the token under a new member id, then a 4MemRefM read; announced as `CardLinked`. When the
    shop requires 3-D Secure, the 4MemAdd goes through the member's browser (`form`; `return_url`: where the
    browser is sent afterwards) and the change ends with the gateway's return."""
    return await _change_card(deps, request, ChangeKind.REGISTER, token=token, return_url=return_url)


async def replace_card(deps: Deps, request: CardRequest, token: SecretStr, *,
                       return_url: str | None = None) -> CardOutcome:
    """4MemChg with the token (no authorization, no charge), announced as `CardReplaced` with the new expiry;
    through 3-D Secure like a register when the shop requires it."""
    return await _change_card(deps, request, ChangeKind.REPLACE, token=token, return_url=return_url)


async def delete_card(deps: Deps, request: CardRequest) -> CardOutcome:
    """4MemInval then 4MemDel, announced as `CardUnlinked`; refused while a subscription renews with the card."""
    return await _change_card(deps, request, ChangeKind.DELETE, token=None)


async def _change_card(deps: Deps, request: CardRequest, kind: ChangeKind, *, token: SecretStr | None,
                       return_url: str | None = None) -> CardOutcome:
    change_id, form = deps.ids.change_id(), None
    holder = holder_of(change_id)
    if not await take_member_lease(deps, request.shop_id, request.member_id, holder=holder,
                                   wait_s=deps.policy.card_busy_wait_s):
        raise CardRefused("card_busy", "another card operation of this member is running; try again shortly")
    try:
        pending = await settle_open_change(deps, request.shop_id, request.member_id, holder=holder)
        if pending is not None and pending.state is ChangeState.AWAITING_AUTHENTICATION:
            raise CardRefused("card_authentication_pending", "the member's card change waits for 3-D Secure; "
                              "finish it in the browser or try again after its deadline")
        if pending is not None and pending.open:
            raise CardChangePending(pending)
        authenticate = await _authentication(deps, request, kind, return_url=return_url)
        change = await _start(deps, request, kind, change_id=change_id, token=token, send=authenticate is None)
        if authenticate is None:
            change = await drive_change(deps, change, token=token, holder=holder)
        else:
            assert token is not None
            change, form = await send_to_authentication(deps, change, token=token, holder=holder,
                                                        request=authenticate)
    finally:
        await release_member_lease(deps, request.shop_id, request.member_id, holder=holder)
    log.info("card_change.ended", change_id=change.change_id, shop_id=change.shop_id, kind=kind.value,
             source=request.source.value, state=change.state.value, reason=change.reason)
    return CardOutcome(change=change, view=await view_card(deps, request, settle=False), form=form)


async def _authentication(deps: Deps, request: CardRequest, kind: ChangeKind, *,
                          return_url: str | None) -> AuthenticationRequest | None:
    """The 3-D Secure round trip a register or replace on the member's page needs (the shop's setting), if any;
    refused before anything when the shop requires it but payment cannot build the form."""
    if kind is ChangeKind.DELETE or request.source is not ChangeSource.MY_PAGE:
        return None
    async with deps.uow() as uow:
        settings = await uow.shops.settings(request.shop_id)
        credentials = await uow.shops.credentials(request.shop_id)
    accepted = settings.card_authentication if settings else None
    if accepted is None:
        return None
    if deps.three_d_secure is None or credentials is None or credentials.tds_key is None or credentials.tds_iv is None:
        raise CardRefused(UNAVAILABLE, "the shop requires 3-D Secure but has no 3-D Secure key and IV")
    return authentication_request(deps, accepted, return_url)


async def _start(deps: Deps, request: CardRequest, kind: ChangeKind, *, change_id: str,
                 token: SecretStr | None, send: bool = True) -> CardChange:
    """One unit: check the request, register a new member record (register), record the change and its first
    call's attempt; then send it (outside the unit) and apply the answer. Without `send` (3-D Secure), a first
    call that stores the card is left to the browser; a replace's first read is still made."""
    async with deps.uow() as uow:
        await _check_available(uow, request)
        target = await (_new_member(deps, uow, request) if kind is ChangeKind.REGISTER
                        else _stored_card(uow, request, kind))
        change = begin_change(kind, change_id=change_id, card=target, now=deps.clock.now())
        if not send and needs_token(change):
            return await uow.card_changes.add(change)
        planned = card_change_call(change)
        assert planned is not None
        attempt_id = deps.ids.attempt_id()
        recorded = await record_call(deps, uow, replace(planned, attempt_id=attempt_id), token=token)
        change = await uow.card_changes.add(replace(change, attempt_id=attempt_id))
    return await send_recorded(deps, recorded, partial(apply_step, deps=deps, change_id=change.change_id))


async def _check_available(uow: UnitOfWork, request: CardRequest) -> None:
    """R18 for the member's page (an operator may unlink whatever the shop's settings are now)."""
    if request.source is not ChangeSource.MY_PAGE:
        return
    settings = await uow.shops.settings(request.shop_id)
    refusal = availability_refusal(configured=settings is not None and settings.configured,
                                   link_mode=settings.card_link_mode if settings else None)
    if refusal is not None:
        raise refusal


async def _new_member(deps: Deps, uow: UnitOfWork, request: CardRequest) -> CardRequestTarget:
    """A new gateway member id for the register (ids are never reused); one card per member (R10)."""
    current = await uow.members.current(request.shop_id, request.member_id)
    if current is not None and current.status is LinkStatus.ACTIVE:
        raise CardRefused("card_already_registered", "the member has a registered card; replace it instead")
    if current is not None:  # `registering` of an order whose holder is gone (we hold the lease): unknown, for ops
        await uow.members.set_status(current.kaiin_id, LinkStatus.UNKNOWN)
    card = MemberCard(kaiin_id=deps.ids.kaiin_id(), shop_id=request.shop_id, member_id=request.member_id,
                      status=LinkStatus.REGISTERING)
    await uow.members.register(card, MemberKey(card.kaiin_id, deps.ids.kaiin_pass()))
    return _target(request, card)


async def _stored_card(uow: UnitOfWork, request: CardRequest, kind: ChangeKind) -> CardRequestTarget:
    """The member's stored card to replace or delete; a delete also continues a removal left half done
    (the member invalidated, not yet deleted) and is refused while a subscription renews with the card."""
    card = await uow.members.current(request.shop_id, request.member_id)
    if card is not None and card.status is LinkStatus.REGISTERING:
        raise CardRefused("card_registration_pending", "a card registration of this member has not finished yet")
    if card is None and kind is ChangeKind.DELETE:
        latest = await uow.members.latest(request.shop_id, request.member_id)
        card = latest if latest is not None and latest.status is LinkStatus.INVALIDATED else None
    if card is None:
        raise CardRefused("no_registered_card", "the member has no registered card")
    if kind is ChangeKind.DELETE:
        refusal = deletion_refusal(await uow.subscriptions.keeping_card(request.shop_id, request.member_id))
        if refusal is not None:
            raise refusal
    return _target(request, card)


def _target(request: CardRequest, card: MemberCard) -> CardRequestTarget:
    return CardRequestTarget(shop_id=request.shop_id, member_id=request.member_id, kaiin_id=card.kaiin_id,
                             source=request.source, requested_by=request.requested_by, face=card.face,
                             invalidated=card.status is LinkStatus.INVALIDATED)


async def view_card(deps: Deps, request: CardRequest, *, settle: bool = True) -> CardView:
    """The member's page. A change left open is first finished or resolved when the member's lease is free now
    (`settle`); the card is shown as last read, or read now with 4MemRefM (remembered)."""
    async with deps.uow() as uow:
        await _check_available(uow, request)
        pending = await uow.card_changes.open_for(request.shop_id, request.member_id)
    if settle and pending is not None:
        await _settle_if_free(deps, request)
    async with deps.uow() as uow:
        card = await uow.members.current(request.shop_id, request.member_id)
        pending = await uow.card_changes.open_for(request.shop_id, request.member_id)
        refusal = deletion_refusal(await uow.subscriptions.keeping_card(request.shop_id, request.member_id))
    if card is None or card.status is not LinkStatus.ACTIVE:
        return CardView(member_id=request.member_id, linked=False, pending=pending)
    face = card.face or await read_card(deps, card, action="card_read")
    expiry = expiry_status(face.expiry if face else None, business_date(deps.clock.now()))
    return CardView(member_id=request.member_id, linked=True, face=face, expiry=expiry, pending=pending,
                    delete_refusal=refusal)


async def _settle_if_free(deps: Deps, request: CardRequest) -> None:
    holder = holder_of(deps.ids.change_id())
    if await take_member_lease(deps, request.shop_id, request.member_id, holder=holder, wait_s=0.0):
        try:
            await settle_open_change(deps, request.shop_id, request.member_id, holder=holder)
        finally:
            await release_member_lease(deps, request.shop_id, request.member_id, holder=holder)


async def card_change(deps: Deps, request: CardRequest, change_id: str) -> CardChange:
    """One card change of this member (how the card page learns how a 3-D Secure round trip ended)."""
    async with deps.uow() as uow:
        change = await uow.card_changes.get(change_id)
    if change is None or (change.shop_id, change.member_id) != (request.shop_id, request.member_id):
        raise CardRefused("card_change_not_found", "the member has no such card change")
    return change


async def customer_card(deps: Deps, *, shop_id: str, member_id: str) -> CustomerCard:
    """The operator's customer view: linked yes/no, since when, and a change still open; never card data."""
    async with deps.uow() as uow:
        card = await uow.members.current(shop_id, member_id)
        pending = await uow.card_changes.open_for(shop_id, member_id)
    linked = card is not None and card.status is LinkStatus.ACTIVE
    return CustomerCard(member_id=member_id, linked=linked, linked_at=card.linked_at if card and linked else None,
                        pending=pending)


async def resolve_card_change(deps: Deps, *, shop_id: str, member_id: str) -> CustomerCard:
    """An operator settles the member's open change now (a 4MemRefM read; never a resend of an unknown call)."""
    holder = holder_of(deps.ids.change_id())
    if not await take_member_lease(deps, shop_id, member_id, holder=holder, wait_s=deps.policy.card_busy_wait_s):
        raise CardRefused("card_busy", "another card operation of this member is running; try again shortly")
    try:
        change = await settle_open_change(deps, shop_id, member_id, holder=holder)
    finally:
        await release_member_lease(deps, shop_id, member_id, holder=holder)
    if change is None:
        raise CardRefused("no_open_card_change", "the member has no card change to resolve")
    return await customer_card(deps, shop_id=shop_id, member_id=member_id)
