"""In-memory fakes of every subscription port (`services/subscription/ports.py`), for handler unit tests.

`SubscriptionFakes()` builds them all on one committed state and hands out the `Deps` the real handlers take:

    fakes = SubscriptionFakes()
    await start_subscription(fakes.deps, first_order, inbound=inbound)
    assert fakes.state.emitted(SubscriptionStarted)

The unit of work works on a copy of the state and commits it on a normal exit (`tests/fakes/units.py`). Every
fake passes the same contract suite as its real adapter (`tests/contract/subscription/`).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from services.subscription.domain.cards import CardWarning, MemberCard
from services.subscription.domain.cycles import Cycle
from services.subscription.domain.schedule import RenewalTiming
from services.subscription.domain.subscription import Status, Subscription
from services.subscription.handlers.deps import Deps
from services.subscription.ports import Scheduled, SubscriptionQuery
from tests.fakes.units import FakeState, FakeUnitOfWork, FakeUnitOfWorkFactory

START = datetime(2025, 1, 31, 3, 0, tzinfo=UTC)  # 12:00 JST


@dataclass(kw_only=True)
class SubscriptionState(FakeState):
    """The service's tables: subscriptions (with their due time and creation order), cycles, shop timings, member
    cards (with their `as_of`) and card warnings."""

    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    due: dict[str, datetime | None] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    cycles: dict[tuple[str, int], Cycle] = field(default_factory=dict)
    timings: dict[str, tuple[RenewalTiming, datetime]] = field(default_factory=dict)
    cards: dict[tuple[str, str], tuple[MemberCard, datetime]] = field(default_factory=dict)
    warnings: dict[tuple[str, int], CardWarning] = field(default_factory=dict)


_creation = itertools.count()


class FakeSubscriptions:
    """`SubscriptionRepository`: a subscription id and a (shop, first order) pair are unique, as in the table.
    Row locks are held in `locks` (shared by every unit) until the unit ends: `claim_due` skips locked rows."""

    def __init__(self, state: SubscriptionState, locks: set[str]) -> None:
        self._state = state
        self._locks = locks
        self.held: set[str] = set()

    async def add(self, item: Scheduled) -> bool:
        sub = item.subscription
        if sub.subscription_id in self._state.subscriptions or any(
                (s.shop_id, s.first_order_id) == (sub.shop_id, sub.first_order_id)
                for s in self._state.subscriptions.values()):
            return False
        self._state.created[sub.subscription_id] = next(_creation)
        self._put(item)
        return True

    async def get(self, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        found = self._state.subscriptions.get(subscription_id)
        if found is not None and for_update:
            self._lock([subscription_id])
        return found

    async def save(self, items: Sequence[Scheduled]) -> None:
        for item in items:
            if item.subscription.subscription_id in self._state.subscriptions:
                self._put(item)

    async def search(self, shop_id: str, query: SubscriptionQuery) -> list[Subscription]:
        found = [s for s in self._state.subscriptions.values() if s.shop_id == shop_id
                 and (query.status is None or s.status is query.status)
                 and (query.member_id is None or s.member_id == query.member_id)]
        found.sort(key=lambda s: (-self._state.created[s.subscription_id], s.subscription_id))
        return found[query.offset:query.offset + query.limit]

    async def claim_due(self, *, now: datetime, limit: int) -> list[Subscription]:
        due = [(at, sub_id) for sub_id, at in self._state.due.items()
               if at is not None and at <= now and self._state.subscriptions[sub_id].status is Status.ACTIVE
               and (sub_id not in self._locks or sub_id in self.held)]
        claimed = [sub_id for _, sub_id in sorted(due)[:limit]]
        self._lock(claimed)
        return [self._state.subscriptions[sub_id] for sub_id in claimed]

    async def earliest_due(self) -> datetime | None:
        times = [at for sub_id, at in self._state.due.items()
                 if at is not None and self._state.subscriptions[sub_id].status is Status.ACTIVE]
        return min(times, default=None)

    async def active_of_shop(self, shop_id: str) -> list[Subscription]:
        found = sorted((s for s in self._state.subscriptions.values()
                        if s.shop_id == shop_id and s.status is Status.ACTIVE), key=lambda s: s.subscription_id)
        self._lock([s.subscription_id for s in found])
        return found

    async def active_of_member(self, shop_id: str, member_id: str) -> list[Subscription]:
        found = sorted((s for s in self._state.subscriptions.values()
                        if (s.shop_id, s.member_id) == (shop_id, member_id) and s.status is Status.ACTIVE),
                       key=lambda s: s.subscription_id)
        self._lock([s.subscription_id for s in found])
        return found

    def _lock(self, subscription_ids: Iterable[str]) -> None:
        self.held.update(subscription_ids)
        self._locks.update(subscription_ids)

    def _put(self, item: Scheduled) -> None:
        self._state.subscriptions[item.subscription.subscription_id] = item.subscription
        self._state.due[item.subscription.subscription_id] = item.due_at


class FakeCycles:
    """`CycleRepository`: (subscription_id, cycle_no) is unique (I4), and so is an order id."""

    def __init__(self, state: SubscriptionState) -> None:
        self._state = state

    async def add(self, cycles: Sequence[Cycle]) -> set[tuple[str, int]]:
        added = set()
        for cycle in cycles:
            key = (cycle.subscription_id, cycle.cycle_no)
            if key not in self._state.cycles:
                self._check_order_unique(cycle)
                self._state.cycles[key] = cycle
                added.add(key)
        return added

    async def get(self, subscription_id: str, cycle_no: int, *, for_update: bool = False) -> Cycle | None:
        return self._state.cycles.get((subscription_id, cycle_no))

    async def save(self, cycle: Cycle) -> None:
        key = (cycle.subscription_id, cycle.cycle_no)
        if key in self._state.cycles:
            self._check_order_unique(cycle)
            self._state.cycles[key] = cycle

    async def of_subscription(self, subscription_id: str) -> list[Cycle]:
        return sorted((c for c in self._state.cycles.values() if c.subscription_id == subscription_id),
                      key=lambda c: c.cycle_no)

    def _check_order_unique(self, cycle: Cycle) -> None:
        if cycle.order_id is not None and any(
                c.order_id == cycle.order_id and (c.subscription_id, c.cycle_no) != (cycle.subscription_id,
                                                                                   cycle.cycle_no)
                for c in self._state.cycles.values()):
            raise ValueError(f"order {cycle.order_id} belongs to another cycle (unique index cycles_order)")


class FakeShopTimings:
    """`ShopTimings`: the latest snapshot (by `as_of`) wins."""

    def __init__(self, state: SubscriptionState) -> None:
        self._state = state

    async def of_shops(self, shop_ids: Iterable[str]) -> dict[str, RenewalTiming]:
        return {shop_id: self._state.timings[shop_id][0] for shop_id in shop_ids if shop_id in self._state.timings}

    async def put(self, shop_id: str, timing: RenewalTiming, *, as_of: datetime) -> bool:
        stored = self._state.timings.get(shop_id)
        if stored is not None and stored[1] > as_of:
            return False
        self._state.timings[shop_id] = (timing, as_of)
        return True


class FakeMemberCards:
    """`MemberCards`: the newest event's card (by `as_of`) wins; an unlinked card keeps its row."""

    def __init__(self, state: SubscriptionState) -> None:
        self._state = state

    async def of_members(self, members: Iterable[tuple[str, str]]) -> dict[tuple[str, str], MemberCard]:
        return {key: self._state.cards[key][0] for key in set(members) if key in self._state.cards}

    async def put(self, card: MemberCard, *, as_of: datetime) -> bool:
        key = (card.shop_id, card.member_id)
        stored = self._state.cards.get(key)
        if stored is not None and stored[1] > as_of:
            return False
        self._state.cards[key] = (card, as_of)
        return True


class FakeCardWarnings:
    """`CardWarnings`: (subscription_id, cycle_no) is unique, as the table's primary key."""

    def __init__(self, state: SubscriptionState) -> None:
        self._state = state

    async def add(self, warnings: Sequence[CardWarning]) -> set[tuple[str, int]]:
        added = set()
        for warning in warnings:
            key = (warning.subscription_id, warning.cycle_no)
            if key not in self._state.warnings:
                self._state.warnings[key] = warning
                added.add(key)
        return added

    async def of_subscription(self, subscription_id: str) -> list[CardWarning]:
        return sorted((w for w in self._state.warnings.values() if w.subscription_id == subscription_id),
                      key=lambda w: w.cycle_no)


class FakeSubscriptionUnitOfWork(FakeUnitOfWork[SubscriptionState]):
    SERVICE = "subscription"

    def __init__(self, state: SubscriptionState, locks: set[str]) -> None:
        super().__init__(state)
        self.subscriptions = FakeSubscriptions(state, locks)
        self.cycles = FakeCycles(state)
        self.shops = FakeShopTimings(state)
        self.member_cards = FakeMemberCards(state)
        self.card_warnings = FakeCardWarnings(state)


class FakeSubscriptionUnitOfWorkFactory(FakeUnitOfWorkFactory[SubscriptionState, FakeSubscriptionUnitOfWork]):
    """Units on copies of the state (tests/fakes/units.py) that hold their row locks until they end."""

    def __init__(self, state: SubscriptionState) -> None:
        self.locks: set[str] = set()
        super().__init__(state, lambda working: FakeSubscriptionUnitOfWork(working, self.locks))

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[FakeSubscriptionUnitOfWork]:  # type: ignore[override]
        async with super()._open() as uow:
            try:
                yield uow
            finally:
                self.locks.difference_update(uow.subscriptions.held)


class SteppingClock:
    """A clock tests set and move (the `MovableClock` port): starts at `START`."""

    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> datetime:
        self.at += by
        return self.at


class CountingWakeup:
    """The `Wakeup` port: counts the wake-ups the handlers asked for."""

    def __init__(self) -> None:
        self.count = 0

    def wake(self) -> None:
        self.count += 1


class SubscriptionFakes:
    """Every port faked on one state, and the `Deps` the handlers take."""

    def __init__(self, *, at: datetime = START) -> None:
        self.state = SubscriptionState()
        self.uow = FakeSubscriptionUnitOfWorkFactory(self.state)
        self.clock = SteppingClock(at)
        self.wakeup = CountingWakeup()
        self.deps = Deps(uow=self.uow, clock=self.clock, scheduler=self.wakeup)
