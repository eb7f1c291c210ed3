"""`python -m web.console`: the operator console on CONSOLE_HTTP_PORT (default 8010)."""

import uvicorn

from web.common.settings import ServiceUrls
from web.console.app import create_app
from web.console.settings import ConsoleSettings

settings = ConsoleSettings()
uvicorn.run(create_app(settings, ServiceUrls()), host=settings.http_host, port=settings.http_port,
            log_level="warning")
