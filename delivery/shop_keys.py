"""Per-shop operator keys for services whose operator APIs show a shop's data (design §8, I6).

Checkout creates a shop's operator key and pushes only its SHA-256 to each service with an operator API
(`PUT /internal/v1/shops/{shop_id}/operator-key`, guarded by that service's internal token). An operator call
carries the key in `X-Operator-Key`: 401 without one, 404 (not 403) for a key of another shop, so a key cannot
probe which shops exist. Payment and notification both use these guards.

Storefront keys work the same way for services whose storefront API a shop's my-page calls (subscription):
checkout pushes the digest with `PUT /internal/v1/shops/{shop_id}/storefront-key`, the call carries
`X-Storefront-Key`, and the table is `shop_storefront_keys` (delivery migration 004).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, ClassVar

from fastapi import APIRouter, Depends, Header, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from delivery.units import PoolSource

ShopId = Annotated[str, Field(min_length=1, max_length=128)]
KeyOpens = Callable[[str, str], Awaitable[bool]]


class OperatorKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")


def key_opens(expected_sha256: str | None, key: str) -> bool:
    """The key's SHA-256 equals the digest registered for the shop (constant-time compare)."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    return expected_sha256 is not None and hmac.compare_digest(digest, expected_sha256.lower())


def internal_guard(internal_token: SecretStr) -> Callable[..., Awaitable[None]]:
    async def internal(x_internal_token: Annotated[str | None, Header()] = None) -> None:
        expected = internal_token.get_secret_value().encode()
        if not x_internal_token or not hmac.compare_digest(x_internal_token.encode(), expected):
            raise HTTPException(401, "X-Internal-Token missing or wrong")

    return internal


def operator_guard(opens: KeyOpens) -> Callable[..., Awaitable[None]]:
    """I6: 401 without a key; 404 (not 403) for a key of another shop, so keys cannot probe shops."""

    async def operator(shop_id: ShopId, x_operator_key: Annotated[str | None, Header()] = None) -> None:
        if not x_operator_key:
            raise HTTPException(401, "X-Operator-Key required")
        if not await opens(shop_id, x_operator_key):
            raise HTTPException(404, "not found")

    return operator


def storefront_guard(opens: KeyOpens) -> Callable[..., Awaitable[None]]:
    """I6 for a storefront's calls: 401 without a key; 404 (not 403) for a key of another shop."""

    async def storefront(shop_id: ShopId, x_storefront_key: Annotated[str | None, Header()] = None) -> None:
        if not x_storefront_key:
            raise HTTPException(401, "X-Storefront-Key required")
        if not await opens(shop_id, x_storefront_key):
            raise HTTPException(404, "not found")

    return storefront


class PostgresOperatorKeys:
    """The `shop_operator_keys` table (shop_id, key_sha256, updated_at) of a service's own database."""

    TABLE: ClassVar[str] = "shop_operator_keys"

    def __init__(self, source: PoolSource):
        self._source = source  # the runtime: its pool is read per call, it exists only once started

    async def put(self, shop_id: str, sha256: str) -> None:
        await self._source.pool.execute(
            f"INSERT INTO {self.TABLE} (shop_id, key_sha256) VALUES ($1, $2) "  # noqa: S608 - a class constant
            "ON CONFLICT (shop_id) DO UPDATE SET key_sha256 = $2, updated_at = now()", shop_id, sha256.lower())

    async def opens(self, shop_id: str, key: str) -> bool:
        expected = await self._source.pool.fetchval(
            f"SELECT key_sha256 FROM {self.TABLE} WHERE shop_id = $1", shop_id)  # noqa: S608 - a class constant
        return key_opens(expected, key)


class PostgresStorefrontKeys(PostgresOperatorKeys):
    """The `shop_storefront_keys` table: the same shape and rules for the shops' storefront keys."""

    TABLE: ClassVar[str] = "shop_storefront_keys"


def operator_key_router(keys: PostgresOperatorKeys, internal_token: SecretStr) -> APIRouter:
    """`PUT /internal/v1/shops/{shop_id}/operator-key {"sha256": ...}`: checkout registers a shop's key digest."""
    return _key_router(keys, internal_token, path="/operator-key", role="operator")


def storefront_key_router(keys: PostgresStorefrontKeys, internal_token: SecretStr) -> APIRouter:
    """`PUT /internal/v1/shops/{shop_id}/storefront-key {"sha256": ...}`: the same for the storefront key."""
    return _key_router(keys, internal_token, path="/storefront-key", role="storefront")


def _key_router(keys: PostgresOperatorKeys, internal_token: SecretStr, *, path: str, role: str) -> APIRouter:
    router = APIRouter(prefix="/internal/v1/shops/{shop_id}", tags=["internal"],
                       dependencies=[Depends(internal_guard(internal_token))])

    @router.put(path, status_code=204, summary=f"Register the SHA-256 of the shop's {role} key",
                name=f"put_{role}_key")
    async def put_key(shop_id: ShopId, body: OperatorKeyIn) -> Response:
        await keys.put(shop_id, body.sha256)
        return Response(status_code=204)

    return router
