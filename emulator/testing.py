"""Start the emulator inside the current event loop, on a free port, for tests and benchmarks.

    async with run_emulator() as url:            # "http://127.0.0.1:PORT"
        ...
    async with serve_emulator(seed=7) as emu:    # emu.url, emu.engine (ledger), emu.runtime (faults)
        ...

The server is listening when the context is entered (no polling, no sleeping), and on exit every held
request is released and the port closed.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from emulator.config import DEMO_MERCHANT, EngineConfig, Merchant
from emulator.engine import Engine
from emulator.runtime import DEFAULT_MAX_HOLD_SECONDS, Runtime
from emulator.server import create_app
from emulator.tls import TlsFiles, server_context

BACKLOG = 4096


@dataclass(frozen=True, kw_only=True)
class RunningEmulator:
    """A started emulator: its base URL (and HTTPS URL when started with TLS) and its in-process state."""

    url: str
    engine: Engine
    runtime: Runtime
    https_url: str | None = None


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket; port 0 picks a free one, so parallel test runs never collide."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


async def start_runner(app: web.Application, sock: socket.socket, *,
                       https: tuple[socket.socket, ssl.SSLContext] | None = None) -> web.AppRunner:
    """Serve ``app`` on ``sock`` (and over TLS on ``https``'s socket); handlers are cancelled when their client
    disconnects."""
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=5.0)
    await runner.setup()
    await web.SockSite(runner, sock, backlog=BACKLOG).start()
    if https is not None:
        await web.SockSite(runner, https[0], backlog=BACKLOG, ssl_context=https[1]).start()
    return runner


@asynccontextmanager
async def serve_emulator(
    *, host: str = "127.0.0.1", port: int = 0, merchants: Iterable[Merchant] | None = None,
    config: EngineConfig | None = None, seed: int = 0, max_hold_seconds: float = DEFAULT_MAX_HOLD_SECONDS,
    tls: TlsFiles | None = None,
) -> AsyncIterator[RunningEmulator]:
    """Run an emulator for the duration of the ``async with`` block; with ``tls`` (``emulator.tls``) it also
    serves HTTPS on a second free port (``https_url``, named by ``host``: the certificate covers 127.0.0.1)."""
    engine = Engine(list(merchants) if merchants is not None else [DEMO_MERCHANT], config, seed)
    runtime = Runtime(engine=engine, max_hold_seconds=max_hold_seconds)
    sock = bind_socket(host, port)
    https = (bind_socket(host, 0), server_context(tls)) if tls is not None else None
    runner = await start_runner(create_app(engine, runtime), sock, https=https)
    https_url = f"https://{host}:{https[0].getsockname()[1]}" if https is not None else None
    try:
        yield RunningEmulator(url=f"http://{host}:{sock.getsockname()[1]}", engine=engine, runtime=runtime,
                              https_url=https_url)
    finally:
        await runner.cleanup()


@asynccontextmanager
async def run_emulator(**kwargs: object) -> AsyncIterator[str]:
    """Like :func:`serve_emulator` but yields only the base URL."""
    async with serve_emulator(**kwargs) as running:  # type: ignore[arg-type]
        yield running.url
