"""Settings of the console: `CONSOLE_HTTP_HOST`/`CONSOLE_HTTP_PORT` (default 127.0.0.1:8010),
`CONSOLE_SECURE_COOKIE` (true behind HTTPS), `CONSOLE_SESSION_KEYS` (Fernet keys, comma-separated: the first seals
the session cookie, all open it; the default is public and for this machine only), `CONSOLE_SESSION_IDLE_S`, plus
the services' URLs (`WEB_<SERVICE>_URL`)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from web.common.sessions import dev_only_key


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_")

    http_host: str = "127.0.0.1"
    http_port: int = 8010
    secure_cookie: bool = False
    page_size: int = 20
    session_keys: SecretStr = SecretStr(dev_only_key("console"))
    session_idle_s: int = 8 * 3600
