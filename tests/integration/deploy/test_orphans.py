"""Killing a runner (SIGKILL or SIGTERM) leaves none of what it started running: its supervised programs and their
warm standbys, its broker, its PostgreSQL server and that server's backends (issue 17: the chaos run and `make run`
left their whole stack behind when killed from outside)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.orphan_guard import start_time
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[3]
READY_TIMEOUT_S = 120.0
GONE_WITHIN_S = 30.0


def children_of(parents: set[int]) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) in parents:
            found.add(int(stat.parent.name))
    return found


def tree(roots: set[int]) -> set[int]:
    """The roots and every process below them."""
    found, level = set(roots), set(roots)
    while level:
        level = children_of(level) - found
        found |= level
    return found


@pytest.fixture
def work() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="orphans-"))
    path.chmod(0o755)  # the cluster's server runs as `postgres` and must reach its directory
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
async def test_a_killed_runner_leaves_no_process_behind(work, sig):
    parent = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.integration.deploy.orphan_parent",
                                                  str(work), cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    try:
        assert parent.stdout is not None
        async with asyncio.timeout(READY_TIMEOUT_S):  # a failed start closes stdout: an empty line
            line = (await parent.stdout.readline()).decode()
        assert line.startswith("READY "), f"runner did not start: {line!r} (log in {work})"
        started = json.loads(line.removeprefix("READY "))
        everything = tree({parent.pid, started["guard"], started["broker"], started["postmaster"],
                           started["spare"], *started["programs"]})
        assert len(tree({started["postmaster"]})) > 1, "the server's own processes are among those watched"
        born = {pid: start_time(pid) for pid in everything}
        os.kill(parent.pid, sig)
        async with asyncio.timeout(60):
            await parent.wait()

        async def all_gone():
            return not [pid for pid, at in born.items() if at is not None and start_time(pid) == at
                        and "zombie" not in _state(pid)]

        await eventually(all_gone, timeout=GONE_WITHIN_S, interval=0.1, message=f"every process gone after {sig!r}")
    finally:
        if parent.returncode is None:
            parent.kill()
            await parent.wait()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"
