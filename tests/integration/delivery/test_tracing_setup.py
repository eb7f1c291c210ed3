"""Tracing is off unless an OTLP endpoint is configured (nothing wrapped, no trace headers), and with one the
spans reach it by OTLP/HTTP, named by service, when the runtime stops (delivery/tracing.py)."""

from __future__ import annotations

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from delivery import tracing
from delivery.tracing import Tracing, trace_headers


async def handle(message, record) -> None:
    return None


def test_without_an_endpoint_nothing_is_traced_or_wrapped(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    off = Tracing("payment")
    assert not off.enabled
    assert off.traced_handle(handle, group_id="payment") is handle
    with off.tracer.start_as_current_span("ignored"):
        assert trace_headers() == []


def test_sdk_disabled_wins_over_an_endpoint(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not Tracing("payment").enabled


@pytest.fixture
async def collector():
    received: list[ExportTraceServiceRequest] = []

    async def traces(request: web.Request) -> web.Response:
        assert request.content_type == "application/x-protobuf"
        received.append(ExportTraceServiceRequest.FromString(await request.read()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", received
    await runner.cleanup()


async def test_with_an_endpoint_spans_are_exported_by_otlp_http_at_shutdown(monkeypatch, collector):
    url, received = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    tracing.use_providers(None)
    on = Tracing("payment")
    assert on.enabled
    with on.tracer.start_as_current_span("escott 1Auth"):
        [(name, value)] = trace_headers()
        assert name == "traceparent" and value.startswith(b"00-")
    await on.shutdown()  # flushes the batch
    spans = [(resource.resource, span.name) for request in received for resource in request.resource_spans
             for scope in resource.scope_spans for span in scope.spans]
    assert [name for _, name in spans] == ["escott 1Auth"]
    [(resource, _)] = spans
    assert {a.key: a.value.string_value for a in resource.attributes}["service.name"] == "payment"
