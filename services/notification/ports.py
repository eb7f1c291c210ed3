"""The roles the notification handlers depend on (style rule 5): small Protocols, named for what they do.

Adapters implement them with PostgreSQL (`adapters/postgres/`), SMTP (`adapters/smtp.py`) and Jinja2
(`adapters/templates.py`); `tests/fakes/notification.py` implements each in memory, and
`tests/contract/notification/` holds both to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from delivery.clock import Clock as Clock  # the one clock port, named here beside the others
from delivery.units import InboxOutbox
from services.notification.domain.model import Mail, MailContent, ShopProfile
from services.notification.domain.notices import MemberContact


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None


@dataclass(frozen=True, kw_only=True)
class OutgoingMail:
    """One message ready for SMTP: content plus the headers that make it deterministic."""

    content: MailContent
    message_id: str
    date: datetime
    headers: dict[str, str]


@dataclass(frozen=True)
class SendResult:
    """What the SMTP server said: `accepted`, `temporary` (4xx, connection trouble) or `permanent` (5xx)."""

    status: Literal["accepted", "temporary", "permanent"]
    detail: str


@dataclass(frozen=True)
class OrderSource:
    """Where an order came from: the event that carried it (causation and correlation of our events)."""

    event_id: UUID
    correlation_id: str


@dataclass(frozen=True)
class NextMailEvent:
    """What the next mail event of an order carries: its source (causation and correlation are the order's
    `OrderCompleted`) and its `subject_version`, which counts the order's mail events 0, 1, 2 ..."""

    source: OrderSource
    version: int


OrderSnapshot = dict[str, Any]
"""The `OrderCompleted` (or the event of a card notice) as JSON data, kept so retries and resends can compose the
mail (`translate` reads it)."""


class MailLog(Protocol):
    """The notification tables (order snapshots, the shop projection, the mail log) in one open transaction."""

    async def add_order(self, *, order_id: str, shop_id: str, source: OrderSource, snapshot: OrderSnapshot) -> None:
        """Keep the order's snapshot; an order already kept stays as it was."""

    async def order_snapshot(self, order_id: str) -> OrderSnapshot | None: ...

    async def next_mail_event(self, order_id: str) -> NextMailEvent:
        """Number the order's next mail event (each call counts one); `LookupError` for an unknown order."""

    async def add_mail(self, mail: Mail) -> bool:
        """Insert `mail`; False (nothing written) if its id, Message-ID, or an original of the same order and
        kind exists: the dedupe of redelivered and re-emitted orders and of repeated resends."""

    async def add_mails(self, mails: Sequence[Mail]) -> int:
        """`add_mail` of each of `mails` in their order, at once (one statement on PostgreSQL); how many were new."""

    async def get_mail(self, mail_id: str) -> Mail | None: ...

    async def list_mails(self, *, shop_id: str, order_id: str | None = None, status: str | None = None,
                         limit: int = 100) -> list[Mail]:
        """The shop's mails, newest first (then by kind)."""

    async def claim_due(self, *, now: datetime, limit: int, held: Collection[str] = ()) -> list[Mail]:
        """Due mails, locked for this transaction: `pending` whose time has come, or `sending` whose lease ran
        out; the earliest due first. Other transactions skip them (several replicas share the work). The mails
        `held` (ids of mails the caller is still sending or recording) are never claimed, even past their lease:
        the caller's own result is on its way, and claiming them again would send them twice."""

    async def save_mail(self, mail: Mail, *, expected_attempts: int | None = None) -> bool:
        """Write `mail`'s state; with `expected_attempts`, only if the stored attempts still equal it (False
        otherwise: another worker took the mail over after its lease ran out)."""

    async def shop(self, shop_id: str) -> ShopProfile | None: ...

    async def save_shop(self, shop: ShopProfile, *, as_of: datetime) -> bool:
        """Keep the newest settings only: False (nothing written) for settings older than the stored ones."""

    async def retry_waiting_for_shop(self, shop_id: str, *, now: datetime) -> int:
        """Make the shop's mails that wait for its settings (pending, not yet composed) due now; how many."""

    async def member_contact(self, shop_id: str, member_id: str) -> MemberContact | None:
        """The member's latest name and address in the shop (None: no order of theirs seen)."""

    async def save_member_contact(self, contact: MemberContact) -> bool:
        """Keep the newest contact only: False (nothing written) for one older than the stored one (`as_of`)."""

    async def retry_waiting_for_member(self, shop_id: str, member_id: str, *, now: datetime) -> int:
        """Make the card notices of the member that wait for an address (pending, not yet composed) due now."""


class NotificationUnitOfWork(InboxOutbox, Protocol):
    """One transaction (delivery's inbox claim and outbox, `delivery.units`) with the mail log on it."""

    @property
    def mail_log(self) -> MailLog: ...


class UnitOfWorkFactory(Protocol):
    """`async with deps.uow() as uow:` one transaction; commit on a normal exit, roll back on an exception."""

    def __call__(self) -> AbstractAsyncContextManager[NotificationUnitOfWork]: ...


class RenderError(Exception):
    """A template could not be rendered (syntax error, undefined variable): the mail fails with this reason."""


class Renderer(Protocol):
    def render(self, kind: str, *, shop_id: str, context: dict[str, Any]) -> RenderedMail:
        """The subject (one line), text and optional HTML of a `kind` mail; `RenderError` if it cannot be made."""


class MailTransport(Protocol):
    async def send(self, mail: OutgoingMail) -> SendResult:
        """Hand `mail` to the server; never raises for what the server or the network did (see `SendResult`)."""


class SendWakeup(Protocol):
    def wake(self) -> None:
        """New mails are due: look for them now rather than at the next poll (the mail dispatcher)."""
