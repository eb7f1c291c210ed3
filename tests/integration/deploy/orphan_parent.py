"""A small runner-like parent for the orphan tests: the chaos run's launchers in miniature. It starts an orphan
guard, its own PostgreSQL cluster (`pg_ctl` daemonizes the server), a stand-in broker (a process in its own
session, registered as `LocalKafka` registers the JVM) and, under the supervisor, the real SMTP sink (with its warm
standby) and a sleeper; prints `READY` and the JSON of what it started, then waits to be killed.

    python -m tests.integration.deploy.orphan_parent WORK_DIR
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from deploy.local.kafka import free_port
from deploy.local.orphan_guard import OrphanGuard
from deploy.local.pg_cluster import LocalPostgres
from deploy.local.supervisor import Supervisor
from deploy.local.termination import exit_on_termination_signals

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def main(work: Path) -> None:
    exit_on_termination_signals()
    guard = OrphanGuard().start()
    postgres = LocalPostgres(work / "postgres", guard=guard)
    supervisor = Supervisor(open(work / "stack.log", "w", buffering=1), standby=True, standby_delay_s=0.0,  # noqa: SIM115
                            guard=guard)
    broker = None
    try:
        postgres.start()
        broker = subprocess.Popen(SLEEPER, start_new_session=True)
        guard.process(broker.pid)
        supervisor.add("smtp-sink", [sys.executable, "-m", "deploy.local.smtp_sink", "--host", "127.0.0.1",
                                     "--smtp-port", str(free_port()), "--http-port", str(free_port()),
                                     "--maildir", str(work / "Maildir")])
        supervisor.add("sleeper", SLEEPER)
        supervisor.start()
        while supervisor.programs["smtp-sink"].spare is None:
            time.sleep(0.05)
        started = {"guard": guard.pid, "broker": broker.pid,
                   "postmaster": int((postgres.data / "postmaster.pid").read_text().split()[0]),
                   "programs": [supervisor.pid(name) for name in supervisor.programs],
                   "spare": supervisor.programs["smtp-sink"].spare.pid}
        print("READY " + json.dumps(started), flush=True)
        time.sleep(600)
    finally:  # the graceful way out (SIGTERM); SIGKILL leaves it all to the guard
        supervisor.stop(timeout=5)
        if broker is not None:
            broker.kill()
        postgres.stop()
        guard.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
