"""`python -m services.subscription`: run the subscription service (HTTP on SUBSCRIPTION_HTTP_PORT, default 8003)."""

from delivery.http import serve
from services.subscription.app import create_app
from services.subscription.settings import SubscriptionSettings

settings = SubscriptionSettings()
serve(create_app(settings), settings)
