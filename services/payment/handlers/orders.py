"""Paying an order, and resolving an unknown outcome (design §6.1, §6.2): load -> decide -> save + outbox, with
each gateway call a recorded step between units of work (`handlers/steps.py`).

An attempt found still `sending` when the order is picked up again (crash, lost database write) is treated as
unknown, never sent again. Work on one member's stored card runs under a per-member lease, so two orders of one
member never link, charge and unlink the card at once. A renewal order (§6.6) is charged by member in the same
flow; its charge's end is settled by `handlers/renewals.py` (R22: final, or a retry the shop opted in to). An
order whose authorization checkout skipped (R21) is only recorded: no gateway call, no event. A subscription
order that links a card reads it once (4MemRefM) before announcing `CardLinked`, so the event carries the expiry.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from pydantic import SecretStr

from delivery.envelopes import Inbound
from delivery.errors import PermanentError
from delivery.logs import get_logger
from delivery.units import after_commit
from services.payment.domain.attempts import INTERRUPTED, Attempt
from services.payment.domain.calls import order_call
from services.payment.domain.card_face import CardFace
from services.payment.domain.cards import LinkStatus, link_status_after
from services.payment.domain.gateway import CHARGES, MEMBER_CALLS, CallImpossible, GatewayOperation, Outcome
from services.payment.domain.model import (
    Cleanup,
    Payment,
    PaymentState,
    PlaceOrder,
    Resolution,
    apply_reply,
    open_payment,
    resolve,
    skip_payment,
    will_retry,
)
from services.payment.domain.token_probe import settled_by_probe
from services.payment.handlers.authentication import ask_authentication, authentication_issue, kept_token
from services.payment.handlers.card_changes import settle_open_change
from services.payment.handlers.deps import Deps
from services.payment.handlers.leases import renew_member_lease, take_member_lease
from services.payment.handlers.renewals import settle_renewal_charge
from services.payment.handlers.shops import card_face
from services.payment.handlers.steps import (
    RecordedCall,
    complete_attempt,
    locked_payment,
    new_hold_pass,
    publish,
    record_call,
    save_and_publish,
    send_recorded,
    take_step,
)
from services.payment.handlers.token_probe import probe_token, settle_by_token
from services.payment.ports import (
    CredentialsUnreadable,
    GatewayAnswer,
    GatewayCall,
    MemberCard,
    MemberKey,
    UnitOfWork,
)

log = get_logger(__name__)


class MemberBusy(Exception):
    """Another order holds the member's card lease longer than expected; the consumer retries later."""


async def place_payment(deps: Deps, order: PlaceOrder, token: SecretStr | None, *,
                        inbound: Inbound | None = None) -> Payment:
    """OrderPlaced: pay the order once, however often the event (or a copy with a new id) arrives.

    The payment row per order is the guard: a redelivery finds it and sends only what is still undecided. The
    inbox claim therefore comes last, with the lease release, so a crash half-way redelivers the event and the
    order is finished rather than lost.

    A new order (the usual case) takes two units of work: the one that opens the payment also records its first
    call (`sending`, committed before it is sent), and the one that applies the last answer also claims the
    event and releases the member's card. A payment found already (a redelivery, a copy) goes the careful way:
    a token charge left `sending` is probed first, other interrupted calls are settled as unknown."""
    if order.skip_reason:
        return await _record_skip(deps, order, inbound=inbound)
    await _acquire_member(deps, order.shop_id, order.choice.member_id, holder=order.order_id)
    await _settle_card_change(deps, order)
    closing = Closing(inbound)

    async def opening() -> tuple[Payment, RecordedCall | None] | None:
        async with deps.uow() as uow:
            return await _open_new(deps, uow, order, token=token, inbound=inbound, closing=closing)

    opened = await deps.together(opening)
    if opened is None:  # there already: the careful way
        if token is not None:
            await _probe_interrupted(deps, order, token)
        async with deps.uow() as uow:
            payment = await _load_or_open(deps, uow, order, token=token, inbound=inbound)
        first = None
    else:
        payment, first = opened
    payment = await drive_order(deps, payment, token=token, inbound=inbound, first=first, closing=closing)
    if not closing.done:
        async with deps.uow() as uow:
            await closing.close(uow, payment)
    closing.raise_refusal()
    return payment


class Closing:
    """The end of an event's handling: the inbox claim and the member's card released, in the unit that applies
    the order's last answer (or opens a payment that needs no call), else in a unit of their own.

    A claim refused because the event id came before with another body (`PermanentError`) does not undo the
    unit it is in (the payment's answer stands): it is raised once that unit committed (`raise_refusal`), so the
    record is dead-lettered with its reason."""

    def __init__(self, inbound: Inbound | None) -> None:
        self._inbound = inbound
        self._refused: PermanentError | None = None
        self.done = False

    async def close(self, uow: UnitOfWork, payment: Payment) -> None:
        """Inside `uow`; counts as done once that unit committed (a batch it joined may fail and run it again)."""
        refused = None
        try:
            await uow.claim(self._inbound)
        except PermanentError as exc:
            refused = exc
        await release_member(uow, payment)
        after_commit(partial(self._closed, refused))

    def _closed(self, refused: PermanentError | None) -> None:
        self._refused = refused
        self.done = True

    def raise_refusal(self) -> None:
        if self._refused is not None:
            raise self._refused


async def charge_authenticated(deps: Deps, *, shop_id: str, order_id: str, inbound: Inbound | None = None) -> None:
    """`ChargeAuthenticatedPayment`: the buyer's 3-D Secure return was accepted; link/charge now with its result
    fields and the token kept meanwhile. Anything else (not authenticated, already charged) is acknowledged only."""
    async with deps.uow() as uow:
        payment = await uow.payments.get(order_id)
    if payment is None or payment.shop_id != shop_id or payment.authentication is None:
        log.warning("payment.authenticated_charge_ignored", order_id=order_id, shop_id=shop_id)
        async with deps.uow() as uow:
            await uow.claim(inbound)
        return
    await _acquire_member(deps, shop_id, payment.member_id, holder=order_id)
    async with deps.uow() as uow:
        payment = await uow.payments.get(order_id, lock=True)
        assert payment is not None
        payment = await settle_interrupted(deps, uow, payment, inbound=inbound)
        token = await kept_token(deps, uow, order_id)
    payment = await drive_order(deps, payment, token=token, inbound=inbound)
    async with deps.uow() as uow:
        await uow.claim(inbound)
        await uow.payments.keep_token(order_id, None)
        await release_member(uow, payment)


async def _record_skip(deps: Deps, order: PlaceOrder, *, inbound: Inbound | None) -> Payment:
    """R21: checkout decided not to authorize and completed the order itself. Payment records the skip once (the
    operator view shows it) and does nothing else: no gateway call, no member lease, no event."""
    async with deps.uow() as uow:
        payment = await uow.payments.get(order.order_id)
        if payment is None:
            correlation = inbound.envelope.correlation_id if inbound is not None else order.order_id
            payment = await uow.payments.add(skip_payment(order), correlation_id=correlation)
            log.info("payment.skipped", order_id=order.order_id, shop_id=order.shop_id, reason=order.skip_reason,
                     payment_number=order.payment_number)
        elif payment.state is not PaymentState.SKIPPED:
            log.warning("payment.skip_for_paid_order", order_id=order.order_id, state=payment.state.value)
        await uow.claim(inbound)
    return payment


async def resolve_payment(deps: Deps, resolution: Resolution, *, shop_id: str, order_id: str,
                          process_pass: SecretStr | None = None) -> Payment:
    """Record an operator's finding about an unknown outcome; then finish cleanup the order asked for."""
    async with deps.uow() as uow:
        payment = await locked_payment(uow, shop_id, order_id)
        updated, events = resolve(payment, resolution)  # InvalidTransition when not unknown
        await uow.attempts.mark_resolved(order_id, "authorized" if resolution.authorized else "not_authorized")
        updated = await save_and_publish(uow, before=payment, after=updated, events=events, new_pass=process_pass,
                                         inbound=None)
    log.info("payment.resolved", order_id=order_id, shop_id=shop_id, state=updated.state.value)
    if order_call(updated) is not None:
        await _acquire_member(deps, shop_id, updated.member_id, holder=order_id)
        updated = await drive_order(deps, updated, token=None, inbound=None)
        async with deps.uow() as uow:
            await release_member(uow, updated)
    return updated


async def drive_order(deps: Deps, payment: Payment, *, token: SecretStr | None, inbound: Inbound | None,
                      holder: str | None = None, first: RecordedCall | None = None,
                      closing: Closing | None = None) -> Payment:
    """Every call the payment still needs, one recorded step each; the member's lease (held by `holder`, the
    order id unless a retry runs) is renewed with each, so a long sequence of slow calls keeps it. `first`: a
    call already recorded (in the unit that opened the payment), sent first. `closing`: done in the unit that
    applies the last answer."""
    apply = partial(_apply_answer, deps=deps, inbound=inbound, closing=closing)
    settle = partial(settle_by_token, deps) if token is not None else None
    if first is not None:
        payment = await send_recorded(deps, first, apply, settle=settle)
    while (planned := order_call(payment)) is not None:
        renew = partial(_renew_member, deps, payment, holder or payment.order_id) if payment.member_id else None
        payment = await take_step(deps, planned, apply, token=token, also=renew, settle=settle)
    return payment


async def _apply_answer(uow: UnitOfWork, attempt: Attempt, answer: GatewayAnswer, *, deps: Deps,
                        inbound: Inbound | None, closing: Closing | None) -> Payment:
    assert attempt.order_id is not None
    payment = await uow.payments.get(attempt.order_id, lock=True)
    assert payment is not None
    applied = await _apply(deps, uow, payment, attempt=attempt, answer=answer, inbound=inbound)
    if closing is not None and order_call(applied) is None:
        await closing.close(uow, applied)
    return applied


async def _apply(deps: Deps, uow: UnitOfWork, payment: Payment, *, attempt: Attempt, answer: GatewayAnswer,
                 inbound: Inbound | None) -> Payment:
    """The reply of one call (or an interrupted attempt's assumed one): attempt, member record, payment, events."""
    op, reply = attempt.operation, answer.reply
    retrying = will_retry(payment, reply, max_sends=deps.policy.send_attempts)
    face = card_face(answer) if op is GatewayOperation.MEM_REF else None
    decided = apply_reply(payment, op, reply, attempt_id=attempt.attempt_id, max_sends=deps.policy.send_attempts,
                          face=face)
    if payment.renewal and op in CHARGES:
        decided = await settle_renewal_charge(deps, uow, decided, attempt=attempt)
    updated, events = decided
    await complete_attempt(deps, uow, attempt, answer=answer)
    if op is GatewayOperation.MEM_REF:
        await _remember_read(uow, payment, face)
    else:
        await _update_member(uow, payment, answer, op=op, retrying=retrying, now=deps.clock.now())
    saved = await save_and_publish(uow, before=payment, after=updated, events=events,
                                   new_pass=new_hold_pass(attempt, answer), inbound=inbound)
    _log_step(saved, op, answer)
    return saved


# -- opening -------------------------------------------------------------------------------------------------
async def _open_new(deps: Deps, uow: UnitOfWork, order: PlaceOrder, *, token: SecretStr | None,
                    inbound: Inbound | None, closing: Closing) -> tuple[Payment, RecordedCall | None] | None:
    """A new order's payment, opened with its first call recorded in the same unit (`closing` done there when no
    call is due); None (nothing written) when the order has a payment already."""
    if await uow.payments.get(order.order_id, lock=True) is not None:
        return None
    payment = await _open(deps, uow, order, token=token, inbound=inbound)
    planned = order_call(payment)
    if planned is None:
        await closing.close(uow, payment)
        return payment, None
    if planned.resends:
        return payment, None
    try:
        recorded = await record_call(deps, uow, planned, token=token)
    except CallImpossible:  # nothing recorded: the payment is kept, and drive_order's own step raises it
        return payment, None
    if payment.member_id:
        await renew_member_lease(deps, uow, shop_id=payment.shop_id, member_id=payment.member_id,
                                 holder=payment.order_id)
    return payment, recorded


async def _load_or_open(deps: Deps, uow: UnitOfWork, order: PlaceOrder, *, token: SecretStr | None,
                        inbound: Inbound | None) -> Payment:
    payment = await uow.payments.get(order.order_id, lock=True)
    if payment is None:
        return await _open(deps, uow, order, token=token, inbound=inbound)
    if (payment.shop_id, payment.amount) != (order.shop_id, order.amount):
        log.warning("payment.order_differs", order_id=order.order_id, kept_amount=payment.amount)
    return await settle_interrupted(deps, uow, payment, inbound=inbound)


async def settle_interrupted(deps: Deps, uow: UnitOfWork, payment: Payment, *, inbound: Inbound | None) -> Payment:
    """Attempts of the order flow still `sending` when the order is picked up again: their outcome is unknown."""
    for attempt in await uow.attempts.sending(payment.order_id):
        log.warning("payment.attempt_interrupted", order_id=payment.order_id, operation=attempt.operation.value)
        payment = await _apply(deps, uow, payment, attempt=attempt, answer=GatewayAnswer(reply=INTERRUPTED),
                               inbound=inbound)
    return payment


async def _probe_interrupted(deps: Deps, order: PlaceOrder, token: SecretStr) -> None:
    """A token charge left `sending` by a crash, found when the order comes again with its token: probe the token
    (`domain/token_probe.py`); unspent, the charge counts as not sent, so the flow goes on instead of review."""
    async with deps.uow() as uow:
        charges = [a for a in await uow.attempts.sending(order.order_id) if a.operation in CHARGES and not a.kaiin_id]
        credentials = await uow.shops.credentials(order.shop_id) if charges else None
    if credentials is None:
        return
    for attempt in charges:
        call = GatewayCall(operation=attempt.operation, credentials=credentials, token=token,
                           free1=order.payment_number)
        settled = settled_by_probe(INTERRUPTED, await probe_token(deps, call, shop_id=order.shop_id,
                                                                   order_id=order.order_id))
        if settled is INTERRUPTED:
            continue
        async with deps.uow() as uow:
            payment = await uow.payments.get(order.order_id, lock=True)
            if payment is not None and attempt in await uow.attempts.sending(order.order_id):
                await _apply(deps, uow, payment, attempt=attempt, answer=GatewayAnswer(reply=settled), inbound=None)


async def _open(deps: Deps, uow: UnitOfWork, order: PlaceOrder, *, token: SecretStr | None,
                inbound: Inbound | None) -> Payment:
    issue = await credentials_issue(uow, order.shop_id)
    if issue is None and order.authentication is not None and token is not None:
        issue = authentication_issue(deps, await uow.shops.credentials(order.shop_id))
    linked = await _linked_kaiin(uow, order)
    new_kaiin = deps.ids.kaiin_id()
    payment, events = open_payment(order, linked_kaiin=linked, new_kaiin_id=new_kaiin, credentials_issue=issue,
                                   proc_no=deps.ids.proc_no())
    correlation = inbound.envelope.correlation_id if inbound is not None else order.order_id
    payment = await uow.payments.add(payment, correlation_id=correlation)
    if payment.plan is not None and payment.plan.link is GatewayOperation.MEM_ADD:
        assert order.choice.member_id is not None
        card = MemberCard(kaiin_id=new_kaiin, shop_id=order.shop_id, member_id=order.choice.member_id,
                          status=LinkStatus.REGISTERING)
        await uow.members.register(card, MemberKey(new_kaiin, deps.ids.kaiin_pass()))
    await publish(uow, payment, events, inbound=inbound)
    if payment.state is PaymentState.AWAITING_AUTHENTICATION:
        await ask_authentication(deps, uow, payment, token=token, inbound=inbound)
    log.debug("payment.opened", order_id=order.order_id, shop_id=order.shop_id, state=payment.state.value,
             payment_number=order.payment_number, reason=payment.reason,
             plan=None if payment.plan is None else payment.plan.source.value)
    return payment


async def credentials_issue(uow: UnitOfWork, shop_id: str) -> str | None:
    """Why the shop's gateway credentials cannot be used (missing, unreadable), logged as an error; else None."""
    try:
        found = await uow.shops.credentials(shop_id)
    except CredentialsUnreadable:
        log.error("payment.credentials_unreadable", shop_id=shop_id)
        return "gateway_credentials_unreadable"
    if found is None:
        log.error("payment.credentials_missing", shop_id=shop_id)
        return "gateway_credentials_missing"
    return None


async def _linked_kaiin(uow: UnitOfWork, order: PlaceOrder) -> str | None:
    """The member's active link; a left-over `registering` record (its order never finished) is unknown."""
    member_id = order.choice.member_id
    if member_id is None:
        return None
    card = await uow.members.current(order.shop_id, member_id)
    if card is not None and card.status is LinkStatus.REGISTERING:
        await uow.members.set_status(card.kaiin_id, LinkStatus.UNKNOWN)
        return None
    return card.kaiin_id if card is not None else None


# -- the member's card -----------------------------------------------------------------------------------------
async def _acquire_member(deps: Deps, shop_id: str, member_id: str | None, *, holder: str) -> None:
    """Wait (bounded) for the member's card lease; guests need none."""
    if member_id is None:
        return
    if not await take_member_lease(deps, shop_id, member_id, holder=holder, wait_s=deps.policy.member_lease_s + 5.0):
        raise MemberBusy(f"card lease of a member of shop {shop_id} still held")


async def _settle_card_change(deps: Deps, order: PlaceOrder) -> None:
    """A card change of the member left open (its outcome unknown, or its process gone) is finished or resolved
    before the order decides how to link (design §6.8), so the order plans from what the gateway holds."""
    if order.choice.member_id is None:
        return
    try:
        await settle_open_change(deps, order.shop_id, order.choice.member_id, holder=order.order_id)
    except CallImpossible as impossible:  # the order's own flow reports the shop's credentials problem
        log.warning("payment.card_change_not_settled", order_id=order.order_id, reason=impossible.code)


async def _renew_member(deps: Deps, payment: Payment, holder: str, uow: UnitOfWork) -> None:
    assert payment.member_id is not None
    await renew_member_lease(deps, uow, shop_id=payment.shop_id, member_id=payment.member_id, holder=holder)


async def release_member(uow: UnitOfWork, payment: Payment) -> None:
    if payment.member_id is not None:
        await uow.members.release(payment.shop_id, payment.member_id, holder=payment.order_id)


async def _update_member(uow: UnitOfWork, payment: Payment, answer: GatewayAnswer, *, op: GatewayOperation,
                         retrying: bool, now: datetime) -> None:
    if op not in MEMBER_CALLS or payment.kaiin_id is None:
        return
    card = await uow.members.get(payment.kaiin_id)
    if card is None:
        return
    status = link_status_after(card.status, op, answer.reply, retrying=retrying)
    if status is not card.status:
        await uow.members.set_status(card.kaiin_id, status, at=now)
    if op is GatewayOperation.MEM_CHG and answer.reply.outcome is Outcome.OK:
        await uow.members.card_replaced(card.kaiin_id, at=now)  # another card now: look it up again


async def _remember_read(uow: UnitOfWork, payment: Payment, face: CardFace | None) -> None:
    """The card the read after a subscription order's link showed, kept for the member's card page; a read
    that showed nothing is logged (`CardLinked` goes out without the expiry) and changes nothing."""
    card = await uow.members.get(payment.kaiin_id) if payment.kaiin_id is not None else None
    if face is None or card is None:
        log.warning("payment.linked_card_unread", order_id=payment.order_id, shop_id=payment.shop_id)
        return
    await uow.members.remember_face(card.kaiin_id, face, card_version=card.card_version)


def _log_step(payment: Payment, op: GatewayOperation, answer: GatewayAnswer) -> None:
    reply = answer.reply
    fields = {"order_id": payment.order_id, "shop_id": payment.shop_id, "operation": op.value,
              "outcome": reply.outcome.value, "codes": list(reply.codes), "reason": reply.reason or None,
              "state": payment.state.value, "cleanup": payment.cleanup.value,
              "payment_number": payment.payment_number}
    if (reply.outcome is Outcome.UNKNOWN and op is not GatewayOperation.MEM_REF) or payment.cleanup is Cleanup.FAILED:
        log.error("payment.needs_attention", **fields)
    else:  # the attempt row is the operation history (R15); a line per call is for debugging
        log.debug("payment.step", **fields)
