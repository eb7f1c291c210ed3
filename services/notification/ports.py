"""The roles the notification handlers depend on; adapters implement them (style rule 5)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from services.notification.domain.model import CompletedOrder, Mail, MailContent, MailOutcome, ShopProfile


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None


@dataclass(frozen=True)
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

    event_id: str
    correlation_id: str


class MailLog(Protocol):
    """The notification database seen through one open transaction."""

    async def add_order(self, *, order_id: str, shop_id: str, source: OrderSource,
                        snapshot: dict[str, Any]) -> None: ...

    async def add_mail(self, mail: Mail) -> bool: ...

    async def get_mail(self, mail_id: str) -> Mail | None: ...

    async def list_mails(self, *, shop_id: str, order_id: str | None = None, status: str | None = None,
                         limit: int = 100) -> list[Mail]: ...

    async def claim_due(self, *, now: datetime, limit: int) -> list[Mail]: ...

    async def save_mail(self, mail: Mail, *, expected_attempts: int | None = None) -> bool: ...

    async def order(self, order_id: str) -> CompletedOrder | None: ...

    async def shop(self, shop_id: str) -> ShopProfile | None: ...

    async def save_shop(self, shop: ShopProfile, *, as_of: datetime) -> bool: ...

    async def retry_waiting_for_shop(self, shop_id: str, *, now: datetime) -> int: ...

    async def publish(self, outcome: MailOutcome) -> None: ...


class UnitOfWork(Protocol):
    """`async with uow() as log:` one transaction; commits on success, rolls back on an exception."""

    def __call__(self) -> AbstractAsyncContextManager[MailLog]: ...


class RenderError(Exception):
    """A template could not be rendered (syntax error, undefined variable): the mail fails with this reason."""


class Renderer(Protocol):
    def render(self, kind: str, *, shop_id: str, context: dict[str, Any]) -> RenderedMail: ...


class MailTransport(Protocol):
    async def send(self, mail: OutgoingMail) -> SendResult: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
