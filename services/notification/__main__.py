"""`python -m services.notification`: run the notification service (HTTP on NOTIFICATION_HTTP_PORT, default 8004)."""

from delivery.http import serve
from services.notification.app import create_app
from services.notification.settings import NotificationSettings

settings = NotificationSettings()
serve(create_app(settings), settings)
