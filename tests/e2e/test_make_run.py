"""`make run`'s runner brings the whole system up, says READY, restarts a service killed with -9 (the rest keeps
running), and Ctrl-C leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from deploy.local.kafka import free_port
from tests.e2e.processes import alive, descendants, kill_and_await_health
from tests.e2e.stack import wait_for_line

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def test_the_runner_prints_ready_with_urls_and_ctrl_c_stops_everything(pg_admin_url, tmp_path):
    ports = {name: free_port() for name in ("CHECKOUT", "PAYMENT", "SUBSCRIPTION", "NOTIFICATION", "CONSOLE",
                                               "STOREFRONT")}
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    env.update({f"{name}_HTTP_PORT": str(port) for name, port in ports.items()})
    env.update(DATABASE_URL=pg_admin_url, KAFKA_PORT=str(free_port()), KAFKA_RUN_DIR=str(tmp_path / "kafka"),
               ESCOTT_EMULATOR_PORT=str(free_port()), SMTP_SINK_PORT=str(free_port()),
               SMTP_SINK_HTTP_PORT=str(free_port()), SMTP_SINK_MAILDIR=str(tmp_path / "Maildir"))
    log = open(tmp_path / "run.log", "w+")  # noqa: SIM115 - read back while the runner writes
    runner = subprocess.Popen([sys.executable, "-m", "deploy.local.run"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output = wait_for_line(tmp_path / "run.log", "READY", runner, timeout=150)
        for port in ports.values():
            assert f"http://127.0.0.1:{port}" in output
            assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["status"] == "ok"
        started = descendants(runner.pid)
        assert len(started) >= 9  # broker, emulator, SMTP sink, four services, console, storefront
        assert "demo-storefront-key" in output
        restart_s = kill_and_await_health(started, "services.payment", f"http://127.0.0.1:{ports['PAYMENT']}/health")
        assert "payment exited with signal SIGKILL" in (tmp_path / "run.log").read_text()
        print(f"payment healthy {restart_s:.1f}s after kill -9")
        started |= descendants(runner.pid)
        os.killpg(runner.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        returncode = runner.wait(timeout=90)
        left = [pid for pid in started if alive(pid)]
        assert left == [], f"processes left behind: {left}"
        assert returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
        log.close()

