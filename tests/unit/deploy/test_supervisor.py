"""The local supervisor restarts what dies (with backoff, saying so) and stops everything on request."""

from __future__ import annotations

import io
import os
import re
import sys
import time
from pathlib import Path

from deploy.local.supervisor import Supervisor
from tests.waiting import eventually

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)"]
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

        await eventually(restarted, timeout=60, message="victim restarted")
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

        await eventually(three_restarts, timeout=60, message="three restarts")
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
        "print('imported at', IMPORTED_AT, 'args', sys.argv[1:], flush=True)\ntime.sleep(600)\n")
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

        await eventually(spare_ready, timeout=60, message="standby started")
        spare_pid = supervisor.programs["slow"].spare.pid

        async def spare_imported():
            return (tmp_path / str(spare_pid)).exists()

        await eventually(spare_imported, timeout=60, message="standby imported the app")
        killed_at = time.time()
        supervisor.kill("slow")

        async def promoted():
            return supervisor.pid("slow") == spare_pid and "from its standby" in out.getvalue() and \
                out.getvalue().count("args ['--flag']") == 2

        await eventually(promoted, timeout=60, message="restarted from the standby")
        assert first != spare_pid
        [_, second] = [line for line in out.getvalue().splitlines() if "imported at" in line]
        assert float(second.split("imported at ")[1].split()[0]) < killed_at  # imported before the kill, not after
    finally:
        supervisor.stop(timeout=5)


HEALTH_SERVER = """
import http.server, os, sys
state = {"answered": 0}
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        state["answered"] += 1  # healthy for its first answers (however slowly they come), then failing for good
        self.send_response(200 if state["answered"] <= int(sys.argv[2]) else 503)
        self.end_headers()
    def log_message(self, *args):
        pass
print("serving", os.getpid(), flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


async def test_a_program_that_stays_unhealthy_without_exiting_is_killed_and_restarted_with_backoff():
    from deploy.local.kafka import free_port

    port = free_port()
    out = io.StringIO()
    supervisor = Supervisor(out, backoff_s=0.05, unhealthy_after_s=1.0, start_timeout_s=60.0,
                            probe_interval_s=0.1)  # a slow start on a busy machine is not what this test kills
    supervisor.add("stuck", [sys.executable, "-c", HEALTH_SERVER, str(port), "2"],
                   health=f"http://127.0.0.1:{port}/health")
    supervisor.add("fine", SLEEPER)  # no health URL: never probed
    supervisor.start()
    try:
        first, fine = supervisor.pid("stuck"), supervisor.pid("fine")

        async def restarted_twice():
            return supervisor.programs["stuck"].restarts >= 2

        await eventually(restarted_twice, timeout=60, message="unhealthy program restarted twice")
        assert supervisor.pid("stuck") != first and supervisor.pid("fine") == fine
    finally:
        supervisor.stop(timeout=5)
    log = out.getvalue()
    # killed once unhealthy for the limit (1 s): never sooner; later only by a busy machine's scheduling
    unhealthy_for = [float(s) for s in re.findall(r"stuck unhealthy for ([0-9.]+)s", log)]
    assert len(unhealthy_for) >= 2 and min(unhealthy_for) >= 1.0, log
    assert "killing pid" in log
    assert "stuck exited with signal SIGKILL" in log and "restart 1 in 0.05s" in log and "restart 2 in 0.10s" in log
    assert supervisor.programs["stuck"].unhealthy_kills >= 2 and supervisor.programs["fine"].restarts == 0


async def test_a_program_never_healthy_is_killed_after_the_start_timeout():
    from deploy.local.kafka import free_port

    port = free_port()  # nothing ever listens there
    out = io.StringIO()
    supervisor = Supervisor(out, backoff_s=0.05, unhealthy_after_s=0.5, start_timeout_s=1.5, probe_interval_s=0.1)
    supervisor.add("mute", SLEEPER, health=f"http://127.0.0.1:{port}/health")
    supervisor.start()
    started = time.monotonic()
    try:
        async def killed():
            return supervisor.programs["mute"].unhealthy_kills >= 1

        await eventually(killed, timeout=60, message="never-healthy program killed")
        assert time.monotonic() - started >= 1.5  # the start timeout, not the shorter unhealthy limit
    finally:
        supervisor.stop(timeout=5)
    [waited, *_] = re.findall(r"mute not healthy since its start for ([0-9.]+)s", out.getvalue())
    assert float(waited) >= 1.5  # the start timeout, not the shorter unhealthy limit


SERVICE_LIKE = """
import http.server, sys
print('{"event": "svc: starting (imports done)"}', flush=True)
print('{"event": "svc: database ready, migrations applied now: none"}', flush=True)
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health)
print('{"event": "Application startup complete."}', flush=True)
server.serve_forever()
"""


def service_like_module(tmp_path: Path) -> dict[str, str]:
    """`python -m servicelike PORT`: logs a service's start phases, then answers its health check."""
    (tmp_path / "servicelike").mkdir()
    (tmp_path / "servicelike" / "__init__.py").write_text("")
    (tmp_path / "servicelike" / "__main__.py").write_text(SERVICE_LIKE)
    return {**os.environ, "PYTHONPATH": f"{tmp_path}:{ROOT}"}


async def test_a_restart_logs_its_phases_once_healthy_and_the_next_standby_starts_once_imports_are_done(tmp_path):
    from deploy.local.kafka import free_port

    port = free_port()
    out = io.StringIO()
    supervisor = Supervisor(out, backoff_s=0.05, standby=True, standby_delay_s=600.0)  # never by the timer
    supervisor.add("svc", [sys.executable, "-m", "servicelike", str(port)], env=service_like_module(tmp_path),
                   health=f"http://127.0.0.1:{port}/health")
    supervisor.start()
    try:
        async def standby_up():
            spare = supervisor.programs["svc"].spare
            return spare is not None and spare.poll() is None

        await eventually(standby_up, timeout=60, message="standby started once the program's imports were done")
        supervisor.kill("svc")

        async def healthy_again():
            return re.search(r"svc healthy ([0-9.]+)s after the exit: (.*)", out.getvalue())

        took, phases = (await eventually(healthy_again, timeout=60, message="healthy after the restart")).groups()
        named = dict(re.findall(r"([a-z ]+?) ([0-9.]+)s(?:, |$)", phases))
        assert list(named) == ["restarted from its standby", "imports done", "database ready", "serving"], phases
        assert all(0 <= float(at) <= float(took) for at in named.values()), phases
    finally:
        supervisor.stop(timeout=5)


async def test_a_program_killed_while_healthy_restarts_after_the_initial_backoff_each_time(tmp_path):
    from deploy.local.kafka import free_port

    port = free_port()
    out = io.StringIO()
    supervisor = Supervisor(out, backoff_s=0.05, max_backoff_s=5.0)
    supervisor.add("svc", [sys.executable, "-m", "servicelike", str(port)], env=service_like_module(tmp_path),
                   health=f"http://127.0.0.1:{port}/health")
    supervisor.start()
    try:
        for kill in range(1, 4):
            async def healthy(count=kill):  # the start before this kill answered its health check
                return out.getvalue().count("svc healthy ") >= count and supervisor.programs["svc"].healthy_now

            await eventually(healthy, timeout=60, message=f"healthy before kill {kill}")
            supervisor.kill("svc")

            async def restarted(count=kill):
                return supervisor.programs["svc"].restarts >= count

            await eventually(restarted, timeout=60, message=f"restart {kill}")
    finally:
        supervisor.stop(timeout=5)
    log = out.getvalue()
    assert all(f"restart {n} in 0.05s" in log for n in (1, 2, 3)), log  # no crash-loop backoff for a healthy one
