"""In-memory fakes of every checkout port (`services/checkout/ports.py`), for handler unit tests.

`CheckoutFakes()` builds them all on one committed state and hands out the `Deps` the real handlers take:

    fakes = CheckoutFakes()
    await place_checkout(fakes.deps, translate.incoming_checkout(event), inbound=inbound)
    assert fakes.state.emitted(OrderPlaced)

The unit of work works on a copy of the state and commits it on a normal exit (`tests/fakes/units.py`); outcome
announcements wake the fake outcome signals only once committed, as PostgreSQL's NOTIFY does. Every fake passes
the same contract suite as its real adapter (`tests/contract/checkout/`).
"""

from __future__ import annotations

import contextlib
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from delivery.sealing import DEV_ONLY_SEAL_KEY, TokenSealer
from services.checkout.adapters.postgres.outcomes import OutcomeWatch
from services.checkout.domain.order import Order, OrderStatus
from services.checkout.domain.shop import Shop
from services.checkout.handlers.deps import Deps
from services.checkout.ports import (
    DayCounts,
    GatewayCredentials,
    InternalServiceError,
    MemberCard,
    OrderQuery,
    PaymentServiceError,
    ShopKeys,
)
from tests.fakes.units import FakeState, FakeUnitOfWork, FakeUnitOfWorkFactory

START = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 JST


@dataclass(kw_only=True)
class CheckoutState(FakeState):
    """Checkout's tables: shops (with their key digests and sync flag), orders, submissions, the payment number
    sequence, and the outcome announcements committed so far."""

    shops: dict[str, Shop] = field(default_factory=dict)
    shop_keys: dict[str, ShopKeys] = field(default_factory=dict)
    operator_key_synced: dict[str, bool] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    payment_sequence: int = 0
    submissions: set[tuple[str, str]] = field(default_factory=set)
    fingerprints: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    announced: list[tuple[str, str]] = field(default_factory=list)


class FakeShops:
    """`ShopRepository`: a shop id and each key digest are unique, as the table's keys are."""

    def __init__(self, state: CheckoutState) -> None:
        self._state = state

    async def get(self, shop_id: str, *, for_update: bool = False) -> Shop | None:
        return self._state.shops.get(shop_id)

    async def by_storefront_key(self, key_sha256: str) -> Shop | None:
        found = [shop_id for shop_id, keys in self._state.shop_keys.items() if keys.storefront_sha256 == key_sha256]
        return self._state.shops[found[0]] if found else None

    async def keys(self, shop_id: str) -> ShopKeys | None:
        return self._state.shop_keys.get(shop_id)

    async def add(self, shop: Shop, keys: ShopKeys) -> bool:
        taken = self._state.shop_keys.values()
        if (shop.shop_id in self._state.shops
                or any(k.storefront_sha256 == keys.storefront_sha256 for k in taken)
                or any(k.operator_sha256 == keys.operator_sha256 for k in taken)):
            return False
        self._state.shops[shop.shop_id] = shop
        self._state.shop_keys[shop.shop_id] = keys
        self._state.operator_key_synced[shop.shop_id] = False
        return True

    async def save(self, shop: Shop) -> None:
        if shop.shop_id in self._state.shops:
            self._state.shops[shop.shop_id] = shop

    async def set_operator_key_synced(self, shop_id: str, synced: bool) -> None:
        if shop_id in self._state.shops:
            self._state.operator_key_synced[shop_id] = synced


class FakeOrders:
    """`OrderRepository`: one order per id, per (shop, checkout id) and per renewal cycle (subscription id, cycle
    no); search as the SQL does."""

    def __init__(self, state: CheckoutState) -> None:
        self._state = state

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        return self._state.orders.get(order_id)

    async def by_checkout(self, shop_id: str, checkout_id: str) -> Order | None:
        return next((o for o in self._state.orders.values()
                     if (o.shop_id, o.checkout_id) == (shop_id, checkout_id)), None)

    async def by_cycle(self, subscription_id: str, cycle_no: int) -> Order | None:
        return next((o for o in self._state.orders.values()
                     if o.renewal is not None and (o.renewal.subscription_id, o.renewal.cycle_no)
                     == (subscription_id, cycle_no)), None)

    async def add(self, order: Order) -> bool:
        renewal = order.renewal
        if (order.order_id in self._state.orders
                or (order.checkout_id is not None and await self.by_checkout(order.shop_id, order.checkout_id))
                or (renewal is not None and await self.by_cycle(renewal.subscription_id, renewal.cycle_no))):
            return False
        self._state.orders[order.order_id] = order
        return True

    async def save(self, order: Order) -> None:
        if order.order_id in self._state.orders:
            self._state.orders[order.order_id] = order

    async def next_payment_sequence(self) -> int:
        self._state.payment_sequence += 1
        return self._state.payment_sequence

    async def day_counts(self, shop_id: str, day: date) -> DayCounts:
        orders = [o for o in self._state.orders.values() if o.shop_id == shop_id and o.order_date == day]
        declines: Counter[tuple[str | None, str]] = Counter(
            (o.buyer_message, code) for o in orders
            if o.status in (OrderStatus.REJECTED, OrderStatus.PAYMENT_FAILED) for code in o.gateway_codes)
        ranked = sorted(declines.items(), key=lambda item: (-item[1], item[0][1], item[0][0] is None, item[0][0]))
        return DayCounts(by_status=dict(Counter(o.status.value for o in orders)),
                         declines=[(message, code, n) for (message, code), n in ranked])

    async def search(self, shop_id: str, query: OrderQuery) -> list[Order]:
        found = [o for o in self._state.orders.values() if o.shop_id == shop_id and _matches(o, query)]
        found.sort(key=lambda o: o.order_id)
        found.sort(key=lambda o: o.placed_at, reverse=True)  # newest first, ties by order id (stable sort)
        return found[query.offset:query.offset + query.limit]


def _matches(order: Order, query: OrderQuery) -> bool:
    buyer = order.request.buyer
    text = (query.buyer or "").lower()
    return ((query.payment_number is None or order.payment_number == query.payment_number)
            and (query.status is None or order.status is query.status)
            and (query.date_from is None or order.order_date >= query.date_from)
            and (query.date_to is None or order.order_date <= query.date_to)
            and (not text or any(text in part.lower() for part in (buyer.name, buyer.name_kana, buyer.email))))


class FakeSubmissions:
    """`SubmissionLog`: the first record of a (shop, checkout id) wins."""

    def __init__(self, state: CheckoutState) -> None:
        self._state = state

    async def record(self, shop_id: str, checkout_id: str, fingerprint: Mapping[str, str] | None = None) -> bool:
        if (shop_id, checkout_id) in self._state.submissions:
            return False
        self._state.submissions.add((shop_id, checkout_id))
        if fingerprint is not None:
            self._state.fingerprints[(shop_id, checkout_id)] = dict(fingerprint)
        return True

    async def exists(self, shop_id: str, checkout_id: str) -> bool:
        return (shop_id, checkout_id) in self._state.submissions

    async def fingerprint(self, shop_id: str, checkout_id: str) -> dict[str, str] | None:
        return self._state.fingerprints.get((shop_id, checkout_id))


class FakeCheckoutUnitOfWork(FakeUnitOfWork[CheckoutState]):
    SERVICE = "checkout"

    def __init__(self, state: CheckoutState) -> None:
        super().__init__(state)
        self.shops = FakeShops(state)
        self.orders = FakeOrders(state)
        self.submissions = FakeSubmissions(state)

    async def announce_outcome(self, shop_id: str, checkout_id: str) -> None:
        self.state.announced.append((shop_id, checkout_id))


class FakeCheckoutUnitOfWorkFactory(FakeUnitOfWorkFactory[CheckoutState, FakeCheckoutUnitOfWork]):
    """The fake unit of work; what a committed unit announced wakes `signals` (a rolled-back one wakes nobody)."""

    def __init__(self, state: CheckoutState, signals: FakeOutcomeSignals) -> None:
        super().__init__(state, FakeCheckoutUnitOfWork)
        self._signals = signals

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[FakeCheckoutUnitOfWork]:
        before = len(self.state.announced)
        async with super()._open() as uow:
            yield uow
        for shop_id, checkout_id in self.state.announced[before:]:
            self._signals.announce(shop_id, checkout_id)


class FakeOutcomeSignals:
    """`OutcomeSignals` in one process: `announce` (called at commit) wakes the watches of that checkout."""

    def __init__(self) -> None:
        self._watches: dict[tuple[str, str], set[OutcomeWatch]] = {}

    @contextlib.asynccontextmanager
    async def watch(self, shop_id: str, checkout_id: str) -> AsyncIterator[OutcomeWatch]:
        key, watch = (shop_id, checkout_id), OutcomeWatch()
        self._watches.setdefault(key, set()).add(watch)
        try:
            yield watch
        finally:
            self._watches[key].discard(watch)

    def watching(self, shop_id: str, checkout_id: str) -> int:
        """How many waits on this checkout are registered now."""
        return len(self._watches.get((shop_id, checkout_id), ()))

    def announce(self, shop_id: str, checkout_id: str) -> None:
        for watch in self._watches.get((shop_id, checkout_id), ()):
            watch.set()


@dataclass(kw_only=True)
class FakePaymentDirectory:
    """`PaymentDirectory`: what payment received; `down` makes every call fail as an unreachable service does,
    `refusing` as a 4xx does."""

    service: str = "payment"
    credentials: dict[str, GatewayCredentials] = field(default_factory=dict)
    operator_keys: dict[str, str] = field(default_factory=dict)
    storefront_keys: dict[str, str] = field(default_factory=dict)
    cards: dict[tuple[str, str], str] = field(default_factory=dict)
    """(shop id, member id) -> the masked number of the member's linked card."""
    down: bool = False
    refusing: bool = False

    async def put_gateway_credentials(self, shop_id: str, credentials: GatewayCredentials) -> None:
        self._check()
        self.credentials[shop_id] = credentials

    async def put_operator_key(self, shop_id: str, key_sha256: str) -> None:
        self._check()
        self.operator_keys[shop_id] = key_sha256

    async def put_storefront_key(self, shop_id: str, key_sha256: str) -> None:
        self._check()
        self.storefront_keys[shop_id] = key_sha256

    async def member_card(self, shop_id: str, member_id: str) -> MemberCard | None:
        if self.down or self.refusing:
            return None
        masked = self.cards.get((shop_id, member_id))
        return MemberCard(linked=masked is not None, masked_card_no=masked)

    def _check(self) -> None:
        if self.refusing:
            raise PaymentServiceError("payment service refused the request (HTTP 422)", refused=True)
        if self.down:
            raise PaymentServiceError("payment service unreachable (ConnectError)")


@dataclass(kw_only=True)
class FakeOperatorKeyRegistry:
    """`OperatorKeyRegistry` (and `StorefrontKeyRegistry`) of another service (notification, subscription): the
    digests it holds; `down` fails every call as an unreachable service does, `refusing` as a 4xx does."""

    service: str = "notification"
    operator_keys: dict[str, str] = field(default_factory=dict)
    storefront_keys: dict[str, str] = field(default_factory=dict)
    down: bool = False
    refusing: bool = False

    async def put_operator_key(self, shop_id: str, key_sha256: str) -> None:
        self._check()
        self.operator_keys[shop_id] = key_sha256

    async def put_storefront_key(self, shop_id: str, key_sha256: str) -> None:
        self._check()
        self.storefront_keys[shop_id] = key_sha256

    def _check(self) -> None:
        if self.refusing:
            raise InternalServiceError(f"{self.service} service refused the request (HTTP 422)", refused=True)
        if self.down:
            raise InternalServiceError(f"{self.service} service unreachable (ConnectError)")


@dataclass(kw_only=True)
class FixedClock:
    """`Clock` standing still at `at` until a test moves it."""

    at: datetime = START

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


class SequentialIds:
    """`IdSource`: ord_1, ord_2, ... in the order asked."""

    def __init__(self) -> None:
        self._next = itertools.count(1)

    def order_id(self) -> str:
        return f"ord_{next(self._next)}"


class CheckoutFakes:
    """Every checkout port faked on one state, and the `Deps` of the real handlers built from them."""

    def __init__(self, *, max_wait_s: float = 5.0) -> None:
        self.state = CheckoutState()
        self.signals = FakeOutcomeSignals()
        self.uow = FakeCheckoutUnitOfWorkFactory(self.state, self.signals)
        self.payment = FakePaymentDirectory()
        self.notification = FakeOperatorKeyRegistry()
        self.subscription = FakeOperatorKeyRegistry(service="subscription")
        self.clock = FixedClock()
        self.ids = SequentialIds()
        self.sealer = TokenSealer(DEV_ONLY_SEAL_KEY)
        self.deps = Deps(uow=self.uow, payment=self.payment, clock=self.clock, ids=self.ids, outcomes=self.signals,
                         sealer=self.sealer, max_wait_s=max_wait_s,
                         key_registries=(self.notification, self.subscription),
                         storefront_key_registries=(self.subscription, self.payment))

    def with_deps(self, **changes: object) -> Deps:
        """The same fakes with some `Deps` fields replaced (e.g. no other key registries)."""
        return replace(self.deps, **changes)  # type: ignore[arg-type]
