"""`python -m services.checkout`: run the checkout service (HTTP on CHECKOUT_HTTP_PORT, default 8001)."""

from delivery.http import serve
from services.checkout.app import create_app
from services.checkout.settings import CheckoutSettings

settings = CheckoutSettings()
serve(create_app(settings), settings)
