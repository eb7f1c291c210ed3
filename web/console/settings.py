"""Settings of the console: `CONSOLE_HTTP_HOST`/`CONSOLE_HTTP_PORT` (default 127.0.0.1:8010),
`CONSOLE_SECURE_COOKIE` (true behind HTTPS), plus the services' URLs (`WEB_<SERVICE>_URL`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_")

    http_host: str = "127.0.0.1"
    http_port: int = 8010
    secure_cookie: bool = False
    page_size: int = 20
