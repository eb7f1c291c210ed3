"""`OperatorKeyRegistry` and `StorefrontKeyRegistry` of the subscription service: its operator API opens with the
shop's operator key, its storefront API (the shop's my-page) with the shop's storefront key (I6). Both take the
key's SHA-256 at `PUT /internal/v1/shops/{shop_id}/{operator,storefront}-key {"sha256": ...}`
(`delivery.shop_keys`)."""

from __future__ import annotations

import httpx

from services.checkout.adapters.internal_http import put_json, segment


class SubscriptionServiceClient:
    service = "subscription"

    def __init__(self, client: httpx.AsyncClient):
        self._client = client

    async def put_operator_key(self, shop_id: str, key_sha256: str) -> None:
        await self._put(f"/internal/v1/shops/{segment(shop_id)}/operator-key", key_sha256)

    async def put_storefront_key(self, shop_id: str, key_sha256: str) -> None:
        await self._put(f"/internal/v1/shops/{segment(shop_id)}/storefront-key", key_sha256)

    async def _put(self, path: str, key_sha256: str) -> None:
        await put_json(self._client, path, {"sha256": key_sha256}, service=self.service)
