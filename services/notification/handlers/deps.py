"""What the handlers need, bundled once by `app.create_app` (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from delivery.batching import Alone
from services.notification.domain.model import RetryPolicy
from services.notification.ports import Clock, MailTransport, Renderer, SendWakeup, UnitOfWorkFactory


@dataclass(frozen=True, kw_only=True)
class DispatchRules:
    """How mails are sent: backoff and attempt limit, the `sending` lease, the Message-ID domain, and the pause
    before retrying a failed `sent`/`failed` mark (doubling, a few tries: a lost mark would be a duplicate)."""

    retry: RetryPolicy
    lease: timedelta
    message_id_domain: str
    record_retry_s: float = 0.2


@dataclass(frozen=True, kw_only=True)
class Deps:
    uow: UnitOfWorkFactory
    renderer: Renderer
    transport: MailTransport
    clock: Clock
    wakeup: SendWakeup
    """Told when new mails are due (recorded, resent, or freed by a shop's settings): the dispatcher claims now."""
    rules: DispatchRules
    together: Alone = field(default_factory=Alone)
    """Runs a send's result (unit 2) with the others finishing about then, in one transaction
    (`delivery.batching.UnitsTogether` in the service; alone, each in its own, by default)."""
