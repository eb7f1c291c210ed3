"""SIGTERM ends a runner through its `finally` blocks, inside an asyncio loop (its tasks cancelled) and outside."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

IN_A_LOOP = """
import asyncio, os, signal
from deploy.local.termination import exit_on_termination_signals, raise_if_terminated
exit_on_termination_signals()

async def main():
    asyncio.get_running_loop().call_later(0.1, os.kill, os.getpid(), signal.SIGTERM)
    try:
        await asyncio.sleep(120)
    finally:
        print("task unwound", flush=True)

try:
    asyncio.run(main())
except asyncio.CancelledError:
    raise_if_terminated()
finally:
    print("stopped gracefully", flush=True)
"""

OUTSIDE_A_LOOP = """
import os, signal, time
from deploy.local.termination import exit_on_termination_signals
exit_on_termination_signals()
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(120)
finally:
    print("stopped gracefully", flush=True)
"""


def run(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)


def test_sigterm_inside_an_asyncio_loop_cancels_its_tasks_and_exits_128_plus_the_signal():
    done = run(IN_A_LOOP)
    assert done.stdout.splitlines() == ["task unwound", "stopped gracefully"], done.stderr
    assert done.returncode == 128 + signal.SIGTERM


def test_sigterm_outside_a_loop_raises_system_exit_through_the_finally_blocks():
    done = run(OUTSIDE_A_LOOP)
    assert done.stdout.splitlines() == ["stopped gracefully"], done.stderr
    assert done.returncode == 128 + signal.SIGTERM
