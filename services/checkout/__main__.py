"""`python -m services.checkout [all|api|worker]`: run the checkout service (`delivery.roles`): the HTTP API on
CHECKOUT_HTTP_PORT (default 8001), the consumer of payment outcomes, or both (the default)."""

import sys

from delivery.roles import run_service
from services.checkout.app import create_app
from services.checkout.settings import CheckoutSettings

settings = CheckoutSettings()
run_service(name="checkout", build=lambda role: create_app(settings, role=role), settings=settings,
            argv=sys.argv[1:])
