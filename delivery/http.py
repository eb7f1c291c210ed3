"""The FastAPI shell every service shares: lifespan (logging, runtime start/stop) and `GET /health`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from delivery.logs import configure_logging
from delivery.metrics import ServiceMetrics
from delivery.service import ServiceRuntime
from delivery.settings import ServiceSettings
from delivery.storable_text import reject_unstorable_text

OnStarted = Callable[[ServiceRuntime], Awaitable[None]]


def service_app(*, name: str, settings: ServiceSettings, migrations: Path, on_started: OnStarted | None = None,
                routers: Sequence[APIRouter] = (), metrics: ServiceMetrics | None = None) -> FastAPI:
    """Build (without connecting) a service's app; everything connects in the lifespan. Pass `metrics` when
    the service's own parts (built before the app) record into it."""
    runtime = ServiceRuntime(name=name, database_url=settings.database_url, kafka=settings.kafka,
                             migrations=migrations, outbox=settings.outbox, pool_size=settings.db_pool_size,
                             metrics=metrics)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(name, settings.log_level)
        await runtime.start()
        try:
            if on_started is not None:
                await on_started(runtime)
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=f"{name} service", lifespan=lifespan, dependencies=[Depends(reject_unstorable_text)])
    app.state.runtime = runtime
    app.state.settings = settings

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics (text exposition format)")
    async def prometheus_metrics() -> Response:
        return Response(await runtime.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/health", tags=["ops"], summary="Readiness: database, Kafka, outbox relay and consumers")
    async def health() -> JSONResponse:
        report = await runtime.health()
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    app.add_exception_handler(RequestValidationError, validation_error_without_input)  # type: ignore[arg-type]
    for router in routers:
        app.include_router(router)
    return app


async def validation_error_without_input(_: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's default 422 echoes the input, which may be a password or a key: field and message only."""
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run one service process (`python -m services.<name>`)."""
    import uvicorn

    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None,
                timeout_graceful_shutdown=int(settings.consumer.shutdown_timeout_s) + 5)

