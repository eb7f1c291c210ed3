"""Traces (OpenTelemetry) along the order path, off unless an OTLP endpoint is configured.

One trace per storefront checkout: the HTTP request (`POST /v1/checkouts`, FastAPI instrumentation), the outbox
row it writes (its `traceparent` is stored with the row's headers, `add_to_outbox`), the relay's publish (a
PRODUCER span; the Kafka record carries *its* `traceparent`, W3C Trace Context), each consumer's handling of
the record (a CONSUMER span, child of the publish), what the handler calls inside it (payment's e-SCOTT call
`escott <OperateId>`), the events it emits (outbox again), and notification's SMTP conversations (`smtp send`,
child of the handling that recorded the mail: the mail row keeps the `traceparent`).

Configuration: the standard variables. `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` set
(and `OTEL_SDK_DISABLED` not `true`) turns tracing on: spans are batched and sent by OTLP/HTTP (protobuf) to that
endpoint, `service.name` is the service (`OTEL_SERVICE_NAME` overrides it), `OTEL_TRACES_SAMPLER` and the
exporter's other variables apply as documented by OpenTelemetry. Unset, no provider exists: nothing is wrapped
(consumers call the handlers directly), the tracer is a no-op, and a row's or a record's cost is one context
lookup. Tests install their own providers with `use_providers` (e.g. an in-memory exporter).

Nothing secret goes into a span: no request headers or bodies are recorded, e-SCOTT spans carry the OperateId,
the outcome and the result codes only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:  # delivery.outbox imports this module (trace_headers): keep its imports light
    from aiokafka.structs import ConsumerRecord
    from fastapi import FastAPI

    from delivery.consumer import Handle
    from delivery.outbox import OutboxRow, Publish

T = TypeVar("T")
ProviderFactory = Callable[[str], TracerProvider | None]
INSTRUMENTATION = "payments-backend"
TRACEPARENT = "traceparent"
_W3C = TraceContextTextMapPropagator()
_factory: ProviderFactory | None = None


def use_providers(factory: ProviderFactory | None) -> None:
    """Tests: `factory(service)` gives each service runtime built from now on its provider (None: untraced);
    `use_providers(None)` goes back to the environment's configuration."""
    global _factory
    _factory = factory


def provider_from_environment(service: str) -> TracerProvider | None:
    """A provider exporting by OTLP/HTTP when an endpoint is configured; None otherwise."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    if not (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or service
    provider = TracerProvider(resource=Resource.create({"service.name": name}))  # reads OTEL_TRACES_SAMPLER
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


class Tracing:
    """One service's tracing: its provider (None when off), its tracer and the hooks the runtime installs."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._owned = _factory is None  # a provider from the environment is ours to flush and shut down
        self.provider = provider_from_environment(service) if _factory is None else _factory(service)
        self.tracer: Tracer = (self.provider.get_tracer(INSTRUMENTATION) if self.provider is not None
                               else trace.NoOpTracer())

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    def instrument_http(self, app: FastAPI) -> None:
        """Server spans for the app's requests (trace context read from `traceparent`); not for health/metrics."""
        if self.provider is None:
            return
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, tracer_provider=self.provider, excluded_urls="/health,/metrics",
                                           exclude_spans=["receive", "send"])

    def traced_handle(self, handle: Handle[T], *, group_id: str) -> Handle[T]:
        """`handle` inside a CONSUMER span whose parent is the record's `traceparent`; `handle` itself when off."""
        if self.provider is None:
            return handle
        tracer = self.tracer

        async def traced(message: T, record: ConsumerRecord) -> None:
            attributes = {"messaging.system": "kafka", "messaging.destination.name": record.topic,
                          "messaging.consumer.group.name": group_id,
                          "messaging.destination.partition.id": str(record.partition),
                          "messaging.kafka.offset": record.offset}
            with tracer.start_as_current_span(f"{record.topic} process", context=record_context(record.headers),
                                              kind=SpanKind.CONSUMER, attributes=attributes):
                await handle(message, record)

        return traced

    def traced_publish(self, publish: Publish) -> Publish:
        """The relay's publish with a PRODUCER span per traced row; the record carries the span's context."""
        if self.provider is None:
            return publish
        tracer = self.tracer

        async def traced(rows: Sequence[OutboxRow]) -> None:
            spans: list[Span] = []
            sent: list[OutboxRow] = []
            for row in rows:
                parent = _parent(row.headers)
                if parent is None:
                    sent.append(row)
                    continue
                span = tracer.start_span(f"{row.topic} publish", context=parent, kind=SpanKind.PRODUCER,
                                         attributes={"messaging.system": "kafka",
                                                     "messaging.destination.name": row.topic})
                spans.append(span)
                sent.append(_with_context(row, span))
            try:
                await publish(sent)
            except BaseException as exc:
                for span in spans:
                    span.record_exception(exc)
                raise
            finally:
                for span in spans:
                    span.end()

        return traced

    async def shutdown(self) -> None:
        """Flush and stop a provider built from the environment (bounded by the exporter's own timeout)."""
        if self.provider is not None and self._owned:
            await asyncio.to_thread(self.provider.shutdown)


def trace_headers() -> list[tuple[str, bytes]]:
    """The current span's `traceparent` (and `tracestate`) as record headers; none outside a span."""
    if not trace.get_current_span().get_span_context().is_valid:
        return []
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return [(name, value.encode()) for name, value in carrier.items()]


def current_traceparent() -> str | None:
    """The current span's W3C `traceparent` (kept with work done later, e.g. a mail), None outside a span."""
    for name, value in trace_headers():
        if name == TRACEPARENT:
            return value.decode()
    return None


def record_context(headers: Sequence[tuple[str, bytes]] | None) -> Context | None:
    """The trace context a Kafka record's headers carry (None: a new trace)."""
    return _parent(headers or ())


@contextmanager
def span_after(tracer: Tracer, traceparent: str | None, name: str, **attributes: Any) -> Iterator[Span]:
    """A span continuing the trace of `traceparent` (work picked up later: a mail sent by the dispatcher)."""
    context = _W3C.extract({TRACEPARENT: traceparent}) if traceparent else None
    with tracer.start_as_current_span(name, context=context, attributes=attributes) as span:
        yield span


def _parent(headers: Sequence[tuple[str, bytes]]) -> Context | None:
    carrier = {name: value.decode(errors="replace") for name, value in headers
               if name in (TRACEPARENT, "tracestate")}
    return _W3C.extract(carrier) if TRACEPARENT in carrier else None


def _with_context(row: OutboxRow, span: Span) -> OutboxRow:
    carrier: dict[str, str] = {}
    _W3C.inject(carrier, context=trace.set_span_in_context(span))
    headers = [(n, v) for n, v in row.headers if n not in carrier] + [(n, v.encode()) for n, v in carrier.items()]
    return dataclasses.replace(row, headers=headers)
