"""Who may call what (design §8, I6): admin token, per-shop operator key, per-shop storefront key.

A key never opens another shop: an operator key used on another shop's path answers 404, as if the shop
did not exist, so keys cannot be used to probe which shops exist.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Header, Path
from pydantic import SecretStr

from services.checkout.domain.shop import Shop
from services.checkout.entrypoints.http.errors import ApiError
from services.checkout.handlers import Deps
from services.checkout.handlers import shops as handlers


def admin_guard(token: SecretStr) -> Callable[[str | None], Awaitable[None]]:
    async def guard(x_admin_token: str | None = Header(default=None)) -> None:
        expected = token.get_secret_value()
        if not expected:
            raise ApiError(401, "admin_disabled", "the admin API is disabled: CHECKOUT_ADMIN_TOKEN is not set")
        if x_admin_token is None or not hmac.compare_digest(x_admin_token.encode(), expected.encode()):
            raise ApiError(401, "unauthorized", "a valid X-Admin-Token header is required")

    return guard


def operator_guard(deps: Deps) -> Callable[..., Awaitable[str]]:
    async def guard(shop_id: str = Path(min_length=1, max_length=128),
                    x_operator_key: str | None = Header(default=None)) -> str:
        if not x_operator_key:
            raise ApiError(401, "unauthorized", "an X-Operator-Key header is required")
        if not await handlers.is_operator(deps, shop_id, x_operator_key):
            raise ApiError(404, "shop_not_found", f"no shop {shop_id!r} for this operator key")
        return shop_id

    return guard


def storefront_guard(deps: Deps) -> Callable[..., Awaitable[Shop]]:
    async def guard(x_storefront_key: str | None = Header(default=None)) -> Shop:
        if not x_storefront_key:
            raise ApiError(401, "unauthorized", "an X-Storefront-Key header is required")
        shop = await handlers.storefront_shop(deps, x_storefront_key)
        if shop is None:
            raise ApiError(401, "unauthorized", "unknown storefront key")
        return shop

    return guard
