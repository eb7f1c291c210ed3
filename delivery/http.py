"""The FastAPI shell every service shares: lifespan (logging, runtime start/stop, the service's resources),
`GET /health` and `GET /metrics`.

A service's `create_app` builds its `ServiceRuntime` (nothing connects yet), the parts that need the pool read
`runtime.pool` when they run, and what exists only while the app runs (consumers, HTTP clients, LISTEN
connections, background workers) is a `ServiceResources`: started after the runtime, stopped in reverse order
(after the consumers and before the pool closes, so a worker never outlives its database).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from delivery.logs import configure_logging
from delivery.metrics import ServiceMetrics
from delivery.problems import Refusal, document_problems, install_problem_handlers
from delivery.roles import Role
from delivery.service import ServiceRuntime
from delivery.settings import ServiceSettings
from delivery.storable_text import reject_unstorable_text


class ServiceResources(Protocol):
    """What a service owns only while it runs (consumers, clients, workers): the one composition hook."""

    async def start(self, runtime: ServiceRuntime) -> None:
        """Called once the pool is migrated and the producer and outbox relay run."""

    async def stop(self) -> None:
        """Called after the consumers stopped and before the pool closes; must return within a bound."""


def service_runtime(*, name: str, settings: ServiceSettings, migrations: Path,
                    metrics: ServiceMetrics | None = None) -> ServiceRuntime:
    """The runtime of one service process, built without connecting."""
    return ServiceRuntime(name=name, database_url=settings.database_url, kafka=settings.kafka,
                          migrations=migrations, outbox=settings.outbox, pool_size=settings.db_pool_size,
                          metrics=metrics)


def service_app(runtime: ServiceRuntime, *, settings: ServiceSettings, resources: Sequence[ServiceResources] = (),
                routers: Sequence[APIRouter] = (), refusals: Mapping[type[Exception], Refusal] | None = None,
                role: Role = Role.ALL) -> FastAPI:
    """Build (without connecting) a service's app; everything connects in the lifespan. Every error answers
    problem details (`delivery.problems`), the service's own refusal errors through `refusals`. In the worker
    role (`delivery.roles`) the routers are left out: only `/health` and `/metrics` answer."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(runtime.name, settings.log_level)
        await runtime.start()
        try:
            for resource in resources:
                await runtime.start_resource(resource)
            yield
        finally:
            await runtime.stop()

    title = f"{runtime.name} service" if role.serves_api else f"{runtime.name} worker"
    app = FastAPI(title=title, lifespan=lifespan,
                  dependencies=[Depends(reject_unstorable_text)])

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics (text exposition format)",
             response_class=PlainTextResponse)
    async def prometheus_metrics() -> Response:
        return Response(await runtime.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/health", tags=["ops"], summary="Readiness: database, Kafka, outbox relay and consumers",
             responses={503: {"description": "Failing: the same report, some check false",
                              "content": {"application/json": {"schema": {"type": "object"}}}}})
    async def health() -> JSONResponse:
        report = await runtime.health()
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    runtime.tracing.instrument_http(app)
    install_problem_handlers(app, service=runtime.name, refusals=refusals)
    for router in routers if role.serves_api else ():
        app.include_router(router)
    document_problems(app)
    return app


def serve(app: FastAPI, settings: ServiceSettings, *, port: int | None = None) -> None:
    """Run one service process (`python -m services.<name>`) on `port` (default: the settings' HTTP port)."""
    import uvicorn

    # uvloop as the event loop and httptools as the HTTP parser: the event loop itself was a quarter of a
    # service's CPU under load with asyncio's own (issue 18)
    uvicorn.run(app, host=settings.http_host, port=settings.http_port if port is None else port, log_config=None,
                loop="uvloop", http="httptools",
                timeout_graceful_shutdown=int(settings.consumer.shutdown_timeout_s) + 5)

