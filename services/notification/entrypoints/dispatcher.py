"""The mail dispatcher: a background task that sends due mails from the mail log.

Why not send from the Kafka handler: a refusing or slow SMTP server would hold the order's consumer lane
for the whole backoff. Here a temporary failure only moves the row's `next_attempt_at`; the loop keeps
sending other mails. It claims at most `concurrency` mails at a time (`FOR UPDATE SKIP LOCKED`, so several
replicas share the work), wakes at once when the consumer records new mails, and otherwise polls for due
retries every `poll_interval_s`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from delivery.cancellation import cancel_all, cancel_and_wait, wait_event
from services.notification.domain.model import Mail
from services.notification.handlers import NotificationHandlers
from services.notification.settings import DispatchSettings

log = logging.getLogger(__name__)


class MailDispatcher:
    def __init__(self, handlers: NotificationHandlers, settings: DispatchSettings):
        self._handlers = handlers
        self._settings = settings
        self._wakeup = asyncio.Event()
        self._inflight: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="mail-dispatcher")

    def wake(self) -> None:
        self._wakeup.set()

    @property
    def healthy(self) -> bool:
        return self._loop is not None and not self._loop.done()

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    async def stop(self, timeout: float) -> None:
        """Graceful: claim nothing more, let running conversations finish (bounded), then cancel the rest.
        A mail cancelled mid-send stays `sending` and is tried again after its lease."""
        await cancel_and_wait(self._loop)
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=timeout)
        await self.abort()

    async def abort(self) -> None:
        """As a crash would: drop everything in flight now (tests, kill paths)."""
        await cancel_and_wait(self._loop)
        await cancel_all(list(self._inflight))

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            self._wakeup.clear()
            free = self._settings.concurrency - len(self._inflight)
            wanted = min(free, self._settings.batch_size)
            if wanted > 0:
                try:
                    claimed = await self._handlers.claim_due_mails(limit=wanted)
                    backoff = 0.1
                except Exception:
                    log.exception("mail dispatcher: claiming due mails failed; retrying in %.1fs", backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                for mail in claimed:
                    self._spawn(mail)
                if len(claimed) == wanted:
                    continue  # there may be more due right now
            await wait_event(self._wakeup, self._settings.poll_interval_s)

    def _spawn(self, mail: Mail) -> None:
        task = asyncio.create_task(self._deliver(mail), name=f"mail-{mail.mail_id}")
        self._inflight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._inflight.discard(task)
        self._wakeup.set()

    async def _deliver(self, mail: Mail) -> None:
        try:
            step = await self._handlers.deliver(mail)
        except Exception:
            log.exception("mail %s: delivery step failed; it stays `sending` until its lease ends", mail.mail_id)
            return
        log.info("mail %s (%s of order %s): %s after %d attempt(s)", mail.mail_id, mail.kind, mail.order_id,
                 step.mail.status.value, step.mail.attempts)

