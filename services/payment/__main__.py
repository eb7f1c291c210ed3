"""`python -m services.payment [all|api|worker]`: run the payment service (`delivery.roles`): the HTTP API on
PAYMENT_HTTP_PORT (default 8002), the consumer and the renewal retry worker, or both (the default)."""

import sys

from delivery.roles import run_service
from services.payment.app import create_app
from services.payment.settings import PaymentSettings

settings = PaymentSettings()
run_service(name="payment", build=lambda role: create_app(settings, role=role), settings=settings,
            argv=sys.argv[1:])
