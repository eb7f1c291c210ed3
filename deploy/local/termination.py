"""SIGTERM and SIGHUP (timeout(1), a cancelled CI job, a closed terminal) end a runner the way an error would, so
every `finally` on the way out runs its graceful stops (`make run`'s and the chaos run's orphan guard is the
backstop when even that cannot run: SIGKILL).

Raising from a Python signal handler is not enough: the handler runs in whatever frame the main thread is in, and
an exception raised inside a weakref callback or a finalizer is printed and dropped (a chaos run ignored its
SIGTERM that way and ran to its end). So while an asyncio loop runs, the handler cancels the loop's tasks instead,
from a loop callback; outside a loop it raises `SystemExit`, and `raise_if_terminated` lets the runner check again
between its steps.
"""

from __future__ import annotations

import asyncio
import signal

SIGNALS = (signal.SIGTERM, signal.SIGHUP)
_received: list[int] = []


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


def _on_signal(signum: int, _frame: object) -> None:
    _received.append(signum)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise SystemExit(128 + signum) from None
    loop.call_soon_threadsafe(_cancel_all, loop)


def exit_on_termination_signals() -> None:
    for sig in SIGNALS:
        signal.signal(sig, _on_signal)


def terminated_by() -> int | None:
    """The first termination signal received, if any."""
    return _received[0] if _received else None


def raise_if_terminated() -> None:
    if _received:
        raise SystemExit(128 + _received[0])
