"""The local supervisor restarts what dies (with backoff, saying so) and stops everything on request."""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

from deploy.local.supervisor import Supervisor
from tests.waiting import eventually

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
ROOT = Path(__file__).resolve().parents[3]
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


async def test_a_program_restarts_from_its_warm_standby_which_has_already_imported_it(tmp_path):
    (tmp_path / "slowstart").mkdir()
    (tmp_path / "slowstart" / "__init__.py").write_text("")
    (tmp_path / "slowstart" / "app.py").write_text(  # each process marks when it imported the app
        f"import os, time\nIMPORTED_AT = time.time()\nopen(os.path.join({str(tmp_path)!r}, str(os.getpid())), 'w')\n")
    (tmp_path / "slowstart" / "__main__.py").write_text(
        "import sys, time\nfrom slowstart.app import IMPORTED_AT\n"
        "print('imported at', IMPORTED_AT, 'args', sys.argv[1:], flush=True)\ntime.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}:{ROOT}"}
    out = io.StringIO()
    supervisor = Supervisor(out, backoff_s=0.05, standby=True, standby_delay_s=0.0)
    supervisor.add("slow", [sys.executable, "-m", "slowstart", "--flag"], env=env)
    supervisor.start()
    try:
        first = supervisor.pid("slow")

        async def spare_ready():
            spare = supervisor.programs["slow"].spare
            return spare is not None and spare.poll() is None

        await eventually(spare_ready, timeout=10, message="standby started")
        spare_pid = supervisor.programs["slow"].spare.pid

        async def spare_imported():
            return (tmp_path / str(spare_pid)).exists()

        await eventually(spare_imported, timeout=10, message="standby imported the app")
        killed_at = time.time()
        supervisor.kill("slow")

        async def promoted():
            return supervisor.pid("slow") == spare_pid and "from its standby" in out.getvalue() and \
                out.getvalue().count("args ['--flag']") == 2

        await eventually(promoted, timeout=10, message="restarted from the standby")
        assert first != spare_pid
        [_, second] = [line for line in out.getvalue().splitlines() if "imported at" in line]
        assert float(second.split("imported at ")[1].split()[0]) < killed_at  # imported before the kill, not after
    finally:
        supervisor.stop(timeout=5)
