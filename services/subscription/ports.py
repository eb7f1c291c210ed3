"""The roles the subscription handlers depend on (style rule 5): small Protocols, named for what they do.

PostgreSQL implements the repositories (`adapters/postgres/`), `tests/fakes/subscription.py` implements them in
memory, and `tests/contract/subscription/` holds both to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from delivery.clock import Clock as Clock  # the one clock port, named here beside the others
from delivery.units import InboxOutbox
from services.subscription.domain.cards import CardWarning, MemberCard
from services.subscription.domain.cycles import Cycle
from services.subscription.domain.schedule import RenewalTiming
from services.subscription.domain.subscription import Status, Subscription


@dataclass(frozen=True, kw_only=True)
class SubscriptionQuery:
    """Operator search within one shop; every given criterion must match. Newest first."""

    status: Status | None = None
    member_id: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class Scheduled:
    """A subscription as saved, with the instant the scheduler next acts on it (None: never by itself)."""

    subscription: Subscription
    due_at: datetime | None


class SubscriptionRepository(Protocol):
    async def add(self, item: Scheduled) -> bool:
        """False if the subscription (or one from the same first order) exists already."""

    async def get(self, subscription_id: str, *, for_update: bool = False) -> Subscription | None: ...

    async def save(self, items: Sequence[Scheduled]) -> None:
        """Store the subscriptions' current state (each exists)."""

    async def search(self, shop_id: str, query: SubscriptionQuery) -> list[Subscription]: ...

    async def claim_due(self, *, now: datetime, limit: int) -> list[Subscription]:
        """Lock and return up to `limit` active subscriptions due at `now`, earliest first, skipping those another
        transaction holds (`FOR UPDATE SKIP LOCKED`): replicas never take the same one."""

    async def earliest_due(self) -> datetime | None:
        """The earliest instant any active subscription is due (None: none is scheduled)."""

    async def active_of_shop(self, shop_id: str) -> list[Subscription]:
        """The shop's active subscriptions, locked for update (their due times follow the shop's timing)."""

    async def active_of_member(self, shop_id: str, member_id: str) -> list[Subscription]:
        """The member's active subscriptions in the shop, locked for update (waiting for a batch of the scheduler
        that holds one), by id: a card event checks their next cycles after any generation in progress."""


class CycleRepository(Protocol):
    async def add(self, cycles: Sequence[Cycle]) -> set[tuple[str, int]]:
        """Record new cycles; returns the (subscription_id, cycle_no) recorded now: a cycle that exists already
        is not recorded again (the unique key of I4)."""

    async def get(self, subscription_id: str, cycle_no: int, *, for_update: bool = False) -> Cycle | None: ...

    async def save(self, cycle: Cycle) -> None: ...

    async def of_subscription(self, subscription_id: str) -> list[Cycle]:
        """All cycles of one subscription, by number."""


class ShopTimings(Protocol):
    """The projection of each shop's renewal settings from `shops.settings`."""

    async def of_shops(self, shop_ids: Iterable[str]) -> dict[str, RenewalTiming]:
        """The timing of each given shop that is known (unknown shops: absent, the caller uses the default)."""

    async def put(self, shop_id: str, timing: RenewalTiming, *, as_of: datetime) -> bool:
        """Store the shop's timing unless a later snapshot is stored already; True if stored."""


class MemberCards(Protocol):
    """The projection of each member's stored card from payment's card events (`payments.events`)."""

    async def of_members(self, members: Iterable[tuple[str, str]]) -> dict[tuple[str, str], MemberCard]:
        """The known card of each given (shop_id, member_id); members never seen are absent."""

    async def put(self, card: MemberCard, *, as_of: datetime) -> bool:
        """Store the member's card unless a later event's card is stored already; True if stored."""


class CardWarnings(Protocol):
    """The warnings given: one per (subscription, cycle), the unique record of "warn once"."""

    async def add(self, warnings: Sequence[CardWarning]) -> set[tuple[str, int]]:
        """Record new warnings; returns the (subscription_id, cycle_no) recorded now: a cycle warned about
        already is not recorded again."""

    async def of_subscription(self, subscription_id: str) -> list[CardWarning]:
        """The subscription's warnings, by cycle."""


class UnitOfWork(InboxOutbox, Protocol):
    """One database transaction (delivery's inbox claim and outbox) with this service's repositories on it."""

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    @property
    def cycles(self) -> CycleRepository: ...

    @property
    def shops(self) -> ShopTimings: ...

    @property
    def member_cards(self) -> MemberCards: ...

    @property
    def card_warnings(self) -> CardWarnings: ...


class UnitOfWorkFactory(Protocol):
    """`async with deps.uow() as uow:` one transaction; commit on a normal exit, roll back on an exception."""

    def __call__(self) -> AbstractAsyncContextManager[UnitOfWork]: ...


class Wakeup(Protocol):
    """Wakes the renewal scheduler now (a change made something due, or the dev clock moved)."""

    def wake(self) -> None: ...


class MovableClock(Clock, Protocol):
    """The dev clock: moved forward by the local stack's `/dev/clock` and by tests, never in production."""

    def advance(self, by: timedelta) -> datetime:
        """Move forward by `by` (never backward); returns the new now."""
