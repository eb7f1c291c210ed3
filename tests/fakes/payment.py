"""In-memory fakes of every payment port (`services/payment/ports.py`), for handler unit tests.

`PaymentFakes()` builds them on one committed state and hands out the `Deps` the real handlers take:

    fakes = PaymentFakes()
    await fakes.add_shop("shop-1")
    await place_payment(fakes.deps, order, token, inbound=inbound)
    assert fakes.state.emitted(PaymentAuthorized)

The unit of work works on a copy of the state and commits it on a normal exit (`tests/fakes/units.py`); it also
knows which tasks have a unit open, and the fake card gateway (`tests/fakes/payment_gateway.py`) fails any call
made inside one: a handler that sends inside a transaction fails its test. Every fake passes the same contract
suite as its real adapter (`tests/contract/payment/`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import asyncpg
from pydantic import SecretStr

from delivery.sealing import DEV_ONLY_SEAL_KEY, TokenSealer
from services.payment.domain.attempts import Attempt, AttemptStatus
from services.payment.domain.card_changes import CardChange
from services.payment.domain.card_face import CardFace
from services.payment.domain.card_rules import KEEPS_CARD
from services.payment.domain.cards import CURRENT_LINK, LinkStatus
from services.payment.domain.model import Payment, PaymentState
from services.payment.domain.retries import ScheduledRetry
from services.payment.handlers.deps import Deps, Policy
from services.payment.ports import (
    Credentials,
    CredentialsUnreadable,
    MemberCard,
    MemberKey,
    ProcessKey,
    ShopSettings,
    SubscriptionStatus,
)
from tests.fakes.payment_gateway import DEMO_CREDENTIALS, FakeCardGateway
from tests.fakes.units import FakeState, FakeUnitOfWork, FakeUnitOfWorkFactory

__all__ = ["DEMO_CREDENTIALS", "FakeCardGateway", "PaymentFakes"]

START = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 JST


@dataclass(kw_only=True)
class PaymentTables(FakeState):
    """Payment's tables: payments (with their correlation and the current and previous ProcessPass), gateway
    attempts, member records (in the order registered) and keys, member leases and card-event counters, shop
    credentials and settings, renewal retries, card changes and the members' subscriptions."""

    payments: dict[str, Payment] = field(default_factory=dict)
    correlations: dict[str, str] = field(default_factory=dict)
    process_passes: dict[str, SecretStr] = field(default_factory=dict)
    previous_passes: dict[str, SecretStr] = field(default_factory=dict)
    attempts: dict[str, Attempt] = field(default_factory=dict)
    cards: dict[str, MemberCard] = field(default_factory=dict)
    kaiin_passes: dict[str, SecretStr] = field(default_factory=dict)
    leases: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)
    card_versions: dict[tuple[str, str], int] = field(default_factory=dict)
    credentials: dict[str, Credentials] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    """Shops whose stored credentials no configured key decrypts (the key changed without rotation)."""
    settings: dict[str, ShopSettings] = field(default_factory=dict)
    retries: dict[str, ScheduledRetry] = field(default_factory=dict)
    card_changes: dict[str, CardChange] = field(default_factory=dict)
    subscriptions: dict[str, SubscriptionStatus] = field(default_factory=dict)
    kept_tokens: dict[str, str] = field(default_factory=dict)
    janitor_findings: list[tuple[str, str]] = field(default_factory=list)


def _unique(what: str) -> asyncpg.UniqueViolationError:
    """The error PostgreSQL raises for the same violation, so callers cannot tell the fake apart."""
    return asyncpg.UniqueViolationError(f"duplicate key value violates unique constraint ({what})")


class FakePayments:
    """`PaymentRepository`: one payment per order; each save is version + 1; ProcessPasses kept aside."""

    def __init__(self, state: PaymentTables) -> None:
        self._state = state

    async def get(self, order_id: str, *, lock: bool = False) -> Payment | None:
        return self._state.payments.get(order_id)

    async def add(self, payment: Payment, *, correlation_id: str) -> Payment:
        if payment.order_id in self._state.payments:
            raise _unique("payments_pkey")
        added = replace(payment, version=1)
        self._state.payments[payment.order_id] = added
        self._state.correlations[payment.order_id] = correlation_id
        return added

    async def save(self, payment: Payment, *, process_pass: SecretStr | None = None,
                   retire_pass: bool = False) -> Payment:
        saved = replace(payment, version=payment.version + 1)
        if payment.order_id not in self._state.payments:  # an UPDATE of no row
            return saved
        order_id, passes, previous = payment.order_id, self._state.process_passes, self._state.previous_passes
        if retire_pass and order_id in passes:
            previous[order_id] = passes[order_id]
        elif saved.previous_hold is None:
            previous.pop(order_id, None)
        if process_pass is not None:
            passes[order_id] = process_pass
        self._state.payments[order_id] = saved
        return saved

    async def process_key(self, order_id: str, *, previous: bool = False) -> ProcessKey | None:
        payment = self._state.payments.get(order_id)
        if payment is None:
            return None
        if previous:
            pid = payment.previous_hold.process_id if payment.previous_hold else None
            secret = self._state.previous_passes.get(order_id)
        else:
            pid, secret = payment.process_id, self._state.process_passes.get(order_id)
        return ProcessKey(pid, secret) if pid is not None and secret is not None else None

    async def correlation_id(self, order_id: str) -> str | None:
        return self._state.correlations.get(order_id)

    async def needing_operator(self, shop_id: str, *, limit: int) -> list[Payment]:
        found = [p for p in self._state.payments.values() if p.shop_id == shop_id
                 and (p.state is PaymentState.UNKNOWN or p.unknown_action is not None or p.two_live_holds)]
        return found[:limit]

    async def keep_token(self, order_id: str, sealed: str | None) -> None:
        if sealed is None:
            self._state.kept_tokens.pop(order_id, None)
        elif order_id in self._state.payments:
            self._state.kept_tokens[order_id] = sealed

    async def kept_token(self, order_id: str) -> str | None:
        return self._state.kept_tokens.get(order_id)

    async def authentication_overdue(self, now: datetime, *, limit: int = 100) -> list[str]:
        due = [p for p in self._state.payments.values() if p.state is PaymentState.AWAITING_AUTHENTICATION
               and p.authentication is not None and p.authentication.request.deadline <= now]
        due.sort(key=lambda p: p.authentication.request.deadline if p.authentication else now)
        return [p.order_id for p in due[:limit]]

    async def stuck(self, *, sending_before, limit: int) -> list[Payment]:
        stuck = {a.order_id for a in self._state.attempts.values() if a.status is AttemptStatus.SENDING
                 and a.action is None and a.started_at < sending_before}
        found = [p for p in self._state.payments.values()
                 if p.state is PaymentState.PENDING and p.order_id in stuck]
        return found[:limit]

    async def note_janitor_finding(self, order_id: str, *, state: str) -> None:
        self._state.janitor_findings.append((order_id, state))


class FakeAttempts:
    """`AttemptRepository`: the operation history, in the order the calls started."""

    def __init__(self, state: PaymentTables) -> None:
        self._state = state

    async def add(self, attempt: Attempt) -> None:
        if attempt.attempt_id in self._state.attempts:
            raise _unique("gateway_attempts_pkey")
        self._state.attempts[attempt.attempt_id] = attempt

    async def save(self, attempt: Attempt) -> None:
        """Only the answer's fields change, as the real UPDATE writes only those."""
        stored = self._state.attempts.get(attempt.attempt_id)
        if stored is not None:
            self._state.attempts[attempt.attempt_id] = replace(
                stored, status=attempt.status, finished_at=attempt.finished_at, codes=attempt.codes,
                transaction_id=attempt.transaction_id, reason=attempt.reason, resolution=attempt.resolution)

    async def get(self, attempt_id: str) -> Attempt | None:
        return self._state.attempts.get(attempt_id)

    async def sending(self, order_id: str) -> list[Attempt]:
        return [a for a in self._ordered(order_id) if a.status is AttemptStatus.SENDING and a.action is None]

    async def history(self, order_id: str) -> list[Attempt]:
        return self._ordered(order_id)

    async def mark_resolved(self, order_id: str, resolution: str) -> None:
        for a in self._ordered(order_id):
            if a.status is AttemptStatus.UNKNOWN and a.resolution is None and a.action is None:
                self._state.attempts[a.attempt_id] = replace(a, resolution=resolution)

    async def resolve_one(self, attempt_id: str, resolution: str) -> None:
        if attempt_id in self._state.attempts:
            self._state.attempts[attempt_id] = replace(self._state.attempts[attempt_id], resolution=resolution)

    def _ordered(self, order_id: str) -> list[Attempt]:
        found = [a for a in self._state.attempts.values() if a.order_id == order_id]
        return sorted(found, key=lambda a: (a.started_at, a.attempt_id))


class FakeMemberCards:
    """`MemberCardRepository`: at most one current record per shop member; leases expire after their ttl."""

    def __init__(self, state: PaymentTables) -> None:
        self._state = state

    async def lease(self, shop_id: str, member_id: str, *, holder: str, ttl_s: float) -> bool:
        now, held = time.monotonic(), self._state.leases.get((shop_id, member_id))
        if held is not None and held[0] != holder and now - held[1] <= ttl_s:
            return False
        self._state.leases[(shop_id, member_id)] = (holder, now)
        return True

    async def release(self, shop_id: str, member_id: str, *, holder: str) -> None:
        held = self._state.leases.get((shop_id, member_id))
        if held is not None and held[0] == holder:
            del self._state.leases[(shop_id, member_id)]

    async def next_version(self, shop_id: str, member_id: str) -> int:
        version = self._state.card_versions.get((shop_id, member_id), 0) + 1
        self._state.card_versions[(shop_id, member_id)] = version
        return version

    async def current(self, shop_id: str, member_id: str) -> MemberCard | None:
        return next((c for c in self._state.cards.values() if (c.shop_id, c.member_id) == (shop_id, member_id)
                     and c.status in CURRENT_LINK), None)

    async def latest(self, shop_id: str, member_id: str) -> MemberCard | None:
        found = [c for c in self._state.cards.values() if (c.shop_id, c.member_id) == (shop_id, member_id)]
        return found[-1] if found else None

    async def get(self, kaiin_id: str) -> MemberCard | None:
        return self._state.cards.get(kaiin_id)

    async def key(self, kaiin_id: str) -> MemberKey | None:
        secret = self._state.kaiin_passes.get(kaiin_id)
        return MemberKey(kaiin_id, secret) if secret is not None else None

    async def register(self, card: MemberCard, key: MemberKey) -> None:
        if card.kaiin_id in self._state.cards:
            raise _unique("member_cards_pkey")
        if card.status in CURRENT_LINK and await self.current(card.shop_id, card.member_id) is not None:
            raise _unique("member_cards_current")
        self._state.cards[card.kaiin_id] = card
        self._state.kaiin_passes[card.kaiin_id] = key.kaiin_pass

    async def set_status(self, kaiin_id: str, status: LinkStatus, *, at: datetime | None = None) -> None:
        card = self._state.cards.get(kaiin_id)
        if card is not None:
            linked_at = card.linked_at or at if status is LinkStatus.ACTIVE else card.linked_at
            self._state.cards[kaiin_id] = replace(card, status=status, linked_at=linked_at)

    async def remember_face(self, kaiin_id: str, face: CardFace, *, card_version: int) -> bool:
        card = self._state.cards.get(kaiin_id)
        if card is None or card.card_version != card_version:
            return False
        self._state.cards[kaiin_id] = replace(card, masked_card=face.masked, card_expiry=face.expiry,
                                              card_brand=face.brand)
        return True

    async def card_replaced(self, kaiin_id: str, *, at: datetime) -> None:
        card = self._state.cards.get(kaiin_id)
        if card is not None:
            self._state.cards[kaiin_id] = replace(card, masked_card=None, card_expiry=None, card_brand=None,
                                                  card_version=card.card_version + 1, linked_at=at)


class FakeCardChanges:
    """`CardChangeRepository`: each save is version + 1; at most one open change per shop member."""

    def __init__(self, state: PaymentTables) -> None:
        self._state = state

    async def add(self, change: CardChange) -> CardChange:
        if change.change_id in self._state.card_changes:
            raise _unique("card_changes_pkey")
        if change.open and await self.open_for(change.shop_id, change.member_id) is not None:
            raise _unique("card_changes_open")
        added = replace(change, version=1, updated_at=change.updated_at or change.created_at)
        self._state.card_changes[change.change_id] = added
        return added

    async def save(self, change: CardChange) -> CardChange:
        stored = self._state.card_changes.get(change.change_id)
        if stored is None:
            return change
        saved = replace(change, version=stored.version + 1, updated_at=change.updated_at or change.created_at)
        self._state.card_changes[change.change_id] = saved
        return saved

    async def get(self, change_id: str, *, lock: bool = False) -> CardChange | None:
        return self._state.card_changes.get(change_id)

    async def open_for(self, shop_id: str, member_id: str) -> CardChange | None:
        return next((c for c in self._state.card_changes.values()
                     if (c.shop_id, c.member_id) == (shop_id, member_id) and c.open), None)


class FakeMemberSubscriptions:
    """`MemberSubscriptionRepository`: the newest version of each subscription's status wins."""

    def __init__(self, state: PaymentTables) -> None:
        self._state = state

    async def record(self, status: SubscriptionStatus) -> bool:
        kept = self._state.subscriptions.get(status.subscription_id)
        if kept is not None and kept.version > status.version:
            return False
        self._state.subscriptions[status.subscription_id] = status
        return True

    async def keeping_card(self, shop_id: str, member_id: str) -> list[str]:
        return sorted(s.subscription_id for s in self._state.subscriptions.values()
                      if (s.shop_id, s.member_id) == (shop_id, member_id) and s.status in KEEPS_CARD)


class FakeShops:
    """`ShopRepository`: credentials (unreadable for shops in `unreadable`) and the settings projection."""

    def __init__(self, state: PaymentTables) -> None:
        self._state = state

    async def credentials(self, shop_id: str) -> Credentials | None:
        if shop_id in self._state.unreadable:
            raise CredentialsUnreadable("stored secret cannot be decrypted with PAYMENT_ENCRYPTION_KEY")
        return self._state.credentials.get(shop_id)

    async def put_credentials(self, shop_id: str, credentials: Credentials) -> None:
        self._state.credentials[shop_id] = credentials
        self._state.unreadable.discard(shop_id)

    async def put_settings(self, settings: ShopSettings) -> None:
        self._state.settings[settings.shop_id] = settings

    async def settings(self, shop_id: str) -> ShopSettings | None:
        return self._state.settings.get(shop_id)


class FakeRetries:
    """`RetryRepository`: one schedule per order. Rows a unit claimed stay locked (in `locks`, shared by every
    unit) until that unit ends, and `claim_due` skips locked rows, as `FOR UPDATE SKIP LOCKED` does."""

    def __init__(self, state: PaymentTables, locks: set[str]) -> None:
        self._state = state
        self._locks = locks
        self.held: set[str] = set()

    async def put(self, retry: ScheduledRetry) -> None:
        self._state.retries[retry.order_id] = retry

    async def get(self, order_id: str) -> ScheduledRetry | None:
        return self._state.retries.get(order_id)

    async def delete(self, order_id: str) -> None:
        self._state.retries.pop(order_id, None)

    async def claim_due(self, now: datetime, *, until: datetime, limit: int) -> list[ScheduledRetry]:
        due = sorted((r for r in self._state.retries.values()
                      if r.due_at <= now and (r.order_id not in self._locks or r.order_id in self.held)),
                     key=lambda r: (r.due_at, r.order_id))[:limit]
        claimed = [replace(r, due_at=until) for r in due]
        for retry in claimed:
            self._state.retries[retry.order_id] = retry
            self.held.add(retry.order_id)
        self._locks.update(self.held)
        return sorted(claimed, key=lambda r: r.order_id)

    async def next_due(self) -> datetime | None:
        return min((r.due_at for r in self._state.retries.values()), default=None)


class FakePaymentUnitOfWork(FakeUnitOfWork[PaymentTables]):
    SERVICE = "payment"

    def __init__(self, state: PaymentTables, retry_locks: set[str]) -> None:
        super().__init__(state)
        self.payments = FakePayments(state)
        self.attempts = FakeAttempts(state)
        self.members = FakeMemberCards(state)
        self.shops = FakeShops(state)
        self.retries = FakeRetries(state, retry_locks)
        self.card_changes = FakeCardChanges(state)
        self.subscriptions = FakeMemberSubscriptions(state)


class FakePaymentUnits(FakeUnitOfWorkFactory[PaymentTables, FakePaymentUnitOfWork]):
    """The unit of work factory, knowing which tasks have a unit open (`in_unit`); the retry rows a unit claimed
    are locked until it ends (`retry_locks`)."""

    def __init__(self, state: PaymentTables) -> None:
        self.retry_locks: set[str] = set()
        super().__init__(state, lambda working: FakePaymentUnitOfWork(working, self.retry_locks))
        self._units_open: dict[asyncio.Task[object] | None, int] = {}

    def in_unit(self) -> bool:
        """True while the current task is inside a unit of work."""
        return self._units_open.get(asyncio.current_task(), 0) > 0

    def __call__(self) -> AbstractAsyncContextManager[FakePaymentUnitOfWork]:
        return self._counted()

    @asynccontextmanager
    async def _counted(self) -> AsyncIterator[FakePaymentUnitOfWork]:
        task = asyncio.current_task()
        self._units_open[task] = self._units_open.get(task, 0) + 1
        held: set[str] = set()
        try:
            async with super().__call__() as uow:
                held = uow.retries.held
                yield uow
        finally:
            self._units_open[task] -= 1
            self.retry_locks.difference_update(held)


class SteppingClock:
    """A clock tests move: `now()` is fixed until `advance`."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class SequentialIds:
    """`IdSource` with predictable values: attempt ids are UUIDs (as stored), member ids `K` + 12 digits."""

    def __init__(self) -> None:
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def attempt_id(self) -> str:
        return str(uuid.UUID(int=self._next()))

    def change_id(self) -> str:
        return str(uuid.UUID(int=self._next()))

    def kaiin_id(self) -> str:
        return f"K{self._next():012d}"

    def kaiin_pass(self) -> SecretStr:
        return SecretStr(f"kaiinpass{self._next():03d}")

    def proc_no(self) -> str:
        return f"{self._next() % 10_000_000:07d}"


class PaymentFakes:
    """Every payment port faked on one state, and the `Deps` of the real handlers built from them (no pause
    before resending a call that did not leave)."""

    def __init__(self, **policy: object) -> None:
        self.state = PaymentTables()
        self.uow = FakePaymentUnits(self.state)
        self.gateway = FakeCardGateway(in_unit=self.uow.in_unit)
        self.clock = SteppingClock()
        self.ids = SequentialIds()
        self.deps = Deps(uow=self.uow, gateway=self.gateway, clock=self.clock, ids=self.ids,
                         sealer=TokenSealer(DEV_ONLY_SEAL_KEY),
                         policy=Policy(**{"retry_backoff_s": 0.0, **policy}))  # type: ignore[arg-type]

    async def add_shop(self, shop_id: str, credentials: Credentials = DEMO_CREDENTIALS) -> None:
        """A shop whose gateway credentials are stored (as checkout registers them)."""
        async with self.uow() as uow:
            await uow.shops.put_credentials(shop_id, credentials)
