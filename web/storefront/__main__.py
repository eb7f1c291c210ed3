"""`python -m web.storefront`: the demo storefront on STOREFRONT_HTTP_PORT (default 8011)."""

import uvicorn

from web.common.settings import ServiceUrls
from web.storefront.app import create_app
from web.storefront.settings import StorefrontSettings

settings = StorefrontSettings()
uvicorn.run(create_app(settings, ServiceUrls()), host=settings.http_host, port=settings.http_port,
            log_level="warning")
