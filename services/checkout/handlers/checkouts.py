"""Checkouts: the storefront API (availability, submit, outcome) and `CheckoutRequested` from Kafka.

`checkout_id` is the storefront's idempotency key, scoped to its shop: the first request decides, every
repeat with the same body (over HTTP or Kafka) gets that first outcome, and no second order is ever made; the same
id with a different body is refused with the differing fields (409 `idempotency_key_reused` over HTTP, a dead
letter on Kafka: issue 14). HTTP submissions are
validated at once (so a storefront gets its 422 immediately) and placed in the request's own transaction, decided
by the same rules as Kafka input (`_decide_order`), so `OrderPlaced` leaves through the outbox with the order; a
`CheckoutRequested` a storefront publishes on Kafka itself is placed by the consumer (`place_checkout`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from contracts import gateway_text
from delivery.envelopes import Inbound
from delivery.errors import PermanentError
from delivery.idempotency import REASON_CODE, Fingerprint, IdempotencyKeyReused, differing
from delivery.logs import get_logger
from services.checkout import translate
from services.checkout.domain.order import Order, OrderStatus, place_order, reject_checkout
from services.checkout.domain.payment_number import payment_number
from services.checkout.domain.rules import (
    CartSummary,
    Rejection,
    check_availability,
    installment_options,
    validate_checkout,
)
from services.checkout.domain.shop import CardMethod, Shop
from services.checkout.domain.values import CheckoutRequest, jst_date
from services.checkout.handlers.deps import Deps
from services.checkout.ports import MemberCard, OutcomeWatch, UnitOfWork

log = get_logger(__name__)
ACCEPTED = "accepted"
"""Status of a submitted checkout the consumer has not turned into an order yet."""
WAITING = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.AWAITING_AUTHENTICATION})
BUYER_NAME_UNUSABLE = "buyer_name_unusable"
REJECTION_FIELDS: dict[str, tuple[str, ...]] = {BUYER_NAME_UNUSABLE: ("buyer", "name")}
"""The request field a refusal is about, where it is about one field (a 422 names it)."""


class CheckoutRefused(Exception):
    """A submitted checkout breaks R1-R10; nothing was published."""

    def __init__(self, rejections: list[Rejection]):
        super().__init__(rejections[0].message)
        self.rejections = rejections


@dataclass(frozen=True)
class CheckoutOutcome:
    checkout_id: str
    status: str
    order: Order | None = None

    @property
    def final(self) -> bool:
        return self.order is not None and self.order.status not in WAITING

    @property
    def action_required(self) -> bool:
        """3-D Secure: the storefront must send the buyer's browser to the gateway now (design §6.7)."""
        order = self.order
        return (order is not None and order.status is OrderStatus.AWAITING_AUTHENTICATION
                and order.authentication is not None and order.authentication.ready)


@dataclass(frozen=True, kw_only=True)
class Availability:
    rejections: list[Rejection]
    card: CardMethod | None
    installments: tuple[str, ...]
    registered_card: MemberCard | None
    registered_card_lookup: str  # "not_applicable" | "ok" | "unavailable"

    @property
    def offered(self) -> bool:
        return not self.rejections


async def card_availability(deps: Deps, shop: Shop, cart: CartSummary) -> Availability:
    """Whether the card method is offered for this cart and buyer, and what the payment page shows."""
    rejections = check_availability(shop, cart, jst_date(deps.clock.now()))
    card = shop.card if shop.configured else None
    installments = installment_options(card, cart.cart_type) if card else ()
    registered, lookup = None, "not_applicable"
    if not rejections and cart.member_id is not None:
        registered = await deps.payment.member_card(shop.shop_id, cart.member_id)
        lookup = "ok" if registered is not None else "unavailable"
    return Availability(rejections=rejections, card=card, installments=installments, registered_card=registered,
                        registered_card_lookup=lookup)


async def submit_checkout(deps: Deps, shop: Shop, checkout: translate.IncomingCheckout, *,
                          wait_s: float = 0.0) -> tuple[CheckoutOutcome, bool]:
    """Place a storefront's checkout once, in this request's own transaction (issue 18: no Kafka hop through
    `checkout.requests` and back); returns its outcome and whether this call submitted it. With `wait_s`, waits
    (bounded) as `checkout_outcome` does, watching from before the submission: the outcome the submission read
    is current, so no read is repeated until a change is announced.

    The order is decided exactly as the consumer of `checkout.requests` decides (`_decide_order`, R1-R10), against
    the shop as this request read it with its storefront key, and `OrderPlaced` (or `OrderRejected`) leaves
    through the outbox with the order."""
    async with deps.outcomes.watch(shop.shop_id, checkout.request.checkout_id) as watch:
        outcome, submitted = await _submit(deps, shop, checkout)
        settled = await _until_settled(deps, watch, outcome, shop_id=shop.shop_id,
                                       checkout_id=checkout.request.checkout_id, wait_s=wait_s)
        return settled or outcome, submitted


async def _submit(deps: Deps, shop: Shop, checkout: translate.IncomingCheckout) -> tuple[CheckoutOutcome, bool]:
    request = checkout.request
    checkout_id = request.checkout_id
    body = translate.checkout_fingerprint(checkout, deps.sealer)
    rejections = refusals(shop, request, jst_date(deps.clock.now()))
    async with deps.uow() as uow:
        # A new submission is recorded first (one statement); the lookups run only for a repeat, or before a
        # refusal, where a repeat of an accepted checkout still gets its first outcome.
        new = not rejections and await uow.submissions.record(shop.shop_id, checkout_id, body)
        if not new:
            existing = await _outcome_in(uow, shop.shop_id, checkout_id)
            if existing is not None:
                await _same_body(uow, shop.shop_id, checkout_id, body=body)
                return existing, False
            if rejections:
                raise CheckoutRefused(rejections)
        order: Order | None = None
        if not new and not await uow.submissions.record(shop.shop_id, checkout_id, body):  # a concurrent one won
            await _same_body(uow, shop.shop_id, checkout_id, body=body)
        else:
            decided = await _decide_order(deps, uow, request, shop=shop)
            if await uow.orders.add(decided):  # False: the same checkout placed meanwhile (from Kafka)
                order = decided
                await uow.emit(translate.order_event(order, checkout=checkout, sealer=deps.sealer),
                               correlation_id=checkout_id, subject_version=order.version)
                await announce_if_settled(uow, order)
    if order is None:
        found = await _read_outcome(deps, shop.shop_id, checkout_id)
        return found or CheckoutOutcome(checkout_id, ACCEPTED), False
    log.debug("checkout.ordered", shop_id=shop.shop_id, checkout_id=checkout_id, order_id=order.order_id,
              status=order.status.value, reason_code=order.reason_code, payment_number=order.payment_number)
    return CheckoutOutcome(checkout_id, order.status, order), True


async def announce_if_settled(uow: UnitOfWork, order: Order) -> None:
    """Wake the waits on the order's checkout if its outcome can end one (final, or the buyer must act): a wait
    ends on nothing else, so announcing a pending order would only make every waiter read it again for nothing."""
    outcome = CheckoutOutcome(order.checkout_id or "", order.status, order)
    if order.checkout_id is not None and (outcome.final or outcome.action_required):
        await uow.announce_outcome(order.shop_id, order.checkout_id)


async def _same_body(uow: UnitOfWork, shop_id: str, checkout_id: str, *, body: Fingerprint) -> None:
    """Issue 14: a repeat must carry the first body; otherwise `IdempotencyKeyReused` names the differing fields."""
    fields = differing(await uow.submissions.fingerprint(shop_id, checkout_id), body)
    if fields:
        log.warning("checkout.idempotency_key_reused", shop_id=shop_id, checkout_id=checkout_id, fields=fields)
        raise IdempotencyKeyReused(f"checkout_id {checkout_id!r}", fields)


def refusals(shop: Shop | None, request: CheckoutRequest, today: date) -> list[Rejection]:
    """R1-R10, then R14: the buyer's name goes to the gateway as MerchantFree2, so a name with nothing the gateway
    can carry is refused here, at submission, never at the gateway (`contracts.gateway_text`, issue 14)."""
    found = validate_checkout(shop, request, today)
    reason = gateway_text.refusal(request.buyer.name, gateway_text.MERCHANT_FREE2)
    if reason is not None:
        found.append(Rejection(BUYER_NAME_UNUSABLE, "R14", f"buyer.name: {reason}"))
    return found


async def checkout_outcome(deps: Deps, shop_id: str, checkout_id: str, *, wait_s: float = 0.0,
                           final_only: bool = False) -> CheckoutOutcome | None:
    """The checkout's outcome; with `wait_s`, wait (bounded) until it is final, or the buyer must act (3-D Secure,
    unless `final_only`: a storefront whose buyer is back from the gateway waits for the end), or the time is up."""
    async with deps.outcomes.watch(shop_id, checkout_id) as watch:  # before reading: a change after it still wakes
        outcome = await _read_outcome(deps, shop_id, checkout_id)
        return await _until_settled(deps, watch, outcome, shop_id=shop_id, checkout_id=checkout_id, wait_s=wait_s,
                                    final_only=final_only)


async def _until_settled(deps: Deps, watch: OutcomeWatch, outcome: CheckoutOutcome | None, *, shop_id: str,
                         checkout_id: str, wait_s: float, final_only: bool = False) -> CheckoutOutcome | None:
    """`outcome`, read after `watch` was registered, or what the checkout becomes by the deadline: read again
    after each announcement, and once more at the deadline (a lost LISTEN connection only makes waits end late)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(max(wait_s, 0.0), deps.max_wait_s)
    while True:
        remaining = deadline - loop.time()
        settled = outcome is not None and (outcome.final or (outcome.action_required and not final_only))
        if settled or remaining <= 0:
            return outcome
        await watch.wait(remaining)
        watch.clear()  # before reading: a change after the read still wakes the next wait
        outcome = await _read_outcome(deps, shop_id, checkout_id)


async def _read_outcome(deps: Deps, shop_id: str, checkout_id: str) -> CheckoutOutcome | None:
    async with deps.uow.reading() as uow:  # no transaction: each of its (at most two) reads sees what is committed
        return await _outcome_in(uow, shop_id, checkout_id)


async def _outcome_in(uow: UnitOfWork, shop_id: str, checkout_id: str) -> CheckoutOutcome | None:
    order = await uow.orders.by_checkout(shop_id, checkout_id)
    if order is not None:
        return CheckoutOutcome(checkout_id, order.status, order)
    if await uow.submissions.exists(shop_id, checkout_id):
        return CheckoutOutcome(checkout_id, ACCEPTED)
    return None


async def place_checkout(deps: Deps, checkout: translate.IncomingCheckout, *,
                         inbound: Inbound | None = None) -> Order | None:
    """Turn a `CheckoutRequested` into an order: pending payment (`OrderPlaced`) or rejected (`OrderRejected`).

    Returns None for a redelivered event or a repeated checkout_id with the same body (the first outcome stands);
    the same checkout_id with a different body is dead-lettered (`PermanentError`, `idempotency_key_reused`).
    """
    request = checkout.request
    async with deps.uow() as uow:
        if not await uow.claim(inbound):
            return None
        body = translate.checkout_fingerprint(checkout, deps.sealer)
        if await uow.orders.by_checkout(request.shop_id, request.checkout_id) is not None:
            try:
                await _same_body(uow, request.shop_id, request.checkout_id, body=body)
            except IdempotencyKeyReused as exc:  # nobody to answer on Kafka: a dead letter with the reason
                raise PermanentError(f"{REASON_CODE}: {exc}") from None
            log.info("checkout.repeated", shop_id=request.shop_id, checkout_id=request.checkout_id)
            return None
        order = await _decide_order(deps, uow, request)
        if not await uow.orders.add(order):
            return None
        await uow.submissions.record(request.shop_id, request.checkout_id, body)
        await uow.emit(translate.order_event(order, checkout=checkout, sealer=deps.sealer),
                       correlation_id=request.checkout_id, causation=inbound, subject_version=order.version)
        await announce_if_settled(uow, order)
    log.info("checkout.ordered", shop_id=request.shop_id, checkout_id=request.checkout_id, order_id=order.order_id,
             status=order.status.value, reason_code=order.reason_code, payment_number=order.payment_number)
    return order


async def _decide_order(deps: Deps, uow: UnitOfWork, request: CheckoutRequest, *,
                        shop: Shop | None = None) -> Order:
    """R1-R10 against the shop's settings (read now, unless the caller read them for this request already): a
    placed order with the next payment number, or a rejected one."""
    shop = shop or await uow.shops.get(request.shop_id)
    now = deps.clock.now()
    rejections = refusals(shop, request, jst_date(now))
    if rejections or shop is None:
        return reject_checkout(request, rejections[0], order_id=deps.ids.order_id(), now=now)
    number = payment_number(jst_date(now), await uow.orders.next_payment_sequence())
    return place_order(request, shop, order_id=deps.ids.order_id(), payment_number=number, now=now,
                       authentication_window=timedelta(seconds=deps.authentication_window_s))
