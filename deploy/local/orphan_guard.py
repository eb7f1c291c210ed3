"""A dead man's switch for a process that starts others (`make run`, the chaos run): nothing it started outlives it.

The owner starts the guard (`OrphanGuard.start`), a small process in its own session, and tells it over a pipe
what it starts: a process group (a supervised program), a process (the Kafka broker) or a command to run at the end
(`pg_ctl stop -m immediate` for a PostgreSQL cluster, whose server `pg_ctl` daemonizes). When the pipe closes —
the owner closed it, exited, or was killed by any signal, SIGKILL included — the guard SIGKILLs every registered
group and process still alive and runs the commands, then exits. Signal handlers and PR_SET_PDEATHSIG alone cannot
promise this: SIGKILL runs no handler, and a parent-death signal fires when the *thread* that forked exits (the
supervisor restarts programs from its watcher threads) and never reaches a daemonized server.

A registered pid is remembered with its start time (/proc/PID/stat), so a pid the kernel handed to another process
meanwhile is never signalled. Lines on the pipe: `group PID`, `process PID`, `forget PID`, `command JSON-ARGV`.

    python -m deploy.local.orphan_guard    # reads the lines on stdin; tears down at EOF
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT_S = 60.0


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class OrphanGuard:
    """The owner's end: registers what it starts; `close()` (or the owner's death) tears it all down."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def start(self) -> OrphanGuard:
        if self._process is None:
            self._process = subprocess.Popen(  # its own session: a signal to the owner's group does not reach it
                [sys.executable, "-m", "deploy.local.orphan_guard"], stdin=subprocess.PIPE, cwd=ROOT, text=True,
                start_new_session=True)
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _tell(self, line: str) -> None:
        with self._lock:
            if self._process is None or self._process.stdin is None or self._process.stdin.closed:
                return
            with contextlib.suppress(BrokenPipeError, ValueError):  # the guard is gone: nothing to tell
                self._process.stdin.write(line + "\n")
                self._process.stdin.flush()

    def group(self, pid: int) -> None:
        """The process group led by `pid` (started with `start_new_session`) dies with the owner."""
        self._tell(f"group {pid}")

    def process(self, pid: int) -> None:
        self._tell(f"process {pid}")

    def forget(self, pid: int) -> None:
        """`pid` (a group or a process) ended or was stopped by the owner: nothing to do for it at the end."""
        self._tell(f"forget {pid}")

    def command(self, argv: list[str]) -> None:
        """Run `argv` at the end (after the kills), whatever the owner's state then."""
        self._tell(f"command {json.dumps(argv)}")

    def close(self, timeout: float = COMMAND_TIMEOUT_S + 10) -> None:
        """Tear down what is still registered now, and wait for the guard to finish."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _signal(pid: int, born: str | None, *, group: bool) -> None:
    now = start_time(pid)
    if now is not None and now != born:
        return  # the pid belongs to another process now
    with contextlib.suppress(ProcessLookupError, PermissionError):
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)  # a group outlives its leader: killpg reaches it


def guard(lines) -> None:
    """Record the owner's lines until EOF, then kill and run what they registered."""
    groups: dict[int, str | None] = {}
    processes: dict[int, str | None] = {}
    commands: list[list[str]] = []
    for line in lines:
        what, _, arg = line.strip().partition(" ")
        if what == "group":
            groups[int(arg)] = start_time(int(arg))
        elif what == "process":
            processes[int(arg)] = start_time(int(arg))
        elif what == "forget":
            groups.pop(int(arg), None)
            processes.pop(int(arg), None)
        elif what == "command" and json.loads(arg) not in commands:  # a restart registers its stop again
            commands.append(json.loads(arg))
    for pid, born in groups.items():
        _signal(pid, born, group=True)
    for pid, born in processes.items():
        _signal(pid, born, group=False)
    for argv in commands:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=COMMAND_TIMEOUT_S, check=False)


def main() -> None:
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):  # a terminal's Ctrl-C or hang-up is for the owner
        signal.signal(sig, signal.SIG_IGN)
    guard(sys.stdin)


if __name__ == "__main__":
    main()
