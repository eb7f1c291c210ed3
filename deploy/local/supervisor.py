"""A process supervisor that restarts, as a container orchestrator would (issue 17).

Runs named commands, prefixes each line of their output with the name, and when one dies without being asked
to, logs it and starts it again after a backoff (doubling from `backoff_s` up to `max_backoff_s` while a process
dies before it is healthy, as a crash loop does; back to `backoff_s` for a process that was healthy when it died or
lived `stable_s`). With `standby=True` a program run as `python -m MODULE` keeps a warm standby
(`deploy.local.standby`: its imports done, waiting), so a restart skips the seconds Python spends importing; the
next standby starts as soon as the program has logged its imports done (its start's CPU work is nearly done, so
the standby hardly competes with it; what is left, waiting for the database, the broker or the group, may take
long on a bad day) or answers healthy, or `standby_delay_s` after the start for a program without a health URL.
`make run` and the chaos run use it; the chaos run also kills processes through it (`kill`) and reads how often
each was restarted.

Each start is timed: for `start_probe_s` after a start the health URL is polled every 0.1 s, and the first 200 is
logged with the start's phases, from the previous process's exit (`payment healthy 0.62s after the exit: restarted
from its standby at 0.20s, imports done 0.35s, database ready 0.38s, serving 0.41s, partitions assigned 0.52s`):
the phases are the service's own log lines (`delivery.service`, uvicorn), read as they pass.

A program added with a `health` URL is also restarted when it stays unhealthy without exiting, as an orchestrator's
liveness probe would: polled every `probe_interval_s` (5 s: each /health asks PostgreSQL and the Kafka broker, so
polling every second cost the idle stack ~30 core-ms/s), a process that has not answered 200 for `unhealthy_after_s`
(counted from its last 200, or from its start while it never answered, with `start_timeout_s` instead) is killed
(SIGKILL, logged with the reason), and the restart follows the same backoff as any exit.

Every process it starts is registered with an `OrphanGuard` (its own, or the owner's shared one), so none outlives
the supervisor's process however that ends (SIGKILL included): `stop()` is the graceful way, the guard the backstop.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from deploy.local.orphan_guard import OrphanGuard


@dataclass(kw_only=True)
class Program:
    """One supervised command and its life so far."""

    name: str
    command: list[str]
    env: dict[str, str] | None = None
    cwd: str | None = None
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff_s: float = 0.0
    exits: list[int] = field(default_factory=list)
    spare: subprocess.Popen | None = None
    health: str | None = None
    healthy_at: float | None = None
    healthy_now: bool = False
    unhealthy_kills: int = 0
    exited_at: float | None = None
    phases: dict[str, float] = field(default_factory=dict)
    launched: threading.Event = field(default_factory=threading.Event)
    """Set at each start: the health probe stops its long wait and times the new process from its start."""
    """What this start reached and when (seconds after the previous process exited, or after this start)."""


PHASES = {"imports done": "starting (imports done)", "database ready": "database ready", "serving":
          "Application startup complete", "Kafka connected": "Kafka producer connected",
          "partitions assigned": "partitions assigned"}
"""A start's phases as the services log them (`delivery.service`, uvicorn, `delivery.consumer`)."""
FAST_PROBE_S = 0.1


class Supervisor:
    """Starts programs, restarts the ones that die, stops them all on `stop()`."""

    def __init__(self, out: TextIO | None = None, *, backoff_s: float = 0.2, max_backoff_s: float = 10.0,
                 stable_s: float = 30.0, standby: bool = False, standby_delay_s: float = 5.0,
                 unhealthy_after_s: float = 30.0, start_timeout_s: float = 120.0,
                 probe_interval_s: float = 5.0, start_probe_s: float = 10.0,
                 guard: OrphanGuard | None = None) -> None:
        self.out = out or sys.stdout
        self.backoff_s, self.max_backoff_s, self.stable_s = backoff_s, max_backoff_s, stable_s
        self.programs: dict[str, Program] = {}
        self.on_start: list[Callable[[Program], None]] = []
        self._lock = threading.Lock()
        self._spare_lock = threading.Lock()
        self._stopping = threading.Event()
        self._liveness_paused = threading.Event()
        self._width = len("supervisor")
        self.standby, self.standby_delay_s = standby, standby_delay_s
        self.unhealthy_after_s, self.start_timeout_s = unhealthy_after_s, start_timeout_s
        self.probe_interval_s, self.start_probe_s = probe_interval_s, start_probe_s
        self._own_guard = guard is None  # a shared guard is the owner's to close (after its other servers)
        self.guard = guard or OrphanGuard()

    def add(self, name: str, command: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None,
            health: str | None = None) -> None:
        self.programs[name] = Program(name=name, command=command, env=env, cwd=cwd, backoff_s=self.backoff_s,
                                      health=health)
        self._width = max(self._width, len(name))

    def say(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self._width}} | {line.rstrip()}\n")
            self.out.flush()

    def start(self) -> None:
        self.guard.start()
        for program in self.programs.values():
            self._launch(program)
            threading.Thread(target=self._watch, args=(program,), daemon=True, name=f"watch-{program.name}").start()
            if program.health is not None:
                threading.Thread(target=self._probe, args=(program,), daemon=True,
                                 name=f"probe-{program.name}").start()

    def _launch(self, program: Program) -> None:
        spare, program.spare = program.spare, None
        if spare is not None and spare.poll() is None and spare.stdin is not None:
            spare.stdin.write("go\n")
            spare.stdin.flush()
            program.process, how = spare, "from its standby"
        else:
            program.process, how = self._popen(program, program.command), "cold"
        program.started_at, program.healthy_at, program.healthy_now = time.monotonic(), None, False
        program.launched.set()
        program.phases = {f"restarted {how}": self._since_exit(program)} if program.exited_at is not None else {}
        self.say("supervisor", f"{program.name} started {how} (pid {program.process.pid})")
        for hook in self.on_start:
            hook(program)
        if self._keeps_standby(program) and program.health is None:
            timer = threading.Timer(self.standby_delay_s, self._prepare_spare, args=(program,))
            timer.daemon = True
            timer.start()

    @staticmethod
    def _since_exit(program: Program) -> float:
        return time.monotonic() - (program.exited_at if program.exited_at is not None else program.started_at)

    def _note_phase(self, program: Program, line: str) -> None:
        for phase, marker in PHASES.items():
            if phase not in program.phases and marker in line:
                program.phases[phase] = self._since_exit(program)
                if phase == "imports done" and self._keeps_standby(program):  # its start's CPU work is nearly done:
                    self._prepare_spare(program)  # what is left (database, broker, group join) may take long

    def _keeps_standby(self, program: Program) -> bool:
        return self.standby and program.command[1:2] == ["-m"]

    def _became_healthy(self, program: Program) -> None:
        """The start's first 200: log its timeline, then prepare the next restart's standby."""
        took = self._since_exit(program)
        since = "the exit" if program.exited_at is not None else "the start"
        phases = ", ".join(f"{name} {at:.2f}s" for name, at in sorted(program.phases.items(), key=lambda kv: kv[1]))
        self.say("supervisor", f"{program.name} healthy {took:.2f}s after {since}: {phases or 'no phase logged'}")
        if self._keeps_standby(program):
            self._prepare_spare(program)

    def _popen(self, program: Program, command: list[str], *, spare: bool = False) -> subprocess.Popen:
        process = subprocess.Popen(
            command, env=program.env, cwd=program.cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if spare else subprocess.DEVNULL, text=True, errors="replace", bufsize=1,
            start_new_session=True)
        self.guard.group(process.pid)
        return process

    def _prepare_spare(self, program: Program) -> None:
        """A standby for the program's next restart (started once the program is up, not competing with it)."""
        with self._spare_lock:  # the watcher (serving) and the prober (healthy) may both ask for it
            if self._stopping.is_set() or program.spare is not None:
                return
            command = [program.command[0], "-m", "deploy.local.standby", *program.command[2:]]
            program.spare = self._popen(program, command, spare=True)

    def _watch(self, program: Program) -> None:
        while True:
            process = program.process
            assert process is not None and process.stdout is not None
            for line in process.stdout:
                self.say(program.name, line)
                if program.healthy_at is None and program.process is process:
                    self._note_phase(program, line)
            code = process.wait()
            self.guard.forget(process.pid)
            program.exits.append(code)
            program.exited_at = time.monotonic()
            if self._stopping.is_set():
                return
            lived = program.exited_at - program.started_at
            if lived >= self.stable_s or program.healthy_now:  # not a crash loop: it came up before it died
                program.backoff_s = self.backoff_s
            delay = program.backoff_s
            program.backoff_s = min(program.backoff_s * 2, self.max_backoff_s)
            program.restarts += 1
            self.say("supervisor", f"{program.name} exited with {_describe(code)} after {lived:.1f}s; "
                                   f"restart {program.restarts} in {delay:.2f}s")
            if self._stopping.wait(delay):
                return
            self._launch(program)

    def _probe(self, program: Program) -> None:
        """The liveness watch: kill a process whose health check has not answered 200 for too long."""
        assert program.health is not None
        while not self._stopping.is_set():
            program.launched.wait(self._probe_interval(program))
            program.launched.clear()
            if self._stopping.is_set():
                return
            process = program.process
            if process is None or process.poll() is not None:
                continue  # exited: the watcher restarts it
            now = time.monotonic()
            program.healthy_now = _answers_ok(program.health, timeout=min(self.probe_interval_s * 2, 5.0))
            if program.healthy_now and program.healthy_at is None and process is program.process:
                self._became_healthy(program)
            if self._liveness_paused.is_set() or program.healthy_now:
                program.healthy_at = now
                continue
            since = program.healthy_at if program.healthy_at is not None else program.started_at
            limit = self.unhealthy_after_s if program.healthy_at is not None else self.start_timeout_s
            if now - since >= limit and process is program.process and process.poll() is None:
                state = "unhealthy" if program.healthy_at is not None else "not healthy since its start"
                self.say("supervisor", f"{program.name} {state} for {now - since:.1f}s (health check "
                                       f"{program.health}); killing pid {process.pid} to restart it")
                program.unhealthy_kills += 1
                _signal_group(process.pid, signal.SIGKILL)

    def _probe_interval(self, program: Program) -> float:
        """Every 0.1 s while a start is young and not yet healthy (its timeline), else `probe_interval_s`."""
        starting = program.healthy_at is None and time.monotonic() - program.started_at < self.start_probe_s
        return min(FAST_PROBE_S, self.probe_interval_s) if starting else self.probe_interval_s

    def pause_liveness(self) -> None:
        """No more kills for staying unhealthy (exits are still restarted): e.g. while a checker reads the stack."""
        self._liveness_paused.set()

    def pid(self, name: str) -> int | None:
        process = self.programs[name].process
        return process.pid if process is not None and process.poll() is None else None

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int | None:
        """Signal the program's process group (as `kill -9` would); the watcher restarts it. Returns the pid."""
        pid = self.pid(name)
        if pid is not None:
            self.say("supervisor", f"sending {signal.Signals(sig).name} to {name} (pid {pid})")
            os.killpg(pid, sig)
        return pid

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM every program (its graceful shutdown), SIGKILL what is left after `timeout`."""
        self._stopping.set()
        for program in self.programs.values():
            if program.spare is not None and program.spare.poll() is None:
                _signal_group(program.spare.pid, signal.SIGKILL)
                program.spare.wait(10)
                self.guard.forget(program.spare.pid)
        live = [p.process for p in self.programs.values() if p.process is not None and p.process.poll() is None]
        for process in live:
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in live:
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(10)
        if self._own_guard:
            self.guard.close()  # kills whatever a restart racing this stop started

    def wait(self) -> None:
        """Block until `stop()` (from a signal handler or another thread)."""
        self._stopping.wait()


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _answers_ok(url: str, *, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own loopback health URL
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _describe(code: int) -> str:
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"code {code}"
