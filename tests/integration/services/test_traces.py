"""One order, one trace (delivery/tracing.py): checkout, payment and notification in this process on real
PostgreSQL and Kafka, the emulator over HTTP and the SMTP sink; every service's spans go to one in-memory
exporter. The storefront's `POST /v1/checkouts` starts a trace that the outbox rows, the Kafka record headers
(W3C traceparent), the consumers, the e-SCOTT call and both SMTP conversations continue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pydantic import SecretStr

from delivery import tracing
from delivery.settings import ConsumerSettings
from deploy.local.smtp_sink import RunningSink, smtp_sink
from emulator.testing import RunningEmulator, serve_emulator
from services.checkout.app import create_app as create_checkout
from services.checkout.settings import CheckoutSettings
from services.notification.app import create_app as create_notification
from services.notification.settings import DispatchSettings, NotificationSettings, SmtpSettings
from services.payment.app import create_app as create_payment
from tests.integration.checkout.harness import ADMIN_TOKEN, CARD_SETTINGS, CARRIERS, checkout_body
from tests.integration.payment.conftest import settings_for
from tests.integration.payment.support import DEMO, INTERNAL_TOKEN
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
KEY = {"X-Operator-Key": "operator-key-of-the-tea-shop"}


@dataclass(kw_only=True)
class System:
    checkout: httpx.AsyncClient
    emulator: RunningEmulator
    sink: RunningSink
    spans: InMemorySpanExporter


@pytest.fixture
def exporter() -> AsyncIterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()

    def provider(service: str) -> TracerProvider:
        built = TracerProvider(resource=Resource.create({"service.name": service}))
        built.add_span_processor(SimpleSpanProcessor(spans))
        return built

    tracing.use_providers(provider)
    yield spans
    tracing.use_providers(None)


@pytest.fixture
async def system(new_database, isolated_kafka, exporter, tmp_path: Path) -> AsyncIterator[System]:
    fast = ConsumerSettings(backoff_initial_s=0.05, backoff_max_s=0.2, commit_interval_s=0.05)
    async with serve_emulator(seed=16) as emulator, smtp_sink(tmp_path / "Maildir") as sink:
        payment_app = create_payment(settings_for(await new_database(), isolated_kafka, emulator.url))
        to_payment = httpx.ASGITransport(app=payment_app)
        checkout_app = create_checkout(CheckoutSettings(
            database_url=await new_database(), kafka=isolated_kafka, admin_token=ADMIN_TOKEN, consumer=fast,
            payment_url="http://payment", payment_internal_token=INTERNAL_TOKEN), payment_transport=to_payment)
        notification_app = create_notification(NotificationSettings(
            database_url=await new_database(), kafka=isolated_kafka, internal_token=SecretStr("n" * 32),
            smtp=SmtpSettings(host=sink.host, port=sink.smtp_port), consumer=fast,
            dispatch=DispatchSettings(poll_interval_s=0.1)))
        async with (payment_app.router.lifespan_context(payment_app),
                    checkout_app.router.lifespan_context(checkout_app),
                    notification_app.router.lifespan_context(notification_app),
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=checkout_app), base_url="http://c") as c):
            yield System(checkout=c, emulator=emulator, sink=sink, spans=exporter)


async def storefront_key(system: System) -> dict[str, str]:
    created = await system.checkout.post("/admin/v1/shops", headers={"X-Admin-Token": ADMIN_TOKEN}, json={
        "shop_id": "tea", "shop_name": "お茶の店", "operator_key": KEY["X-Operator-Key"],
        "mail": {"sender_address": "info@tea.example.jp", "shop_copy_address": "orders@tea.example.jp"}})
    assert created.status_code == 201, created.text
    for method, path, body in (("POST", "/payment-methods", {"method": "escott_card"}),
                               ("PUT", "/payment-methods/escott_card", CARD_SETTINGS),
                               ("PUT", "/carriers", CARRIERS), ("PUT", "/gateway-credentials", DEMO)):
        response = await system.checkout.request(method, f"/v1/shops/tea{path}", json=body, headers=KEY)
        assert response.status_code in (200, 204), (path, response.text)
    return {"X-Storefront-Key": created.json()["storefront_key"]}


def named(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


async def test_one_order_is_one_trace_from_the_checkout_request_to_both_mails(system: System) -> None:
    storefront = await storefront_key(system)
    form = {"k_TokenNinsyoCode": "DEMOTOKEN0001", "CardNo": "4111111111111111", "CardExp": "3012"}
    async with httpx.AsyncClient(base_url=system.emulator.url) as emulator:
        token = (await emulator.post("/_emulator/tokens", data=form)).text.removeprefix("token=")
    system.spans.clear()  # the shop's setup made traces of its own
    outcome = (await system.checkout.post("/v1/checkouts", params={"wait": 20}, headers=storefront,
                                          json=checkout_body("chk-traced", payment__token=token))).json()
    assert outcome["status"] == "completed", outcome

    [request] = [s for s in system.spans.get_finished_spans()
                 if s.kind is SpanKind.SERVER and s.attributes.get("http.route") == "/v1/checkouts"]
    trace_id = request.context.trace_id

    async def of_the_order() -> list[ReadableSpan] | None:
        spans = [s for s in system.spans.get_finished_spans() if s.context.trace_id == trace_id]
        return spans if len(named(spans, "smtp send")) == 2 else None

    spans = await eventually(of_the_order, timeout=30, message="both mails' SMTP spans in the order's trace")
    by_id = {s.context.span_id: s for s in spans}
    assert request.parent is None, "the storefront's request starts the trace"
    assert all(s.parent is not None and s.parent.span_id in by_id for s in spans if s is not request), \
        "every other span hangs under the request, through spans of the same trace"
    services = {s.resource.attributes["service.name"] for s in spans}
    assert services == {"checkout", "payment", "notification"}
    [auth] = named(spans, "escott 1Auth")
    assert (auth.resource.attributes["service.name"], auth.attributes["escott.outcome"]) == ("payment", "ok")
    consumed = {(s.resource.attributes["service.name"], s.attributes["messaging.destination.name"])
                for s in spans if s.kind is SpanKind.CONSUMER}
    assert {("payment", "orders.events"), ("checkout", "payments.events"),
            ("notification", "orders.events")} <= {(svc, topic.split(".", 1)[1]) for svc, topic in consumed}
    for consumer in (s for s in spans if s.kind is SpanKind.CONSUMER):
        assert by_id[consumer.parent.span_id].kind is SpanKind.PRODUCER, "each record continues its publish span"
    chain, span = [], named(spans, "smtp send")[0]
    while span.parent is not None:
        chain.append(span.name)
        span = by_id[span.parent.span_id]
    assert span is request and "escott 1Auth" not in chain  # the mail follows the order's events, not the call
    assert {m[1]["To"] for m in system.sink.messages()} >= {"orders@tea.example.jp"}
    text = "".join(str(s.attributes) for s in spans)
    assert token not in text and "4111111111111111" not in text
