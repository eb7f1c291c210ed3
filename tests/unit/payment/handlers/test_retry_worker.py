"""The retry worker (the background loop around `run_due_retries`) on fakes: it runs a retry once the clock
reaches it, without being woken, reports itself healthy while it runs, and stops within its bound."""

from __future__ import annotations

from contracts.events import PaymentAuthorized
from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.gateway import Outcome
from services.payment.entrypoints.retry_worker import RetryWorker
from services.payment.settings import RetrySettings
from tests.fakes.payment import PaymentFakes
from tests.fakes.payment_gateway import answered
from tests.unit.payment.handlers.builders import SHOP, opt_in, outcomes, place, renewal_placed, with_linked_member
from tests.waiting import eventually


async def test_the_worker_runs_a_retry_when_the_clock_reaches_it_and_stops() -> None:
    fakes = PaymentFakes()
    await fakes.add_shop(SHOP)
    await with_linked_member(fakes)
    await opt_in(fakes)
    fakes.gateway.script(Op.AUTH, answered(Outcome.DECLINED, "G55"))
    event = renewal_placed()
    await place(fakes, event)
    worker = RetryWorker(fakes.deps, RetrySettings(poll_interval_s=0.05, min_pause_s=0.01, stop_timeout_s=2))
    worker.start()
    try:
        assert worker.healthy
        fakes.clock.advance(86_400)

        async def authorized() -> bool:
            return any(isinstance(e, PaymentAuthorized) for e in outcomes(fakes, event.order_id))

        await eventually(authorized, timeout=5, message="the retry's authorization")
    finally:
        await worker.stop()
    assert (worker.healthy, fakes.gateway.sent()) == (False, [Op.AUTH, Op.AUTH])
