"""`python -m services.subscription [all|api|worker]`: run the subscription service (`delivery.roles`): the HTTP API on
SUBSCRIPTION_HTTP_PORT (default 8003), the consumer and the renewal scheduler, or both (the default)."""

import sys

from delivery.roles import run_service
from services.subscription.app import create_app
from services.subscription.settings import SubscriptionSettings

settings = SubscriptionSettings()
run_service(name="subscription", build=lambda role: create_app(settings, role=role), settings=settings,
            argv=sys.argv[1:])
