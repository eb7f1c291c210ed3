"""`python -m services.payment`: run the payment service (HTTP on PAYMENT_HTTP_PORT, default 8002)."""

from delivery.http import serve
from services.payment.app import create_app
from services.payment.settings import PaymentSettings

settings = PaymentSettings()
serve(create_app(settings), settings)
