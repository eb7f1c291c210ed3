"""The local supervisor restarts what dies (with backoff, saying so) and stops everything on request."""

from __future__ import annotations

import io
import sys

from deploy.local.supervisor import Supervisor
from tests.waiting import eventually

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
CRASHER = [sys.executable, "-c", "print('crashing', flush=True); raise SystemExit(3)"]


async def test_a_killed_program_is_restarted_and_the_others_keep_running():
    out = io.StringIO()
    supervisor = Supervisor(out, backoff_s=0.05)
    supervisor.add("steady", SLEEPER)
    supervisor.add("victim", SLEEPER)
    supervisor.start()
    try:
        first, steady = supervisor.pid("victim"), supervisor.pid("steady")
        assert supervisor.kill("victim") == first

        async def restarted():
            pid = supervisor.pid("victim")
            return pid if pid not in (None, first) else None

        await eventually(restarted, timeout=10, message="victim restarted")
        assert supervisor.pid("steady") == steady and supervisor.programs["victim"].restarts == 1
        assert "victim exited with signal SIGKILL" in out.getvalue()
    finally:
        supervisor.stop(timeout=5)
    assert all(p.process is not None and p.process.poll() is not None for p in supervisor.programs.values())


async def test_a_program_that_keeps_failing_is_restarted_with_a_growing_backoff():
    out = io.StringIO()
    supervisor = Supervisor(out, backoff_s=0.05, max_backoff_s=0.2)
    supervisor.add("crasher", CRASHER)
    supervisor.start()
    try:
        async def three_restarts():
            return supervisor.programs["crasher"].restarts >= 3

        await eventually(three_restarts, timeout=20, message="three restarts")
    finally:
        supervisor.stop(timeout=5)
    log = out.getvalue()
    assert "crasher    | crashing" in log and "exited with code 3" in log
    assert "restart 1 in 0.05s" in log and "restart 2 in 0.10s" in log and "restart 3 in 0.20s" in log
