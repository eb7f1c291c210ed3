"""Settings of the demo storefront (`STOREFRONT_` variables), plus the services' URLs (`WEB_<SERVICE>_URL`).

STOREFRONT_SHOP_ID / STOREFRONT_KEY   the shop and its storefront key (sent as X-Storefront-Key, server-side only)
STOREFRONT_TOKEN_SCRIPT_BASE          where browsers load the token script (the gateway; locally the emulator)
STOREFRONT_TOKEN_AUTH_CODE            the shop's k_TokenNinsyoCode (public by design: it is in the script tag)
STOREFRONT_PUBLIC_URL                 where buyers reach this storefront (3-D Secure's return page is under it);
                                      empty: the address the request came to
STOREFRONT_SESSION_KEYS               Fernet keys, comma-separated: the first seals the session cookie, all open it
                                      (the default is public and for this machine only)
"""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from web.common.sessions import dev_only_key


class StorefrontSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOREFRONT_")

    http_host: str = "127.0.0.1"
    http_port: int = 8011
    secure_cookie: bool = False
    shop_id: str = "demo-shop-3ds"  # the local demo shop with 3-D Secure on (deploy/local/demo_shop.py)
    key: SecretStr = SecretStr("demo-3ds-storefront-key")
    token_script_base: str = "http://127.0.0.1:8899"  # noqa: S105 (a URL)
    token_auth_code: str = "DEMOTOKEN0001"  # noqa: S105 (public by design: the page's script tag carries it)
    checkout_wait_s: float = 20.0
    public_url: str = ""
    session_keys: SecretStr = SecretStr(dev_only_key("storefront"))
    session_idle_s: int = 8 * 3600
