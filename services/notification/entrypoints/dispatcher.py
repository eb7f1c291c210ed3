"""The mail dispatcher: a background task that sends due mails from the mail log.

Why not send from the Kafka handler: a refusing or slow SMTP server would hold the order's consumer lane
for the whole backoff. Here a temporary failure only moves the row's `next_attempt_at`; the loop keeps
sending other mails. It claims at most `concurrency` mails at a time (`FOR UPDATE SKIP LOCKED`, so several
replicas share the work), wakes at once when a handler recorded new due mails (`wake`, the `SendWakeup` of the
handlers' `Deps`), and otherwise polls for due retries every `poll_interval_s`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Tracer

from delivery.cancellation import cancel_all, cancel_and_wait, wait_event
from delivery.logs import get_logger
from delivery.tracing import span_after
from services.notification.domain.model import Mail
from services.notification.handlers import sending
from services.notification.handlers.deps import Deps
from services.notification.settings import DispatchSettings

log = get_logger(__name__)


class MailDispatcher:
    """Built with the app (it is the handlers' wakeup), started by the service's resources with the `Deps`."""

    def __init__(self, settings: DispatchSettings):
        self._settings = settings
        self._tracer: Tracer = trace.NoOpTracer()
        self._wakeup = asyncio.Event()
        self._inflight: dict[asyncio.Task[Any], str] = {}
        """Each running conversation and the id of its mail: those are never claimed again while they run."""
        self._loop: asyncio.Task[None] | None = None
        self._deps: Deps | None = None

    def start(self, deps: Deps, *, tracer: Tracer | None = None) -> None:
        """Run the loop; `tracer` records each SMTP conversation as `smtp send`, in the trace of the mail's work."""
        self._tracer = tracer or self._tracer
        self._deps = deps
        self._loop = asyncio.create_task(self._run(deps), name="mail-dispatcher")

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
        """As a crash would: drop everything in flight now (tests, kill paths), results not yet committed too."""
        await cancel_and_wait(self._loop)
        if self._deps is not None:
            await self._deps.together.abort()
        await cancel_all(list(self._inflight))

    async def _run(self, deps: Deps) -> None:
        backoff = 0.1
        while True:
            self._wakeup.clear()
            wanted = min(self._settings.concurrency - len(self._inflight), self._settings.batch_size)
            if wanted > 0:
                try:
                    claimed = await sending.claim_due_mails(deps, limit=wanted, held=list(self._inflight.values()))
                    backoff = 0.1
                except Exception:
                    log.exception("dispatcher.claim_failed", retry_in_s=backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                for mail in claimed:
                    self._spawn(deps, mail)
                if len(claimed) == wanted:
                    continue  # there may be more due right now
                # fewer than asked: nothing else was due; a mail finishing now frees a slot nobody waits for
            await wait_event(self._wakeup, self._settings.poll_interval_s)

    def _spawn(self, deps: Deps, mail: Mail) -> None:
        task = asyncio.create_task(self._deliver(deps, mail), name=f"mail-{mail.mail_id}")
        self._inflight[task] = mail.mail_id
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        saturated = len(self._inflight) >= self._settings.concurrency  # the loop found no free slot to claim with
        self._inflight.pop(task, None)
        if saturated:  # due mails may be waiting for this slot (else new ones wake us: `wake`)
            self._wakeup.set()

    async def _deliver(self, deps: Deps, mail: Mail) -> None:
        try:
            with span_after(self._tracer, mail.trace, "smtp send", **{"mail.kind": mail.kind}) as span:
                step = await sending.deliver_mail(deps, mail)
                span.set_attribute("mail.status", step.mail.status.value)
        except Exception:
            log.exception("mail.delivery_step_failed", mail_id=mail.mail_id)  # it stays `sending` until its lease ends
            return
        log.info("mail.attempted", mail_id=mail.mail_id, kind=mail.kind, order_id=mail.order_id,
                 status=step.mail.status.value, attempts=step.mail.attempts)
