"""Fixtures: the internal-API stubs of payment, notification and subscription (real HTTP) and a running checkout
service on this test's database and topics."""

from __future__ import annotations

import io
import logging

import httpx
import pytest
from structlog.stdlib import ProcessorFormatter

from services.checkout.app import create_app
from services.checkout.settings import CheckoutSettings
from tests.integration.checkout.harness import ADMIN_TOKEN, Checkout
from tests.integration.checkout.payment_stub import INTERNAL_TOKEN, serve_payment_stub

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
async def payment_stub():
    async with serve_payment_stub() as stub:
        yield stub


@pytest.fixture
async def notification_stub():
    """The same internal-API stub standing in for the notification service (it takes operator keys too)."""
    async with serve_payment_stub() as stub:
        yield stub


@pytest.fixture
async def subscription_stub():
    """The same stub standing in for the subscription service (operator and storefront keys)."""
    async with serve_payment_stub() as stub:
        yield stub


@pytest.fixture
def checkout_settings(database_url, isolated_kafka, payment_stub, notification_stub,
                      subscription_stub) -> CheckoutSettings:
    return CheckoutSettings(database_url=database_url, kafka=isolated_kafka, admin_token=ADMIN_TOKEN,
                            payment_url=payment_stub.url, payment_internal_token=INTERNAL_TOKEN,
                            notification_url=notification_stub.url, notification_internal_token=INTERNAL_TOKEN,
                            subscription_url=subscription_stub.url, subscription_internal_token=INTERNAL_TOKEN)


@pytest.fixture
async def checkout(checkout_settings):
    app = create_app(checkout_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://checkout") as client:
            yield Checkout(client, checkout_settings.kafka, checkout_settings.database_url)


@pytest.fixture
def service_log(checkout):
    """What the running service logs from now on, as rendered (JSON, redacted) by its own log handler.

    The handler the service installs at start-up writes to the stdout of that moment, which pytest's capture
    replaces between test phases; pointing the same handler at a buffer keeps the real rendering."""
    buffer = io.StringIO()
    handlers = [h for h in logging.getLogger().handlers
                if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, ProcessorFormatter)]
    assert handlers, "the service's log handler is not installed"
    previous = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)
