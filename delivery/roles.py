"""Service roles: one code base, run as the HTTP API, as the workers, or as both (the default).

`python -m services.<name> [all|api|worker]`:

- `all` (no argument): one process does everything, as before: the HTTP API and the Kafka consumers and
  background workers (mail dispatcher, renewal scheduler, retry worker).
- `api`: the HTTP API only, on `<PREFIX>_HTTP_PORT`. No consumer joins a group, no background worker runs.
- `worker`: the consumers and background workers only. It serves no API; `/health` and `/metrics` are served on
  `<PREFIX>_WORKER_HTTP_PORT` when that is set (a pod's probes, a Prometheus scrape) and nowhere otherwise, so
  several workers on one host need no port each.

Every role starts the same runtime (pool, migrations under an advisory lock, producer, outbox relay): the API
writes to the outbox too, and several relays share one table safely (`delivery.outbox`). Scaling the workers of
one service is scaling its consumer group: Kafka spreads the partitions over them.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fastapi import FastAPI

from delivery.settings import ServiceSettings


class Role(StrEnum):
    ALL = "all"
    API = "api"
    WORKER = "worker"

    @property
    def serves_api(self) -> bool:
        return self is not Role.WORKER

    @property
    def runs_workers(self) -> bool:
        """Consumers and background workers run in this role."""
        return self is not Role.API


@dataclass(frozen=True)
class Invocation:
    role: Role
    http_port: int | None  # from --http-port: overrides the role's port setting (several processes, one env)


def parse_invocation(prog: str, argv: Sequence[str]) -> Invocation:
    parser = argparse.ArgumentParser(prog=prog, description="Run the service in one role (delivery.roles).")
    parser.add_argument("role", nargs="?", choices=[r.value for r in Role], default=Role.ALL.value,
                        help="all (default): API and workers; api: the HTTP API only; worker: consumers and "
                             "background workers (health and metrics on <PREFIX>_WORKER_HTTP_PORT if set)")
    parser.add_argument("--http-port", type=int, default=None,
                        help="serve on this port instead of <PREFIX>_HTTP_PORT (worker: <PREFIX>_WORKER_HTTP_PORT)")
    args = parser.parse_args(list(argv))
    return Invocation(Role(args.role), args.http_port)


def run_service(*, name: str, build: Callable[[Role], FastAPI], settings: ServiceSettings,
                argv: Sequence[str]) -> None:
    """`python -m services.<name> [role] [--http-port N]`: build the app for the role and run it until SIGINT
    or SIGTERM."""
    from delivery import service
    from delivery.http import serve

    service.ON_START_FAILED[0] = service.exit_start_failed  # a real process exits; the supervisor restarts it
    invocation = parse_invocation(f"python -m services.{name}", argv)
    app = build(invocation.role)
    port = invocation.http_port
    if invocation.role is Role.WORKER:
        port = settings.worker_http_port if port is None else port
        if port is None:
            asyncio.run(run_headless(app))
            return
    serve(app, settings, port=port)


async def run_headless(app: FastAPI) -> None:
    """Run the app's lifespan (runtime, consumers, workers) without an HTTP server, until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with app.router.lifespan_context(app):
        await stop.wait()
