"""In-memory fakes of every notification port (`services/notification/ports.py`), for handler unit tests.

`NotificationFakes()` builds them all on one committed state and hands out the `Deps` the real handlers take:

    fakes = NotificationFakes()
    await record_completed_order(fakes.deps, order, source=source, snapshot=snapshot, inbound=inbound)
    [thanks, copy] = await claim_due_mails(fakes.deps, limit=10)
    await deliver_mail(fakes.deps, thanks)
    assert fakes.state.emitted(MailSent) and fakes.transport.sent

The unit of work works on a copy of the state and commits it on a normal exit (`tests/fakes/units.py`). The
transport answers as the local SMTP sink does (refusals on demand, `.invalid` recipients refused). Every fake
passes the same contract suite as its real adapter (`tests/contract/notification/`).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from services.notification.domain.kinds import CARD_KINDS
from services.notification.domain.model import KINDS, Mail, MailStatus, RetryPolicy, ShopProfile
from services.notification.domain.notices import MemberContact
from services.notification.handlers.deps import Deps, DispatchRules
from services.notification.ports import (
    NextMailEvent,
    OrderSnapshot,
    OrderSource,
    OutgoingMail,
    RenderedMail,
    RenderError,
    SendResult,
)
from tests.fakes.units import FakeState, FakeUnitOfWork, FakeUnitOfWorkFactory

START = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 JST
RULES = DispatchRules(retry=RetryPolicy(max_attempts=4, backoff_initial_s=5.0, backoff_max_s=40.0),
                      lease=timedelta(seconds=120), message_id_domain="test.invalid", record_retry_s=0.0)


@dataclass(frozen=True, kw_only=True)
class StoredOrder:
    """A row of `orders`: the snapshot, where it came from, and how many mail events it has had."""

    shop_id: str
    source: OrderSource
    snapshot: OrderSnapshot
    events_emitted: int = 0


@dataclass(kw_only=True)
class NotificationState(FakeState):
    """Notification's tables: order snapshots, the mail log, the shop projection (with each shop's `as_of`), the
    members' contacts."""

    orders: dict[str, StoredOrder] = field(default_factory=dict)
    mails: dict[str, Mail] = field(default_factory=dict)
    shops: dict[str, tuple[ShopProfile, datetime]] = field(default_factory=dict)
    members: dict[tuple[str, str], MemberContact] = field(default_factory=dict)


class FakeMailLog:
    """`MailLog`: the keys, foreign keys and conditional updates of `001_mail_log.sql`, on the state."""

    def __init__(self, state: NotificationState) -> None:
        self._state = state

    async def add_order(self, *, order_id: str, shop_id: str, source: OrderSource, snapshot: OrderSnapshot) -> None:
        if order_id not in self._state.orders:
            self._state.orders[order_id] = StoredOrder(shop_id=shop_id, source=source,
                                                       snapshot=copy.deepcopy(snapshot))

    async def order_snapshot(self, order_id: str) -> OrderSnapshot | None:
        order = self._state.orders.get(order_id)
        return copy.deepcopy(order.snapshot) if order is not None else None

    async def next_mail_event(self, order_id: str) -> NextMailEvent:
        order = self._state.orders.get(order_id)
        if order is None:
            raise LookupError(f"no order {order_id!r} in the mail log")
        self._state.orders[order_id] = replace(order, events_emitted=order.events_emitted + 1)
        return NextMailEvent(source=order.source, version=order.events_emitted)

    async def add_mail(self, mail: Mail) -> bool:
        if mail.order_id not in self._state.orders or (mail.resend_of and mail.resend_of not in self._state.mails):
            raise LookupError(f"mail {mail.mail_id} refers to an order or mail not in the log")
        if mail.kind not in KINDS:
            raise ValueError(f"unknown mail kind {mail.kind!r}")
        if any(_same_row(mail, other) for other in self._state.mails.values()):
            return False
        self._state.mails[mail.mail_id] = _as_stored(mail)
        return True

    async def add_mails(self, mails: Sequence[Mail]) -> int:
        return sum([await self.add_mail(mail) for mail in mails])

    async def get_mail(self, mail_id: str) -> Mail | None:
        return self._state.mails.get(mail_id)

    async def list_mails(self, *, shop_id: str, order_id: str | None = None, status: str | None = None,
                         limit: int = 100) -> list[Mail]:
        found = [m for m in self._state.mails.values() if m.shop_id == shop_id
                 and (order_id is None or m.order_id == order_id) and (status is None or m.status.value == status)]
        found.sort(key=lambda m: m.kind)
        found.sort(key=lambda m: m.created_at, reverse=True)
        return found[:limit]

    async def claim_due(self, *, now: datetime, limit: int, held: Collection[str] = ()) -> list[Mail]:
        due = [m for m in self._state.mails.values() if _due(m, now) and m.mail_id not in held]
        return sorted(due, key=lambda m: m.next_attempt_at or now)[:limit]

    async def save_mail(self, mail: Mail, *, expected_attempts: int | None = None) -> bool:
        stored = self._state.mails.get(mail.mail_id)
        if stored is None or (expected_attempts is not None and stored.attempts != expected_attempts):
            return False
        # identity columns (order, shop, kind, resend_of, Message-ID, creation) are never updated
        self._state.mails[mail.mail_id] = _as_stored(replace(
            mail, order_id=stored.order_id, shop_id=stored.shop_id, kind=stored.kind, resend_of=stored.resend_of,
            message_id=stored.message_id, created_at=stored.created_at))
        return True

    async def shop(self, shop_id: str) -> ShopProfile | None:
        stored = self._state.shops.get(shop_id)
        return stored[0] if stored is not None else None

    async def save_shop(self, shop: ShopProfile, *, as_of: datetime) -> bool:
        stored = self._state.shops.get(shop.shop_id)
        if stored is not None and stored[1] > as_of:
            return False
        self._state.shops[shop.shop_id] = (shop, as_of)
        return True

    async def retry_waiting_for_shop(self, shop_id: str, *, now: datetime) -> int:
        waiting = [m for m in self._state.mails.values() if m.shop_id == shop_id and _waiting(m, now)]
        for mail in waiting:
            self._state.mails[mail.mail_id] = replace(mail, next_attempt_at=now)
        return len(waiting)

    async def member_contact(self, shop_id: str, member_id: str) -> MemberContact | None:
        return self._state.members.get((shop_id, member_id))

    async def save_member_contact(self, contact: MemberContact) -> bool:
        stored = self._state.members.get((contact.shop_id, contact.member_id))
        if stored is not None and stored.as_of > contact.as_of:
            return False
        self._state.members[(contact.shop_id, contact.member_id)] = contact
        return True

    async def retry_waiting_for_member(self, shop_id: str, member_id: str, *, now: datetime) -> int:
        waiting = [m for m in self._state.mails.values() if m.kind in CARD_KINDS and _waiting(m, now)
                   and self._state.orders[m.order_id].shop_id == shop_id
                   and self._state.orders[m.order_id].snapshot.get("member_id") == member_id]
        for mail in waiting:
            self._state.mails[mail.mail_id] = replace(mail, next_attempt_at=now)
        return len(waiting)


def _same_row(mail: Mail, other: Mail) -> bool:
    """The unique keys of `mails`: the id, the Message-ID, one original per order and kind."""
    original_twin = (mail.resend_of is None and other.resend_of is None
                     and (mail.order_id, mail.kind) == (other.order_id, other.kind))
    return mail.mail_id == other.mail_id or mail.message_id == other.message_id or original_twin


def _as_stored(mail: Mail) -> Mail:
    """As the table gives it back: the content's recipient is the row's `recipient` column."""
    if mail.content is None:
        return mail
    return replace(mail, content=replace(mail.content, recipient=mail.recipient))


def _waiting(mail: Mail, now: datetime) -> bool:
    """Pending, never composed, and not due yet: waiting for what it lacks (the shop's settings, an address)."""
    return (mail.status is MailStatus.PENDING and mail.content is None and mail.next_attempt_at is not None
            and mail.next_attempt_at > now)


def _due(mail: Mail, now: datetime) -> bool:
    if mail.status is MailStatus.PENDING:
        return mail.next_attempt_at is not None and mail.next_attempt_at <= now
    return mail.status is MailStatus.SENDING and mail.lease_until is not None and mail.lease_until <= now


class FakeNotificationUnitOfWork(FakeUnitOfWork[NotificationState]):
    SERVICE = "notification"

    def __init__(self, state: NotificationState) -> None:
        super().__init__(state)
        self.mail_log = FakeMailLog(state)


class FakeMailTransport:
    """`MailTransport` as the local SMTP sink answers it: refusals on demand (451 temporary, 554 permanent,
    at MAIL FROM), recipients in `.invalid` refused (550 5.1.1), everything else accepted and kept in `sent`."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []
        self._refusing: str | None = None
        self._remaining: int | None = None
        self._queue_ids = itertools.count(1)

    def refuse(self, mode: str, *, count: int | None = None) -> None:
        """Refuse the next `count` mails (all, without a count) `temporary` or `permanent`; `normal` accepts."""
        if mode not in ("normal", "temporary", "permanent"):
            raise ValueError(f"mode must be normal, temporary or permanent, not {mode!r}")
        self._refusing, self._remaining = (None if mode == "normal" else mode), count

    async def send(self, mail: OutgoingMail) -> SendResult:
        refusal = self._refusal()
        if refusal is not None:
            return refusal
        if mail.content.recipient.lower().rstrip(".").endswith(".invalid"):
            return SendResult("permanent", "recipient refused: 550 5.1.1 fake: no such domain (.invalid)")
        self.sent.append(mail)
        return SendResult("accepted", f"250 2.0.0 OK: queued as fake-{next(self._queue_ids)}")

    def _refusal(self) -> SendResult | None:
        if self._refusing is None or self._remaining == 0:
            self._refusing = None
            return None
        if self._remaining is not None:
            self._remaining -= 1
        if self._refusing == "temporary":
            return SendResult("temporary", "SMTPSenderRefused: 451 4.3.0 fake: temporarily refusing mail")
        return SendResult("permanent", "SMTPSenderRefused: 554 5.7.1 fake: refusing mail permanently")


class FakeRenderer:
    """`Renderer`: a short subject, text and HTML from the context; `RenderError` for an unknown kind or a
    missing variable (as the strict Jinja templates), and for a kind told to `fail` (a broken override). An
    order's mails name the order; a card notice names its reference (`notice_id`) and the buyer."""

    NEEDS = ("shop_name", "order_id", "buyer_name", "total")
    NOTICE_NEEDS = ("shop_name", "notice_id", "buyer_name", "changed_on")
    TITLES: ClassVar[dict[str, str]] = {
        "thanks": "ご注文ありがとうございます", "shop_copy": "受注通知",
        "renewal_failed_shop": "定期購入の決済エラー", "renewal_failed_buyer": "定期購入のお支払いについてのお願い",
        "renewal_skipped_shop": "定期購入の決済未実施", "renewal_skipped_buyer": "定期購入のお支払いについてのご連絡",
        "card_replaced": "ご登録カードが変更されました", "card_removed": "ご登録カードが削除されました",
        "card_expiring": "ご登録カードの有効期限についてのお願い",
    }

    def __init__(self) -> None:
        self._failing: dict[str, str] = {}

    def fail(self, kind: str, reason: str = "TemplateSyntaxError: unexpected '}'") -> None:
        self._failing[kind] = reason

    def render(self, kind: str, *, shop_id: str, context: dict[str, Any]) -> RenderedMail:
        if kind not in KINDS:
            raise RenderError(f"template error in {kind} mail: TemplatesNotFound: no template for {kind!r}")
        notice = kind in CARD_KINDS
        missing = [name for name in (self.NOTICE_NEEDS if notice else self.NEEDS) if name not in context]
        if kind in self._failing or missing:
            reason = self._failing.get(kind) or f"UndefinedError: {missing[0]!r} is undefined"
            raise RenderError(f"template error in {kind} mail: {reason}")
        if notice:
            subject = f"【{context['shop_name']}】{self.TITLES[kind]}"
            name = f"{context['buyer_name']} 様" if context["buyer_name"] else "お客様"
            text = f"{name}\n{context['changed_on']}\n{context['notice_id']}\n"
        else:
            subject = f"【{context['shop_name']}】{self.TITLES[kind]}（ご注文番号：{context['order_id']}）"
            text = f"{context['buyer_name']} 様\nご注文番号：{context['order_id']}\n合計：{context['total']:,}円\n"
        return RenderedMail(subject=subject, text=text, html=f"<pre>{text}</pre>")


class FixedClock:
    """`Clock` that stands still until a test moves it."""

    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


class RecordingWakeup:
    """`SendWakeup` that counts how often the dispatcher would have been woken."""

    def __init__(self) -> None:
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1


class NotificationFakes:
    """Every fake on one committed state, and the `Deps` that wire them (rules: `RULES` unless given)."""

    def __init__(self, *, rules: DispatchRules = RULES) -> None:
        self.state = NotificationState()
        self.uow = FakeUnitOfWorkFactory(self.state, FakeNotificationUnitOfWork)
        self.transport = FakeMailTransport()
        self.renderer = FakeRenderer()
        self.clock = FixedClock()
        self.wakeup = RecordingWakeup()
        self.deps = Deps(uow=self.uow, renderer=self.renderer, transport=self.transport, clock=self.clock,
                         wakeup=self.wakeup, rules=rules)
