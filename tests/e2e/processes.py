"""The processes of a running system as /proc shows them: a runner's descendants, whether one still lives, and
killing one with -9 to see the supervisor bring it back."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def cmdline(pid: int) -> bytes:
    """The process's command line (NUL-separated), empty if it has gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def kill_and_await_health(pids: set[int], module: str, health: str, timeout: float = 60.0) -> float:
    """kill -9 the process running `module`; seconds until its health URL answers ok again (the supervisor)."""
    # `-m <module>` exactly: the supervisor's warm standby for the service names the module as an argument too
    [victim] = [pid for pid in pids if f"-m\0{module}\0".encode() in cmdline(pid)]
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    while time.monotonic() - killed < timeout:
        try:
            if httpx.get(health, timeout=2).status_code == 200 and not alive(victim):
                return time.monotonic() - killed
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{module} not healthy again within {timeout}s")
