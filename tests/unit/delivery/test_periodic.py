"""The periodic worker every service's background loop runs on (`delivery/periodic.py`)."""

from __future__ import annotations

import asyncio

from delivery.periodic import PeriodicWorker
from tests.waiting import eventually


class Work:
    """Passes that find `batches` of work, then nothing; a pass may fail once."""

    def __init__(self, batches: list[int], *, fail_first: bool = False) -> None:
        self.batches, self.fail_first, self.passes = list(batches), fail_first, 0

    async def one_pass(self) -> int:
        self.passes += 1
        if self.fail_first and self.passes == 1:
            raise RuntimeError("database went away")
        return self.batches.pop(0) if self.batches else 0


async def test_it_sweeps_until_a_pass_finds_nothing_then_pauses_until_woken():
    work, wake = Work([3, 2]), asyncio.Event()
    worker = PeriodicWorker("test.worker", work.one_pass, interval_s=60.0, wake=wake)
    worker.start()
    try:
        await eventually(lambda: asyncio.sleep(0, work.passes == 3), timeout=5, message="three passes")
        await asyncio.sleep(0.05)
        assert work.passes == 3 and worker.healthy  # idle: pausing for its interval, not polling
        work.batches = [1]
        wake.set()
        await eventually(lambda: asyncio.sleep(0, work.passes == 5), timeout=5, message="swept again once woken")
    finally:
        await worker.stop()
    assert not worker.healthy


async def test_a_failed_pass_is_logged_and_retried_after_the_backoff(capsys):
    work = Work([1], fail_first=True)
    worker = PeriodicWorker("test.flaky", work.one_pass, interval_s=60.0, min_pause_s=0.01)
    worker.start()
    try:
        await eventually(lambda: asyncio.sleep(0, work.passes >= 3), timeout=5, message="retried after the failure")
        assert worker.healthy
    finally:
        await worker.stop()
    assert "test.flaky.pass_failed" in capsys.readouterr().out


async def test_stop_lets_a_pass_in_flight_finish_within_its_drain_time():
    finished = []

    async def slow_pass() -> int:
        await asyncio.sleep(0.2)
        finished.append(True)
        return 0

    worker = PeriodicWorker("test.drain", slow_pass, interval_s=60.0, drain_s=5.0)
    worker.start()
    await asyncio.sleep(0.05)
    await worker.stop()
    assert finished == [True] and not worker.healthy

    cut = PeriodicWorker("test.cut", slow_pass, interval_s=60.0)  # no drain time: cancelled at once
    finished.clear()
    cut.start()
    await asyncio.sleep(0.05)
    await cut.stop()
    assert finished == [] and not cut.healthy
