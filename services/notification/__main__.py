"""`python -m services.notification [all|api|worker]`: run the notification service (`delivery.roles`): the HTTP API on
NOTIFICATION_HTTP_PORT (default 8004), the consumer and the mail dispatcher, or both (the default)."""

import sys

from delivery.roles import run_service
from services.notification.app import create_app
from services.notification.settings import NotificationSettings

settings = NotificationSettings()
run_service(name="notification", build=lambda role: create_app(settings, role=role), settings=settings,
            argv=sys.argv[1:])
